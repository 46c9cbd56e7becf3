"""Files made by built-in weights a later taco replaced or retired (docs/models.md, "The swap").

A file made with the untrained ``create_model(NAME)`` before a trained built-in shipped under
the architecture's name NAME, and a file made by a built-in's former weights, both said "made
with other weights of NAME (a checkpoint's) ... --model FILE", though no checkpoint exists: the
first decodes with ``taco.create_model(NAME)``, the second with the file in taco's git history
(:data:`taco.models.registry.REPLACED`). A retired built-in's message said ``--model FILE`` in
Python (``taco.load``, ``taco.decompress``) and in ``init_from`` as well."""

from __future__ import annotations

import pytest
import torch

import taco
from taco.cli import main
from taco.codec import clear_named_models
from taco.models import (
    PRETRAINED,
    RETIRED,
    CheckpointError,
    create_model,
    load_builtin,
    model_fingerprint,
    registry,
)
from taco.models.registry import locate_model
from taco.resolve import made_with_problem, resolve_model
from taco.train.config import locate_init_from

ARCH = "elic-tiny"  # stands for an architecture name a trained built-in ships under (elic-vr)
SHIPPED = "elic-small-q3"
RETIRED_NAME = "elic-small-q4"  # a name with a one-byte code, whatever ships today


@pytest.fixture()
def built_in_named_like_an_architecture(monkeypatch):
    """ARCH ships as a trained built-in (here: elic-small-q3's file under ARCH's name)."""
    monkeypatch.setitem(PRETRAINED, ARCH, PRETRAINED[SHIPPED])
    clear_named_models()  # a seed-0 ARCH kept from another test would decode the file
    yield
    clear_named_models()


@pytest.fixture(scope="module")
def untrained_file(sample_image) -> bytes:
    return taco.compress(sample_image.crop((0, 0, 64, 48)), None, create_model(ARCH, seed=0))


SEED0_CLI = (f"this file names the built-in '{ARCH}', but it was made with the untrained seed-0 "
             f"weights of the architecture '{ARCH}', not with the trained built-in of that name: "
             f"taco decompress has no name for them (--model {ARCH} is the built-in): decode it "
             f"in Python: taco.decompress(data, taco.create_model('{ARCH}'))")


def test_a_file_of_the_untrained_architecture_says_create_model(
        built_in_named_like_an_architecture, untrained_file, tmp_path, capsys):
    src = tmp_path / "vr.taco"
    src.write_bytes(untrained_file)
    assert main(["decompress", str(src), "-o", str(tmp_path / "vr.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"taco decompress: error: {src}: {SEED0_CLI}"
    assert "a checkpoint's" not in err
    with pytest.raises(taco.TacoFormatError) as e:
        taco.decompress(untrained_file)
    assert str(e.value) == SEED0_CLI.replace(
        f"taco decompress has no name for them (--model {ARCH} is the built-in): decode it in "
        "Python: ", "decode it with them: ")
    # what it says works
    assert taco.decompress(untrained_file, taco.create_model(ARCH)).size == (64, 48)


def test_the_built_in_given_by_name_says_so_too(built_in_named_like_an_architecture, untrained_file,
                                                 tmp_path, capsys):
    src = tmp_path / "vr.taco"
    src.write_bytes(untrained_file)
    assert main(["decompress", str(src), "-m", ARCH, "-o", str(tmp_path / "vr.png")]) == 2
    err = capsys.readouterr().err
    assert f"not with --model '{ARCH}' (the same name, other weights): it was made with the " \
           f"untrained seed-0 weights of the architecture '{ARCH}'" in err, err
    with pytest.raises(taco.TacoFormatError, match=r"taco.decompress\(data, taco.create_model"):
        taco.decompress(untrained_file, taco.load(ARCH))


@pytest.fixture(scope="module")
def former_file(sample_image) -> bytes:
    """A file made by weights of SHIPPED that are not the shipped ones (a former built-in's)."""
    model = load_builtin(SHIPPED)
    with torch.no_grad():
        model.g_a.stage1[0].weight.mul_(1.01)
    return taco.compress(sample_image.crop((0, 0, 64, 48)), None, model)


def test_a_file_of_replaced_weights_says_where_they_are(former_file, monkeypatch, tmp_path, capsys):
    fingerprint = taco.info(former_file).header.fingerprint
    src = tmp_path / "q3.taco"
    src.write_bytes(former_file)
    # not known as former weights: a checkpoint's, as before
    assert main(["decompress", str(src), "-o", str(tmp_path / "q3.png")]) == 2
    assert "(a checkpoint's), not the built-in ones: decode it with them: --model FILE" in \
        capsys.readouterr().err
    monkeypatch.setitem(registry.REPLACED, fingerprint.hex(), (SHIPPED, "0123abc"))
    where = (f"this file names the built-in '{SHIPPED}', but it was made with the former weights of "
             f"'{SHIPPED}', which shipped up to commit 0123abc and were replaced since; their "
             "checkpoint is in taco's git history: git show 0123abc:taco/assets/models/"
             f"{SHIPPED}.safetensors > {SHIPPED}.safetensors, then ")
    assert main(["decompress", str(src), "-o", str(tmp_path / "q3.png")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco decompress: error: {src}: {where}give that file as the model (--model "
        f"{SHIPPED}.safetensors)")
    with pytest.raises(taco.TacoFormatError) as e:
        taco.decompress(former_file)
    assert str(e.value) == (f"{where}decode with that file: taco.decompress(data, "
                            f"taco.load('{SHIPPED}.safetensors'))")
    # another name's former weights are not these
    assert made_with_problem("elic-small-q4", fingerprint, b"\0" * 8, given=None, cli=True).startswith(
        "this file was made with other weights of 'elic-small-q4' (a checkpoint's)")


def test_a_retired_built_in_is_said_as_the_caller_takes_a_model(monkeypatch, sample_image, tmp_path,
                                                                  capsys):
    monkeypatch.delitem(PRETRAINED, RETIRED_NAME, raising=False)
    monkeypatch.setitem(RETIRED, RETIRED_NAME, "0123abc")
    file = f"{RETIRED_NAME}.safetensors"
    head = (f"'{RETIRED_NAME}' was a built-in model of taco up to commit 0123abc and no longer "
            f"ships; its checkpoint is in taco's git history: git show 0123abc:taco/assets/models/"
            f"{file} > {file}, then ")
    cli = f"{head}give that file as the model (--model {file})"  # as before
    for call in (resolve_model, registry.describe_model, locate_model):
        with pytest.raises(CheckpointError) as e:
            call(RETIRED_NAME)
        assert str(e.value) == cli, call
    with pytest.raises(CheckpointError) as e:
        taco.load(RETIRED_NAME)
    assert str(e.value) == f"{head}load that file: taco.load('{file}')"
    init = f"init_from: {head}start from that file (--init-from {file})"
    with pytest.raises(CheckpointError) as e:
        locate_model(RETIRED_NAME, context="init_from: ", use="--init-from")
    assert str(e.value) == init
    with pytest.raises(CheckpointError) as e:  # as taco train's init_from looks it up
        locate_init_from(RETIRED_NAME)
    assert str(e.value) == init
    with pytest.raises(CheckpointError) as e:  # the advice is the use given, not read off the context
        locate_model(RETIRED_NAME, context="init_from: ")
    assert str(e.value) == f"init_from: {cli}"
    both = (f"{head}decode with that file: taco decompress --model {file}, or in Python "
            f"taco.decompress(data, taco.load('{file}'))")
    with pytest.raises(CheckpointError) as e:
        resolve_model(RETIRED_NAME, names_only=True)
    assert str(e.value) == both
    model = create_model("elic-tiny")
    model.model_id = RETIRED_NAME
    data = taco.compress(sample_image.crop((0, 0, 64, 48)), None, model)
    with pytest.raises(taco.TacoFormatError) as e2:
        taco.decompress(data)
    assert str(e2.value) == f"this file was made with model '{RETIRED_NAME}': {both}"
    src = tmp_path / "old.taco"
    src.write_bytes(data)
    assert main(["decompress", str(src), "-o", str(tmp_path / "old.png")]) == 2
    assert capsys.readouterr().err.strip() == f"taco decompress: error: {src}: {both}"


def test_a_seed0_check_is_made_only_for_a_name_that_is_both(monkeypatch):
    """A built-in whose name is no architecture builds nothing to compare with."""
    built = []
    monkeypatch.setattr(registry, "build_seeded", lambda *a, **k: built.append(a))
    said = made_with_problem(SHIPPED, b"\1" * 8, model_fingerprint(load_builtin(SHIPPED)),
                             given=None, cli=True)
    assert said is not None and "(a checkpoint's)" in said and not built


@pytest.mark.parametrize("name", ["my q4", "-q4"])
def test_the_commands_a_retired_built_in_names_work_pasted(monkeypatch, name):
    """The file of a built-in in taco's git history was pasted into the commands as it is: a
    name with a space read as two arguments (``--model my q4.safetensors``), one starting with
    ``-`` as an option; each is one word now, ``./-q4.safetensors`` for the latter."""
    import re
    import shlex
    from pathlib import Path

    from taco.cli import build_parser

    def parsed(*words: str) -> object:
        return build_parser(list(words)).parse_args(list(words))

    monkeypatch.setitem(RETIRED, name, "0123abc")
    file = Path(f"{name}.safetensors")
    for use, parse, field in (("--model", lambda w: parsed("compress", "x.png", *w), "model"),
                              ("--init-from", lambda w: parsed("train", *w), "init_from"),
                              ("decode", lambda w: parsed(*w[1:], "x.taco"), "model")):
        text = registry.retired_message(name, use=use)
        git = shlex.split(re.search(r"git history: (git show .*?), then", text).group(1))
        assert git[:3] == ["git", "show", f"0123abc:taco/assets/models/{file}"], text
        assert git[3] == ">" and Path(git[4]) == file and len(git) == 5, text
        command = re.search(r"\((--model .*|--init-from .*)\)$|: (taco decompress .*), or in Python", text)
        words = shlex.split(next(g for g in command.groups() if g))
        assert Path(getattr(parse(words), field)) == file, text
        assert f"taco.load({str(file)!r})" in text or use != "decode"  # Python's words: as they were
