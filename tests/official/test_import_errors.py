"""``taco import-checkpoint``'s error paths (the 2026-12 review with checkpoints written as the
authors' train.py writes them): a TACO file lacking some adapter tensors is still TACO and names
them, a missing spatial context is named, a taco checkpoint is said to be one already, weights under another key name the file's keys,
and an existing output is kept without ``force``. State dicts are the golden file's, edited.

Every refusal of the weights read (names and shapes, NaN weights, untrained quantiles, an empty
tensor, the file's own checks) names the file once, in front: ``PATH: <the check's words>``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import taco
from taco.cli import main
from taco.models import CheckpointError
from taco.official import OutputExists, import_checkpoint, import_checkpoint_file

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"



def _edited(tmp_path: Path, drop) -> Path:  # noqa: ANN001
    """The golden checkpoint without the keys ``drop(key)`` picks (their names, ``module.``)."""
    obj = torch.load(GOLDEN, weights_only=True)
    obj["state_dict"] = {k: v for k, v in obj["state_dict"].items() if not drop(k)}
    path = tmp_path / "edited.pth.tar"
    torch.save(obj, path)
    return path


@pytest.mark.parametrize(("drop", "named", "count"), [
    (lambda k: k == "module.g_a.analysis_transform.8.text_feature_dim_proj.weight",
     "g_a.adapter.ca1.text_proj.weight (theirs g_a.analysis_transform.8.text_feature_dim_proj.weight)", 1),
    (lambda k: k.startswith("module.g_a.analysis_transform.8."),
     "g_a.adapter.ca1.gamma (theirs g_a.analysis_transform.8.gamma)", 11),
    (lambda k: k == "module.entropy_parameters_anchor.1.fusion.2.bias",
     "latent_codec.anchor_parameters.1.2.bias (theirs entropy_parameters_anchor.1.fusion.2.bias)", 1),
    (lambda k: k == "module.g_s.synthesis_transform.2.branch.4.weight",
     "g_s.2.conv3.weight (theirs g_s.synthesis_transform.2.branch.4.weight)", 1),
])
def test_a_taco_file_lacking_adapter_tensors_names_them(tmp_path, drop, named, count):
    """It was taken for ELIC (one key decided) and 203 unrelated keys were listed."""
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(_edited(tmp_path, drop), "clip-tiny")
    text = str(err.value)
    assert "authors' TACO" in text and f"missing (taco names) {count}: " in text
    assert named in text and "unexpected (their names) none" in text


def test_a_missing_spatial_context_weight_is_named(tmp_path):
    """Groups were counted up to the first gap: '[4, 4] do not sum to M=16'."""
    with pytest.raises(CheckpointError, match="no tensor 'local_context.2.weight'") as err:
        import_checkpoint(_edited(tmp_path, lambda k: k == "module.local_context.2.weight"), "clip-tiny")
    assert "do not sum" not in str(err.value)


def test_a_taco_checkpoint_is_said_to_be_one_already(tmp_path):
    own = taco.save_checkpoint(taco.create_model("elic-tiny"), tmp_path / "own.safetensors")
    with pytest.raises(CheckpointError, match="a taco checkpoint already, nothing to import: give "
                       "it as the model \\(taco compress -m .*own.safetensors; taco.load"):
        import_checkpoint(own)


@pytest.mark.parametrize("name", ["my own.safetensors", "-own.safetensors", "elic-tiny"])
def test_the_model_a_taco_checkpoint_is_told_to_be_works_pasted(tmp_path, monkeypatch, name):
    """``(taco compress -m NAME ...)`` was shlex-quoted without the dash rule (``-m
    -own.safetensors``: an option) and named a file without a checkpoint ending as it is (``-m
    elic-tiny``: the architecture of that name): ``./-own.safetensors``, ``./elic-tiny`` now,
    which load that file."""
    import re
    import shlex

    from taco.cli import build_parser

    monkeypatch.chdir(tmp_path)
    own = taco.save_checkpoint(taco.create_model("elic-tiny"), tmp_path / "own.safetensors")
    if name != own.name:
        own = own.rename(name)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(name)
    words = shlex.split(re.search(r"\(taco (compress -m .*); taco.load", str(err.value)).group(1))
    model = build_parser(words).parse_args([*words, "x.png"]).model
    assert Path(model) == Path(name), err.value
    assert taco.load(model).model_id == "elic-tiny", err.value


def test_weights_under_another_key_name_the_files_keys(tmp_path):
    """``{"model": sd, "epoch": 3}`` said 'the state dict holds a non-tensor entry 'model''."""
    state = torch.load(GOLDEN, weights_only=True)["state_dict"]
    path = tmp_path / "model.pth.tar"
    torch.save({"model": state, "epoch": 3}, path)
    with pytest.raises(CheckpointError, match="no 'state_dict' entry .*its entry 'model' is no "
                       r"tensor \(top-level keys: 'model', 'epoch'\)"):
        import_checkpoint(path, "clip-tiny")


def test_a_malformed_shape_says_what_was_expected(tmp_path):
    """'(it is a 4-dimensional weight ...)' read as if the 2-D tensor were 4-D."""
    obj = torch.load(GOLDEN, weights_only=True)
    obj["state_dict"]["module.h_a.reduction.0.weight"] = torch.zeros(8, 16)
    torch.save(obj, tmp_path / "shape.pth.tar")
    with pytest.raises(CheckpointError, match=r"is \[8, 16\]: .* \(expected a 4-dimensional weight"):
        import_checkpoint(tmp_path / "shape.pth.tar", "clip-tiny")


def test_import_checkpoint_file_keeps_an_existing_output_unless_forced(tmp_path):
    out = tmp_path / "model.safetensors"
    out.write_bytes(b"someone's file")
    with pytest.raises(OutputExists, match="force=True") as err:
        import_checkpoint_file(GOLDEN, out, "clip-tiny")
    assert isinstance(err.value, FileExistsError) and out.read_bytes() == b"someone's file"
    assert import_checkpoint_file(GOLDEN, out, "clip-tiny", force=True) == out
    assert taco.load(out).model_id == "taco-official"


def test_an_empty_model_id_is_refused_as_a_name(tmp_path, capsys):
    """It said 'empty: give a path or name (the current folder is .)'."""
    with pytest.raises(SystemExit):
        main(["import-checkpoint", str(GOLDEN), "-o", str(tmp_path / "m.safetensors"), "--model-id", ""])
    err = capsys.readouterr().err
    assert "argument --model-id: '' cannot name a model: it must be a non-empty string" in err
    assert "current folder" not in err


def test_a_symbolic_link_to_a_missing_file_is_an_existing_output(tmp_path, capsys):
    """The CLI checked out.exists() (False for it) and then the library's lexists said
    '[Errno 17] exists; pass force=True to overwrite it'. One check now, said as taco compress
    says an existing output. --force writes through the link, as every taco command does
    (taco.atomic): a link into a missing folder is refused in one line naming it, before the
    checkpoint is read (as taco compress -f refuses it), and stays."""
    out = tmp_path / "model.safetensors"
    out.symlink_to(tmp_path / "missing" / "target.safetensors")
    args = ["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{out} exists; pass --force to replace it" in err and "Errno" not in err and "force=True" not in err
    assert out.is_symlink()
    assert main([*args, "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"taco import-checkpoint: error: {out} links to {tmp_path / 'missing' / 'target.safetensors'}, "
                   "in a folder that does not exist"], err
    assert out.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_force_writes_through_a_symbolic_link(tmp_path, capsys):
    """--force replaces the file a link points to (written where it points to nothing yet, in a
    folder that exists), not the link, as taco compress -f, cp and the shell's > do."""
    real = tmp_path / "models"
    real.mkdir()
    out = tmp_path / "model.safetensors"
    out.symlink_to(Path("models") / "taco.safetensors")
    args = ["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny", "--force"]
    assert main(args) == 0
    assert out.is_symlink() and taco.load(real / "taco.safetensors").model_id == "taco-official"
    assert main([*args, "--model-id", "again"]) == 0  # now a link to a file: that file replaced
    assert out.is_symlink() and taco.load(real / "taco.safetensors").model_id == "again"
    assert sorted(p.name for p in real.iterdir()) == ["taco.safetensors"]


@pytest.mark.parametrize("dim", [0, 1])
def test_an_empty_weight_is_refused_by_name(tmp_path, dim):
    obj = torch.load(GOLDEN, weights_only=True)
    key = "module.local_context.0.weight"
    shape = list(obj["state_dict"][key].shape)
    shape[dim] = 0
    obj["state_dict"][key] = torch.zeros(shape)
    path = tmp_path / "empty.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError) as caught:
        import_checkpoint(path, "clip-tiny")
    assert f"local_context.0.weight is {shape}" in str(caught.value)
    assert "no empty dimension" in str(caught.value)


def _edited_by(tmp_path: Path, edit) -> Path:  # noqa: ANN001
    """The golden checkpoint with ``edit(state_dict)`` applied."""
    obj = torch.load(GOLDEN, weights_only=True)
    edit(obj["state_dict"])
    path = tmp_path / "edited.pth.tar"
    torch.save(obj, path)
    return path


def _nan(state: dict) -> None:
    key = "module.g_s.synthesis_transform.2.branch.4.weight"
    state[key] = state[key].clone()
    state[key].view(-1)[0] = float("nan")


def _quantiles(state: dict) -> None:
    key = next(k for k in state if k.endswith("entropy_bottleneck.quantiles"))
    state[key] = state[key].clone().fill_(1e6)


def _drop(state: dict) -> None:
    del state["module.local_context.2.weight"]


@pytest.mark.parametrize(("edit", "words"), [
    (_drop, "no tensor 'local_context.2.weight': not a checkpoint of the authors' TACO or ELIC"),
    (_nan, "tensor g_s.2.conv3.weight holds NaN or infinite values: the weights are broken"),
    (_quantiles, "entropy_bottleneck.quantiles are not a trained entropy model's"),
])
def test_each_refusal_of_the_weights_names_the_file_once(tmp_path, edit, words):
    path = _edited_by(tmp_path, edit)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    text = str(err.value)
    assert type(err.value) is CheckpointError
    assert text.startswith(f"{path}: ") and text.count(str(path)) == 1
    assert words in text


def test_a_folder_and_a_missing_file_are_refused_first(tmp_path):
    with pytest.raises(CheckpointError, match=r"is a folder, not a checkpoint file$"):
        import_checkpoint(tmp_path, "clip-tiny")
    missing = tmp_path / "none.pth.tar"
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(missing, "clip-tiny")
    assert str(err.value) == f"{missing}: no such checkpoint file"


def test_a_bare_state_dict_entry_that_is_no_tensor_is_named(tmp_path):
    path = tmp_path / "bare.pth"
    torch.save({"module.a.weight": torch.zeros(2), "epoch": 3}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(err.value).startswith(f"{path}: no 'state_dict' entry (the key taco reads")
    assert "its entry 'epoch' is no tensor (top-level keys: 'module.a.weight', 'epoch')" in str(err.value)


def _shared_tuple(depth: int) -> tuple:
    """A tuple nested ``depth`` deep of two shared halves: a few bytes a level in a pickle, 2**depth
    empty tuples in its repr."""
    key: tuple = ()
    for _ in range(depth):
        key = (key, key)
    return key


@pytest.mark.parametrize("bare", [True, False])
def test_a_key_whose_repr_is_enormous_is_shown_in_a_few_levels(tmp_path, bare):
    """A 1.4 KB file keyed by a tuple nested 28 deep ran taco import-checkpoint over 400 s and
    2.9 GB: its refusal made the key's whole repr (2**28 tuples) before cutting it to 80
    characters. A key is shown a few levels and items deep."""
    key = _shared_tuple(20)  # (2**20: deeper is refused before torch.load, tests/test_pickle_expansion.py)
    path = tmp_path / "tuple.pth.tar"
    torch.save({key: [1]} if bare else {"state_dict": {key: torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    said = str(err.value)
    shown = "((((...), (...)), ((...), (...))), (((...), (...)), ((...), (...))))"
    if bare:
        assert said.startswith(f"{path}: no 'state_dict' entry") and f"its entry {shown} is no tensor" in said
        assert said.endswith("(top-level keys: ((((...), (...)), ((...), (...))), (((..)")
    else:
        assert said == f"{path}: the state dict holds a non-tensor entry {shown}"


def test_a_long_key_is_cut_where_it_is_shown(tmp_path):
    obj = torch.load(GOLDEN, weights_only=True)
    obj["state_dict"]["module.x" + "y" * 100_000] = torch.zeros(1)
    path = tmp_path / "long.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert f"unexpected (their names) 1: x{'y' * 78}…" in str(err.value) and len(str(err.value)) < 1000
    bare = tmp_path / "bare.pth"
    torch.save({"a" * 100_000: 3}, bare)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(bare, "clip-tiny")
    assert f"its entry '{'a' * 79} is no tensor (top-level keys: '{'a' * 39})" in str(err.value)


def test_the_first_keys_of_a_file_that_does_not_fit_are_cut(tmp_path):
    """A state dict without the tensors of the authors' models lists its first keys, each cut
    as every key a message shows is: not a 100,000-character name whole."""
    path = tmp_path / "long.pth.tar"
    torch.save({"state_dict": {"a" * 100_000: torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(err.value).endswith(f"(first keys: ['{'a' * 39}])") and len(str(err.value)) < 1000
