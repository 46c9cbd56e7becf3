"""A run warm-started from a built-in that a later taco retires (or from a
checkpoint file deleted or moved since) could never be resumed: ``taco train --resume RUN``
looked its ``init_from`` up again (``init_from: 'elic-small-q4' was a built-in ... give that
file as the model``), and giving that file (``--init-from FILE``, ``--set init_from=FILE``, or
RUN's config.yaml edited) was refused as other weights (``starts a new run from other
weights ... drop --init-from to resume the run``): a loop. The training state holds every
weight, so resuming neither looks ``init_from`` up nor loads it now, and continues bit-exactly;
the same weights under another name pass with a note, other weights are still refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file

from taco.cli import main as taco_main
from taco.models import create_model, registry, save_checkpoint
from taco.train.checkpoints import CHECKPOINT_FILE

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0, "clip_model": "null"}


def same_weights(a: Path, b: Path) -> bool:
    x, y = load_file(a / CHECKPOINT_FILE), load_file(b / CHECKPOINT_FILE)
    return x.keys() == y.keys() and all(x[k].equal(y[k]) for k in x)


def refusal(err: str) -> str:
    (line,) = [line for line in err.splitlines() if "error:" in line]
    return line


def test_resume_after_the_init_from_checkpoint_is_deleted(tmp_path, tiny, capsys):
    src = tmp_path / "src.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=3), src)
    whole, part = tmp_path / "whole", tmp_path / "part"
    for run, steps in ((whole, 2), (part, 1)):
        assert taco_main(["train", "--set", *tiny(run, **ELIC), "--init-from", str(src),
                          "--max-steps", str(steps)]) == 0
    again = tmp_path / "again"
    shutil.copytree(part, again)

    # a copy of the checkpoint: the run's weights by the SHA-256 its warm start recorded (a run
    # that recorded none refuses it: tests/train/test_init_from_digest.py)
    copy, via_copy = tmp_path / "copy.safetensors", tmp_path / "via-copy"
    shutil.copyfile(src, copy)
    shutil.copytree(part, via_copy)
    capsys.readouterr()
    assert taco_main(["train", "--resume", str(via_copy), "--init-from", str(copy),
                      "--max-steps", "2"]) == 0
    assert f"--init-from {copy} holds the weights {via_copy} was started from ({src})" in capsys.readouterr().err
    assert same_weights(via_copy, whole)
    # another name of the same file (a symbolic link): the run's weights, so it goes on
    link = tmp_path / "link.safetensors"
    link.symlink_to(src)
    assert taco_main(["train", "--resume", str(again), "--init-from", str(link),
                      "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert (f"--init-from {link} holds the weights {again} was started from ({src}); the run "
            "goes on from its training state") in err
    assert "resuming at step 1" in err
    assert f"init_from: {src}\n" in (again / "config.yaml").read_text()  # the run's own, kept
    assert same_weights(again, whole)

    link.unlink()
    src.unlink()  # was: init_from: .../src.safetensors: no such file (the resume a dead end)
    assert taco_main(["train", "--resume", str(part), "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and "error" not in err
    assert same_weights(part, whole)  # as the run that was never stopped

    # other weights are still refused, in one line: dropping --init-from resumes, as above
    other = tmp_path / "other.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=4), other)
    for given in (other,):
        assert taco_main(["train", "--resume", str(part), "--init-from", str(given),
                          "--max-steps", "3"]) == 2
        assert refusal(capsys.readouterr().err) == (
            f"taco train: error: --init-from {given} starts a new run from other weights, and "
            f"--resume continues {part} from its own (it was started from {src}): drop "
            "--init-from to resume the run, or start a new run from those weights without "
            "--resume, in another --out-dir")


def test_resume_of_a_run_warm_started_from_a_retired_builtin(tmp_path, tiny, monkeypatch, capsys):
    name = "elic-small-q4"
    if name not in registry.PRETRAINED:
        pytest.skip(f"{name} is not built in")
    warm = {"preset": "elic", "k_j": 0, "clip_model": "null", "model": "null"}
    kept = tmp_path / f"{name}.safetensors"  # what `git show REV:...` gives back
    shutil.copyfile(registry.pretrained_file(name), kept)
    other = tmp_path / "q3.safetensors"
    shutil.copyfile(registry.pretrained_file("elic-small-q3"), other)
    whole, part = tmp_path / "whole", tmp_path / "part"
    for run, steps in ((whole, 2), (part, 1)):
        assert taco_main(["train", "--set", *tiny(run, **warm), "--init-from", name,
                          "--max-steps", str(steps)]) == 0
    monkeypatch.delitem(registry.PRETRAINED, name)  # a later taco: no longer shipped
    monkeypatch.setitem(registry.RETIRED, name, "4cbb45e")
    capsys.readouterr()

    copy = tmp_path / "copy"
    shutil.copytree(part, copy)
    # was: init_from: 'elic-small-q4' was a built-in model of taco up to commit 4cbb45e ...
    assert taco_main(["train", "--resume", str(part), "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and "error" not in err
    assert same_weights(part, whole)

    # the file the retirement message points at: the same weights (model id and steps)
    for argv, given in ((["--init-from", str(kept)], "--init-from"),
                        (["--set", f"init_from={kept}"], "init_from")):
        run = tmp_path / f"with-{given}"
        shutil.copytree(copy, run)
        assert taco_main(["train", "--resume", str(run), *argv, "--max-steps", "2"]) == 0
        err = capsys.readouterr().err
        assert f"{given} {kept} holds the weights {run} was started from ({name})" in err
        assert same_weights(run, whole)
    # config.yaml edited to name the file: alike
    edited = tmp_path / "edited"
    shutil.copytree(copy, edited)
    text = (edited / "config.yaml").read_text()
    (edited / "config.yaml").write_text(text.replace(f"init_from: {name}\n", f"init_from: {kept}\n"))
    assert taco_main(["train", "--resume", str(edited), "--max-steps", "2"]) == 0
    assert same_weights(edited, whole)
    assert f"init_from: {name}\n" in (edited / "config.yaml").read_text()

    # another built-in's weights are not the run's
    capsys.readouterr()
    assert taco_main(["train", "--resume", str(copy), "--init-from", str(other),
                      "--max-steps", "2"]) == 2
    assert "starts a new run from other weights" in refusal(capsys.readouterr().err)


def test_resume_refuses_other_weights_copied_over_the_init_from_file(tmp_path, tiny, capsys):
    """9c1ea22: with the run's init_from file overwritten by other weights since, --init-from
    naming those other weights (a file of the same bytes as the overwritten one) was taken for
    the run's own ('holds the weights RUN was started from') and resumed."""
    src, other = tmp_path / "src.safetensors", tmp_path / "other.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=3), src)
    save_checkpoint(create_model("elic-tiny", seed=4), other)
    run = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(run, **ELIC), "--init-from", str(src),
                      "--max-steps", "1"]) == 0
    shutil.copyfile(other, src)
    capsys.readouterr()
    assert taco_main(["train", "--resume", str(run), "--init-from", str(other),
                      "--max-steps", "2"]) == 2
    err = capsys.readouterr().err
    assert "holds the weights" not in err
    assert refusal(err) == (
        f"taco train: error: --init-from {other} starts a new run from other weights, and "
        f"--resume continues {run} from its own (it was started from {src}): drop "
        "--init-from to resume the run, or start a new run from those weights without "
        "--resume, in another --out-dir")
