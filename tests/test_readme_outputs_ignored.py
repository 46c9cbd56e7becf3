"""What README.md's commands and Python API write when run from the repository root, as it says
they run, is ignored by git: after them ``git status`` showed ``?? cat.png``, ``decoded/``,
``piped.png`` and ``cat.decoded.png``. The outputs are read from README's blocks, so a new
command's output is checked too; .gitignore anchors them to the root (a cat.png elsewhere is
not hidden)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def _cli_outputs() -> list[str]:
    """The files taco compress/decompress write in README's bash blocks (-o NAME, > NAME); a
    folder as a file in it (compress writes .taco files, decompress .png)."""
    found = []
    for line in "\n".join(_blocks("bash")).splitlines():
        if line.lstrip().startswith("#"):
            continue
        for command in re.split(r"&&|\|", line.rstrip(" \\")):
            words = shlex.split(command.replace("<", " < ").replace(">", " > "), comments=True)
            if words[:1] != ["taco"] or len(words) < 2 or words[1] not in ("compress", "decompress"):
                continue
            for flag in ("-o", ">"):
                if flag in words[:-1] and words[words.index(flag) + 1] != "-":
                    out = words[words.index(flag) + 1]
                    inside = "skimage-chelsea.taco" if words[1] == "compress" else "skimage-chelsea.png"
                    found.append(out + inside if out.endswith("/") else out)
    return found


def _api_outputs() -> list[str]:
    """The files README's Python blocks write (Path(NAME).write_bytes, image.save(NAME))."""
    found = re.findall(r'Path\("([^"]+)"\)\.write_bytes|\.save\("([^"]+)"\)', "\n".join(_blocks("python")))
    return [written or saved for written, saved in found]


def _ignored(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists()
                    or not (ROOT / ".gitignore").exists(), reason="needs git and a checkout")
def test_readme_outputs_are_ignored_at_the_root_only() -> None:
    outputs = _cli_outputs() + _api_outputs()
    assert {"cat.taco", "cat.png", "decoded/skimage-chelsea.png", "piped.png",
            "cat.decoded.png"} <= set(outputs), outputs
    shown = [p for p in outputs if not _ignored(p)]
    assert not shown, f"git status shows what README writes: {shown}"
    assert not _ignored("docs/cat.png") and not _ignored("taco/assets/samples/decoded/x.png")
