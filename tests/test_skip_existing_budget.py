"""``taco compress --skip-existing --max-bytes N`` (or ``--target-bpp B``) kept an output far over
that limit in silence: the quality is chosen per image then, so the note on outputs made with
other settings compared the model alone (Review CX-B: a 19,191-byte file kept under a 1,300-byte
limit, exit 0, "1 skipped"). A kept output over its image's limit is now named in that note."""

from __future__ import annotations

import taco.cli.compress
from taco.cli import main


def _note(err: str) -> list[str]:
    return [line for line in err.splitlines() if "kept by --skip-existing" in line]


def _at_quality_7(photos, out, capsys) -> int:
    """The photos coded into ``out`` at elic-vr's highest quality; the size of a.taco."""
    assert main(["compress", str(photos), "--caption", "", "-m", "elic-vr", "-q", "7", "-o", str(out),
                 "--quiet"]) == 0
    capsys.readouterr()
    return (out / "a.taco").stat().st_size


def test_kept_outputs_over_max_bytes_are_named(photos, tmp_path, capsys):
    out = tmp_path / "out"
    size = _at_quality_7(photos, out, capsys)
    assert size > 400
    (out / "b.taco").unlink()  # one left to code: the model is loaded
    assert main(["compress", str(photos), "-m", "elic-vr", "--max-bytes", "400", "-o", str(out),
                 "--skip-existing", "--quiet"]) == 0
    assert _note(capsys.readouterr().err) == [
        f"taco compress: note: 2 outputs kept by --skip-existing are over the --max-bytes 400 limit "
        f"({out / 'a.taco'}: {size:,} bytes): --force codes them again"]
    assert (out / "b.taco").stat().st_size <= 400
    assert main(["compress", str(photos), "-m", "elic-vr", "--max-bytes", f"{size}", "-o", str(out),
                 "--skip-existing", "--quiet"]) == 0
    assert _note(capsys.readouterr().err) == []  # each within the limit


def test_kept_outputs_over_target_bpp_are_named_without_loading_the_model(photos, tmp_path, capsys,
                                                                          monkeypatch):
    out = tmp_path / "out"
    size = _at_quality_7(photos, out, capsys)
    monkeypatch.setattr(taco.cli.compress, "command_model", None)  # nothing left to code: no model
    # 1 bpp of a 64x48 photo: 384 bytes
    assert main(["compress", str(photos), "-m", "elic-vr", "--target-bpp", "1", "-o", str(out),
                 "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert _note(captured.err) == [
        f"taco compress: note: 3 outputs kept by --skip-existing are over the --target-bpp 1.0 limit "
        f"({out / 'a.taco'}: {size:,} bytes, 384 bytes for its image): --force codes them again"]
    assert captured.out == "compressed 0 images (3 skipped: their outputs exist)\n"


def test_another_model_and_over_the_limit_in_one_note(photos, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    size = _at_quality_7(photos, out, capsys)
    monkeypatch.setattr(taco.cli.compress, "command_model", None)
    assert main(["compress", str(photos), "-m", "taco-minilm-vr", "--max-bytes", "400", "-o", str(out),
                 "--skip-existing", "--quiet"]) == 0
    assert _note(capsys.readouterr().err) == [
        f"taco compress: note: 3 outputs kept by --skip-existing were made with another model or quality "
        f"({out / 'a.taco'}: elic-vr -q 7; this run: taco-minilm-vr), and 3 are over the --max-bytes 400 "
        f"limit ({out / 'a.taco'}: {size:,} bytes): --force codes them again"]
