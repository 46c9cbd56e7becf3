"""``taco import-checkpoint``'s options and refusals (the 2026-12 review of docs/official.md as a
researcher follows it): a text width of another encoder names the one that fits, the imported
model has a name of its own (not "custom"), and the output file is checked as compress checks
its own: an existing file needs --force, a name that is not ``.safetensors`` is refused, and one
written meanwhile (by another import at once) is left and refused without --force (the
checkpoint is published only if its name is free, as ``taco compress`` publishes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import taco
from taco.cli import main
from taco.errors import TacoValueError
from taco.models import CheckpointError, save_checkpoint
from taco.official import checkpoint as official
from taco.official.checkpoint import import_checkpoint, infer_config, read_official_state_dict

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"
TEXT_PROJ = "g_a.analysis_transform.8.text_feature_dim_proj.weight"


def test_a_text_width_of_another_encoder_names_it():
    """The golden file is 32 wide: the default 'clip' (512) named no fix; it names clip-tiny."""
    state, _ = read_official_state_dict(GOLDEN)
    with pytest.raises(CheckpointError, match=r"the text encoder 'clip' gives 512 .*; 'clip-tiny' "
                       r"gives 32: import with --text-encoder clip-tiny \(text_encoder='clip-tiny'\)"):
        infer_config(state)
    state[TEXT_PROJ] = torch.zeros(state[TEXT_PROJ].shape[0], 7)
    with pytest.raises(CheckpointError, match="no taco text encoder gives 7 "
                       r"\(clip 512, clip-tiny 32, minilm 384\)"):
        infer_config(state, "clip-tiny")


def test_the_text_encoder_choices_are_tacos_encoders(capsys):
    with pytest.raises(SystemExit):
        main(["import-checkpoint", "--help"])
    assert "{clip,clip-tiny,minilm}" in capsys.readouterr().out


def test_an_imported_model_is_named_taco_official_or_as_given(tmp_path, sample_image):
    """It was "custom", in the checkpoint and every .taco file made with it (taco info, compress's
    message, evaluate's labels)."""
    out = tmp_path / "official.safetensors"
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny"]) == 0
    model = taco.load(out)
    assert model.model_id == "taco-official"
    data = taco.compress(sample_image.crop((0, 0, 64, 64)), "a cat", model)
    assert taco.info(data).header.model_id == "taco-official"
    named = tmp_path / "named.safetensors"
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(named), "--text-encoder", "clip-tiny",
                 "--model-id", "taco-lambda-0.0018"]) == 0
    assert taco.load(named).model_id == "taco-lambda-0.0018"
    assert import_checkpoint(GOLDEN, "clip-tiny", model_id="mine").model_id == "mine"


@pytest.mark.parametrize("model_id", ["", "a\nb", "x" * 256])
def test_a_model_id_no_taco_file_can_carry_is_refused_before_reading(tmp_path, model_id):
    with pytest.raises(TacoValueError, match="model id"):
        import_checkpoint(tmp_path / "not-read.pth.tar", model_id=model_id)  # no such file: not read


def test_an_existing_output_needs_force(tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    out.write_bytes(b"someone's file")
    args = ["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny"]
    assert main(args) == 2
    assert f"{out} exists; pass --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == b"someone's file"
    assert main([*args, "--force"]) == 0
    assert taco.load(out).model_id == "taco-official"


@pytest.mark.parametrize(("name", "fix"), [("x.taco", "not a .taco file: name it x.safetensors"),
                                           ("x.pth.tar", "not a .tar file: name it x.pth.safetensors"),
                                           ("model", "not a name without a suffix: name it model.safetensors")])
def test_an_output_that_is_not_safetensors_is_refused(tmp_path, capsys, name, fix):
    """``-o x.taco`` wrote a checkpoint under a .taco file's name."""
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(tmp_path / name), "--text-encoder",
                 "clip-tiny", "--force"]) == 2
    assert f"writes a .safetensors checkpoint, {fix}" in capsys.readouterr().err
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("given", ["ckd", "ckd/", "models.safetensors", "new/"])
def test_a_folder_as_output_takes_the_checkpoint_of_the_inputs_name(tmp_path, capsys, monkeypatch, given):
    """``-o ckd`` (an existing folder) or ``-o ckd/`` said "name it ckd.safetensors", a file
    beside the folder; other commands' ``-o FOLDER`` writes into it. A new folder ending with /
    is made, as compress makes one."""
    monkeypatch.chdir(tmp_path)
    for folder in ("ckd", "models.safetensors"):
        (tmp_path / folder).mkdir()
    assert main(["import-checkpoint", str(GOLDEN), "-o", given, "--text-encoder", "clip-tiny"]) == 0
    out = tmp_path / given / "taco-tiny.safetensors"
    assert capsys.readouterr().out.startswith(f"{Path(given) / 'taco-tiny.safetensors'}: model taco-official")
    assert taco.load(out).model_id == "taco-official"
    assert sorted(p.name for p in (tmp_path / given).iterdir()) == ["taco-tiny.safetensors"]


def test_a_folder_of_the_checkpoints_name_in_the_output_folder_is_refused(tmp_path, capsys):
    (tmp_path / "ckd" / "taco-tiny.safetensors").mkdir(parents=True)
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(tmp_path / "ckd"), "--force"]) == 2
    assert f"{tmp_path / 'ckd' / 'taco-tiny.safetensors'} is a folder" in capsys.readouterr().err


def test_a_file_in_a_missing_folder_is_refused_as_compress_refuses_it(tmp_path, capsys):
    """``-o newk/t.safetensors`` made the folder newk; compress, decompress, plot and
    import-captions refuse a file named in a folder that does not exist."""
    out = tmp_path / "newk" / "t.safetensors"
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"taco import-checkpoint: error: folder {tmp_path / 'newk'} does not exist (create it first, "
        "or give a folder ending with / to -o)"]
    assert not out.parent.exists()


@pytest.mark.parametrize(("checkpoint", "written"), [("taco-tiny.pth.tar", "taco-tiny.safetensors"),
                                                     ("best.PTH", "best.safetensors"),
                                                     ("state.pt", "state.safetensors"),
                                                     ("a.b.tar", "a.b.safetensors"),
                                                     ("model", "model.safetensors")])
def test_the_name_written_into_a_folder(checkpoint, written):
    from taco.official.cli import checkpoint_name

    assert checkpoint_name(f"some/dir/{checkpoint}") == written


THEIRS = b"another import's checkpoint"


# Real races are flaky: the file appears while the checkpoint is converted (a stand-in of the
# converter writes it).
def _appearing(monkeypatch, out):
    real = official.import_checkpoint

    def import_checkpoint(*args, **kwargs):
        model = real(*args, **kwargs)
        out.write_bytes(THEIRS)
        return model

    monkeypatch.setattr(official, "import_checkpoint", import_checkpoint)


def test_a_checkpoint_written_meanwhile_is_left_and_refused(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ic" / "o.safetensors"
    out.parent.mkdir()
    _appearing(monkeypatch, out)
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == (
        f"taco import-checkpoint: error: {out} exists (written meanwhile, by another process?): "
        "--force replaces it")
    assert "fingerprint" not in captured.out
    assert out.read_bytes() == THEIRS
    assert os.listdir(out.parent) == ["o.safetensors"]  # no temporary left


def test_with_force_it_replaces_one_written_meanwhile(tmp_path, monkeypatch, capsys):
    out = tmp_path / "o.safetensors"
    _appearing(monkeypatch, out)
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny",
                 "--force"]) == 0
    assert out.read_bytes() != THEIRS and "fingerprint" in capsys.readouterr().out


def test_save_checkpoint_without_replace(tmp_path):
    model = official.import_checkpoint(GOLDEN, "clip-tiny")
    out = tmp_path / "m.safetensors"
    out.write_bytes(THEIRS)
    with pytest.raises(FileExistsError) as e:
        save_checkpoint(model, out, replace=False)
    assert e.value.filename == str(out) and out.read_bytes() == THEIRS
    out.unlink()
    index = tmp_path / "m.safetensors.index.json"
    index.write_text("{}")
    with pytest.raises(FileExistsError) as e:  # a sharded set: its index is there
        save_checkpoint(model, out, replace=False, max_shard_bytes=1 << 16)
    assert e.value.filename == str(index)
    assert os.listdir(tmp_path) == ["m.safetensors.index.json"]  # no shard written
    new = tmp_path / "new.safetensors"
    assert save_checkpoint(model, new, replace=False) == new and new.stat().st_size > 0


@pytest.mark.parametrize(("checkpoint", "written"), [(".pth", ".pth.safetensors"), ("x.pt.tar", "x.safetensors")])
def test_a_name_that_is_only_a_suffix_keeps_it(checkpoint, written):
    """A checkpoint named only .pth keeps that name: not an empty .safetensors name."""
    from taco.official.cli import checkpoint_name

    assert checkpoint_name(checkpoint) == written
