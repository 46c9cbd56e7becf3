"""README.md's wheel command removes build/ first: setuptools' bdist_wheel copies the package
into build/lib and packs what it finds there, so a module deleted since an earlier build (an
old build/ in the checkout) went into the wheel with `pip wheel --no-deps -w dist .` alone."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_readme_wheel_command_removes_build_first() -> None:
    lines = [line for line in README.read_text(encoding="utf-8").splitlines() if "pip wheel" in line]
    assert lines, "README.md no longer says how to make the wheel"
    for line in lines:
        assert line.count("pip wheel") == line.count("`rm -rf build && pip wheel "), (
            f"{line!r}: remove build/ first (stale modules)")
