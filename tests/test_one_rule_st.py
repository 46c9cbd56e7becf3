"""Review ST: rules written a second time in another layer.

F1: ``taco compress --skip-existing`` with nothing left to code took a mistyped ``-m`` as "this
run's" model id (its own name-or-path rule), so the typo was never refused. It is refused now in
the words it is without --skip-existing.
F2: ``taco demo --image X`` said its own "has no caption" note (written in the library, naming
CLI options), which asked for a sidecar that was there but empty; it now says compress's note.
F6: ``taco.demo.sample_caption`` was a second way to a sample's caption (taco.samples).
F7: the trainer took resolve_device and dist_env_from_environ from taco.train.distributed's
re-exports, a second import path; it takes them from their home modules."""

from __future__ import annotations

from taco.cli import main


def _error(err: str) -> list[str]:
    return [line for line in err.splitlines() if ": error: " in line]


def test_a_mistyped_model_is_refused_under_skip_existing_too(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compress", str(photos), "--caption", "", "-m", "elic-tiny", "-o", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compress", str(photos), "-m", "elic-tinny", "-o", str(out), "--force", "--quiet"]) == 2
    refused = _error(capsys.readouterr().err)
    assert refused and "elic-tinny" in refused[0]
    assert main(["compress", str(photos), "-m", "elic-tinny", "-o", str(out), "--skip-existing"]) == 2
    err = capsys.readouterr().err
    assert _error(err) == refused
    assert "kept by --skip-existing" not in err


def test_demo_says_compress_s_note_for_an_empty_sidecar(tmp_path, capsys):
    from PIL import Image

    from taco.samples import SAMPLES_DIR

    photo = tmp_path / "b.png"
    Image.open(SAMPLES_DIR / "skimage-chelsea.png").resize((64, 48)).save(photo)
    (tmp_path / "b.txt").write_text("")
    assert main(["compress", str(photo), "-m", "taco-tiny", "-o", str(tmp_path / "b.taco"), "--quiet"]) == 0
    said = [line.split(": note: ", 1)[1] for line in capsys.readouterr().err.splitlines()
            if "has no caption" in line]
    assert len(said) == 1 and "its sidecar b.txt is empty" in said[0]
    assert main(["demo", "--image", str(photo), "-m", "taco-tiny", "-o", str(tmp_path / "demo")]) == 0
    # the same words, less the option demo lacks
    assert "--captions FILE.jsonl, " in said[0]
    assert [line.split(": note: ", 1)[1] for line in capsys.readouterr().err.splitlines()
            if "has no caption" in line] == [said[0].replace("--captions FILE.jsonl, ", "")]


def test_demo_names_only_options_demo_has(tmp_path, capsys):
    from PIL import Image

    from taco.samples import SAMPLES_DIR

    photo = tmp_path / "b.png"
    Image.open(SAMPLES_DIR / "skimage-chelsea.png").resize((64, 48)).save(photo)
    assert main(["demo", "--image", str(photo), "-m", "taco-tiny", "-o", str(tmp_path / "demo")]) == 0
    note = [line for line in capsys.readouterr().err.splitlines() if "has no caption" in line]
    assert len(note) == 1 and "give --caption TEXT, a sidecar b.txt, or a captions.jsonl" in note[0]
    assert "--captions" not in note[0]


def test_the_library_demo_names_no_cli_option(tmp_path):
    from PIL import Image

    from taco.demo import run_demo
    from taco.samples import SAMPLES_DIR

    photo = tmp_path / "b.png"
    Image.open(SAMPLES_DIR / "skimage-chelsea.png").resize((64, 48)).save(photo)
    said: list[str] = []
    r = run_demo("taco-tiny", str(photo), None, out_dir=tmp_path / "out", notify=said.append)
    assert r["caption"] == "" and not any("--" in text for text in [*said, *r["notes"]])
    r = run_demo("taco-tiny", str(photo), None, out_dir=tmp_path / "out", caption_note="no caption here")
    assert "no caption here" in r["notes"]


def test_one_way_to_the_samples_and_to_the_trainer_s_helpers():
    import taco.demo
    import taco.devices
    import taco.distributed
    import taco.samples
    import taco.train.distributed
    import taco.train.trainer

    assert not hasattr(taco.demo, "sample_caption")  # taco.samples.sample_caption
    assert taco.demo.sample_dir() == taco.samples.SAMPLES_DIR  # kept: the README's examples use it
    assert not hasattr(taco.train.distributed, "resolve_device")
    assert not hasattr(taco.train.distributed, "dist_env_from_environ")
    assert taco.train.trainer.resolve_device is taco.devices.resolve_device
    assert taco.train.trainer.dist_env_from_environ is taco.distributed.dist_env_from_environ
