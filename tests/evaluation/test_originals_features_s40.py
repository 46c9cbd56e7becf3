"""F-CD (s40): ``taco evaluate`` into a results folder whose shared ``originals.features/`` is
read-only (``chmod 555``) failed late: with CMMD on and images left to code, it wrote the header
and coded every image, then said ``OUT/DS/originals.features/orig-....npz: permission denied``
(exit 2) when it kept the originals' features, leaving an incomplete JSON and a CSV behind. The
folder is now checked up front with the run's ``STEM.features/`` (only while images are left to
code): refused in one line naming it, before any results file is written.

Real modes: root without the capabilities that bypass them (capsh), as another user meets them."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*colours converted from its"),
    pytest.mark.slow,
]


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def _args(folder: Path, clip: Path, out: Path, coder: list[str]) -> list[str]:
    return ["evaluate", str(folder), *coder, "--fid", "off", "--cmmd-clip", str(clip), "-o", str(out),
            "--no-plot"]


@pytest.mark.parametrize("coder", [["--classic", "jpeg", "--qualities", "jpeg=50"], ["-m", "taco-tiny"]],
                         ids=["classic", "model"])
def test_a_read_only_originals_features_folder_is_refused_before_anything_is_coded(
        without_bypass, tiny_folder, clip_folder, tmp_path, coder):
    out = tmp_path / "out"
    originals = out / tiny_folder.name / "originals.features"
    originals.mkdir(parents=True)
    originals.chmod(0o555)
    try:
        done = without_bypass(["-m", "taco", *_args(tiny_folder, clip_folder, out, coder)])
    finally:
        originals.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"taco evaluate: error: {originals}: permission denied"
    assert _snapshot(out) == {tiny_folder.name: None, f"{tiny_folder.name}/originals.features": None}


def test_a_complete_rerun_reads_a_read_only_originals_features_folder(without_bypass, eval_main, tiny_folder, clip_folder,
                                                                       tmp_path):
    """The same rule as STEM.features: with nothing left to code the kept features are only read."""
    out = tmp_path / "out"
    args = _args(tiny_folder, clip_folder, out, ["--classic", "jpeg", "--qualities", "jpeg=50"])
    assert eval_main(args) == 0
    originals = out / tiny_folder.name / "originals.features"
    assert any(originals.iterdir())
    csv_path = out / tiny_folder.name / "jpeg.csv"
    rows = csv_path.read_bytes()
    originals.chmod(0o555)
    try:
        done = without_bypass(["-m", "taco", *args])
    finally:
        originals.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert csv_path.read_bytes() == rows
