"""taco run as a user who cannot write where it does not need to (s39 review, read-only install):
``--skip-existing`` into a read-only folder whose outputs all exist writes nothing, so it is not
refused for that folder."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import taco.atomic
from taco.cli import main

CODE = ["--caption", "", "-m", "elic-tiny"]


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch):
    """``read_only(folder)``: taco finds ``folder`` takes no new files (EACCES, as for a user
    without write permission there; root ignores mode bits, so it is simulated)."""
    folders: set[Path] = set()
    real = taco.atomic.folder_write_error

    def folder_write_error(folder: Path) -> OSError | None:
        if Path(folder).resolve() in folders:
            return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        return real(folder)

    monkeypatch.setattr(taco.atomic, "folder_write_error", folder_write_error)
    return lambda folder: folders.add(Path(folder).resolve())


def test_compress_skip_existing_into_a_read_only_folder_with_every_output(photos, tmp_path, read_only, capsys):
    """``taco compress a.png b.png -o D/ --skip-existing`` with both outputs in a read-only D was
    refused ("cannot write into D: permission denied", exit 2) although it had nothing to write."""
    out = tmp_path / "out"
    srcs = [str(photos / "a.png"), str(photos / "b.png")]
    assert main(["compress", *srcs, *CODE, "-o", f"{out}/", "--quiet"]) == 0
    read_only(out)
    capsys.readouterr()
    assert main(["compress", *srcs, *CODE, "-o", f"{out}/", "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == "compressed 0 images (2 skipped: their outputs exist)\n"
    # one output still to write: the folder is checked, and refused as before
    (out / "b.taco").unlink()
    assert main(["compress", *srcs, *CODE, "-o", f"{out}/", "--skip-existing"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco compress: error: cannot write into {out}: permission denied")


def test_decompress_skip_existing_into_a_read_only_folder_with_every_output(photos, tmp_path, read_only, capsys):
    tacos, out = tmp_path / "tacos", tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(tacos), "--quiet"]) == 0
    assert main(["decompress", str(tacos), "-o", f"{out}/", "--quiet"]) == 0
    read_only(out)
    capsys.readouterr()
    assert main(["decompress", str(tacos), "-o", f"{out}/", "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert "error" not in captured.err
    assert captured.out.splitlines()[-1].startswith("decompressed 0 files")
    assert captured.out.splitlines()[-1].endswith("(3 skipped: their outputs exist)")
    (out / "c.png").unlink()
    assert main(["decompress", str(tacos), "-o", f"{out}/", "--skip-existing"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco decompress: error: cannot write into {out}: permission denied")


def test_skip_existing_beside_the_sources_checks_only_the_folders_written(photos, tmp_path, read_only, capsys):
    """Outputs beside their sources in two folders: the read-only one whose output exists is
    left alone, the other is written."""
    other = tmp_path / "other"
    other.mkdir()
    (photos / "c.png").rename(other / "c.png")
    a, c = photos / "a.png", other / "c.png"
    assert main(["compress", str(a), *CODE, "--quiet"]) == 0
    read_only(photos)
    capsys.readouterr()
    assert main(["compress", str(a), str(c), *CODE, "--skip-existing", "--quiet"]) == 0
    assert (other / "c.taco").is_file()
    assert "error" not in capsys.readouterr().err


# --------------------------------------------------------------------------- matplotlib's folder


def _plot(tmp_path: Path, out: str, **env: str):  # noqa: ANN202 - a CompletedProcess
    import json
    import subprocess
    import sys

    results = tmp_path / "res"
    results.mkdir(exist_ok=True)
    (results / "jpeg.json").write_text(json.dumps({
        "format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
        "dataset": {"name": "photos", "kind": "folder", "images": 2},
        "points": [{"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0}]}))
    (tmp_path / "tmp").mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items()
            if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "HOME")}
    return subprocess.run([sys.executable, "-m", "taco", "plot", str(results), "-o", f"{tmp_path / out}/",
                           "--metrics", "psnr"], env={**base, "TMPDIR": str(tmp_path / "tmp"), **env},
                          capture_output=True, text=True, timeout=300, check=False)


def test_plot_without_a_home_folder_says_nothing_of_matplotlibs(tmp_path):
    """``HOME=/nonexistent taco plot RESULTS -o out/`` printed matplotlib's "mkdir -p failed ...
    Matplotlib created a temporary cache directory ..." on every run. (HOME is a file here: root
    could make /nonexistent.) matplotlib's temporary folder is still removed at exit."""
    home = tmp_path / "home"
    home.write_text("not a folder")
    run = _plot(tmp_path, "out", HOME=str(home))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert {"rd.png", "rd.svg"} <= {p.name for p in (tmp_path / "out").iterdir()}
    assert list((tmp_path / "tmp").iterdir()) == []
    # an MPLCONFIGDIR of the user's that cannot be used is still said
    run = _plot(tmp_path, "out2", HOME=str(home), MPLCONFIGDIR=str(home / "mpl"))
    assert "mkdir -p failed for path" in run.stderr and run.returncode == 0
