"""``taco compress --skip-existing`` keeps an output of the same name and image size whatever
made it: run again with another model or quality, it kept them all in silence ("compressed 0
images (3 skipped)"), as if they were this run's. A note now names them (their headers read,
the model not loaded when nothing is left to code)."""

from __future__ import annotations

import taco.cli.compress
from taco.cli import main


def _note(err: str) -> list[str]:
    return [line for line in err.splitlines() if "kept by --skip-existing" in line]


def test_outputs_of_another_model_are_named(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compress", str(photos), "--caption", "", "-m", "elic-tiny", "-o", str(out), "--quiet"]) == 0
    (out / "b.taco").unlink()
    capsys.readouterr()
    assert main(["compress", str(photos), "-m", "elic-small", "-o", str(out), "--skip-existing", "--quiet"]) == 0
    assert _note(capsys.readouterr().err) == [
        f"taco compress: note: 2 outputs kept by --skip-existing were made with another model or quality "
        f"({out / 'a.taco'}: elic-tiny; this run: elic-small): --force codes them again"]
    (out / "c.taco").unlink()
    assert main(["compress", str(photos), "-m", "elic-small", "-o", str(out), "--skip-existing", "--quiet"]) == 0
    assert _note(capsys.readouterr().err) == [
        f"taco compress: note: 1 output kept by --skip-existing was made with another model or quality "
        f"({out / 'a.taco'}: elic-tiny; this run: elic-small): --force codes it again"]  # b.taco: its own


def test_outputs_of_another_quality_are_named_without_loading_the_model(photos, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["compress", str(photos), "--caption", "", "-m", "elic-vr", "-q", "2", "-o", str(out), "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(taco.cli.compress, "command_model", None)  # nothing left to code: no model
    assert main(["compress", str(photos), "-m", "elic-vr", "-q", "5", "-o", str(out), "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert _note(captured.err) == [
        f"taco compress: note: 3 outputs kept by --skip-existing were made with another model or quality "
        f"({out / 'a.taco'}: elic-vr -q 2; this run: elic-vr -q 5): --force codes them again"]
    assert captured.out == "compressed 0 images (3 skipped: their outputs exist)\n"
    assert main(["compress", str(photos), "-m", "elic-vr", "-q", "2", "-o", str(out), "--skip-existing"]) == 0
    assert _note(capsys.readouterr().err) == []
