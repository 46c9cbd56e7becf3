"""The one check that a ``.taco`` file was made with the model that decodes it
(:func:`taco.resolve.made_with_problem`), seen from ``taco decompress`` (CheckpointError, the fix
said as options) and from ``taco.decompress`` (TacoFormatError, the fix said as Python), for each
kind of file: a built-in trained model's, an untrained architecture's, a checkpoint's, and one
that names a built-in but was made with other weights."""

from __future__ import annotations

from pathlib import Path

import pytest

import taco
from taco.cli import main
from taco.cli.common import Failures
from taco.models import ELIC, CheckpointError, create_model, load_builtin, save_checkpoint
from taco.resolve import made_with_problem

BUILTIN = "elic-small-q3"


@pytest.fixture(scope="module")
def files(tmp_path_factory, sample_image) -> dict[str, Path]:
    """One 64x48 file of each kind, and the checkpoint (``ckpt``) that made the checkpoint's."""
    where = tmp_path_factory.mktemp("made-with")
    crop = sample_image.crop((0, 0, 64, 48))
    trained = create_model("elic-tiny", seed=1)
    ckpt = save_checkpoint(trained, where / "trained.safetensors")
    renamed = create_model("elic-tiny", seed=2)
    renamed.model_id = BUILTIN  # a checkpoint whose files name a built-in
    made = {"builtin": load_builtin(BUILTIN), "untrained": create_model("elic-tiny", seed=0),
            "checkpoint": trained, "renamed": renamed}
    paths = {"ckpt": ckpt}
    for kind, model in made.items():
        paths[kind] = where / f"{kind}.taco"
        paths[kind].write_bytes(taco.compress(crop, None, model))
    return paths


@pytest.fixture
def refusals(monkeypatch) -> list[type[BaseException]]:
    """The types of the errors ``taco decompress`` reports as a file's failure."""
    seen: list[type[BaseException]] = []
    skip = Failures.skip

    def recording(self, src, exc, *args):
        seen.append(type(exc))
        return skip(self, src, exc, *args)

    monkeypatch.setattr(Failures, "skip", recording)
    return seen


def decode_cli(path: Path, model: str | None, tmp_path: Path, capsys) -> tuple[int, str]:
    argv = ["decompress", str(path), "-o", str(tmp_path / "out.png"), "--force"]
    status = main(argv + (["--model", model] if model else []))
    return status, capsys.readouterr().err


# (file, --model: None to leave it out, "ckpt" for the checkpoint): the fix the line says, or
# None where the model made the file
CLI = [
    ("builtin", None, None),
    ("builtin", BUILTIN, None),
    ("builtin", "elic-small-q4", f"not with --model 'elic-small-q4': leave out --model: taco "
     f"decodes it with '{BUILTIN}', the built-in model it names"),
    ("untrained", None, None),
    ("untrained", "ckpt", "leave out --model if it was made with the untrained 'elic-tiny', else "
     "give the checkpoint that made it: --model FILE"),
    ("checkpoint", "ckpt", None),
    ("checkpoint", None, "this file was made with a checkpoint's weights of 'elic-tiny', or with its "
     "untrained weights on another kind of CPU (they differ in their last bits between CPU kinds) "
     "or by another taco version (whose 'elic-tiny' was defined otherwise), not with its untrained "
     "weights here: decode it with the checkpoint, on the kind of CPU that made it, or with the taco "
     "version that made it: --model FILE (the checkpoint or its run folder)"),
    # --model naming the file's own model is what leaving it out gives: only the checkpoint helps
    ("checkpoint", "elic-tiny", "not with --model 'elic-tiny' (its untrained seed-0 weights): give "
     "the checkpoint that made it: --model FILE"),
    ("renamed", None, f"this file was made with other weights of '{BUILTIN}' (a checkpoint's), not "
     "the built-in ones: decode it with them: --model FILE"),
]


@pytest.mark.parametrize(("kind", "given", "fix"), CLI)
def test_taco_decompress(files, kind, given, fix, tmp_path, capsys, refusals):
    model = str(files["ckpt"]) if given == "ckpt" else given
    status, err = decode_cli(files[kind], model, tmp_path, capsys)
    if fix is None:
        assert status == 0 and refusals == [], err
        return
    assert status == 2 and refusals == [CheckpointError], err
    errors = [line for line in err.splitlines() if "error" in line]  # --model elic-tiny: a note too
    assert len(errors) == 1, err
    line = errors[0]
    assert line.startswith(f"taco decompress: error: {files[kind]}: this file was made with")
    assert fix in line
    assert "taco.load" not in line and "leave the model out" not in line  # no Python in a command's line


# (file, model given: None to leave it out): the fix the error says, or None where it decodes
API = [
    ("builtin", None, None),
    ("builtin", "builtin", None),
    ("builtin", "other-builtin", r"not with the model given \('elic-small-q4'\): leave the model out: "
     rf"taco.decompress\(data\) decodes it with '{BUILTIN}', the built-in model it names$"),
    ("untrained", None, None),
    ("untrained", "ckpt", r"not with the model given \(the same name, other weights\): leave the "
     r"model out if it was made with the untrained 'elic-tiny', else give the checkpoint"),
    ("checkpoint", "ckpt", None),
    ("checkpoint", None, r"^this file was made with a checkpoint's weights of 'elic-tiny', or with "
     r"its untrained weights on another kind of CPU \(they differ in their last bits between CPU "
     r"kinds\) or by another taco version \(whose 'elic-tiny' was defined otherwise\), not with its "
     r"untrained weights here: decode it with the checkpoint, on the kind of CPU that made it, or "
     r"with the taco version that made it: taco.decompress\(data, taco.load\(FILE\)\)"),
    ("renamed", None, rf"^this file was made with other weights of '{BUILTIN}' \(a checkpoint's\), "
     r"not the built-in ones: decode it with them: taco.decompress\(data, taco.load\(FILE\)\)"),
]


@pytest.mark.parametrize(("kind", "given", "fix"), API)
def test_taco_decompress_in_python(files, kind, given, fix):
    model = {None: lambda: None, "builtin": lambda: load_builtin(BUILTIN),
             "other-builtin": lambda: load_builtin("elic-small-q4"),
             "ckpt": lambda: taco.load(files["ckpt"])}[given]()
    data = files[kind].read_bytes()
    if fix is None:
        assert taco.decompress(data, model).size == (64, 48)
        return
    with pytest.raises(taco.TacoFormatError, match=fix) as e:
        taco.decompress(data, model)
    said = str(e.value)
    assert "\n" not in said and "--model" not in said  # no options in Python's error


def test_the_fast_path_says_nothing_and_looks_nothing_up(monkeypatch, tiny_elic):
    """A model that made the file: None, without classifying the file's model name."""
    import taco.models.registry

    fingerprint = taco.models.model_fingerprint(tiny_elic)
    monkeypatch.setattr(taco.models.registry, "classify_model_spec", lambda *a, **k: pytest.fail("looked up"))
    for cli in (True, False):
        assert made_with_problem("elic-tiny", fingerprint, tiny_elic, given=None, cli=cli) is None
        assert made_with_problem("elic-tiny", fingerprint, tiny_elic, given="x", cli=cli) is None


def test_a_file_naming_no_model_taco_has(tiny_elic):
    """A name that is neither built in nor an architecture: only its checkpoint can decode it."""
    fingerprint = b"\0" * 8
    assert made_with_problem("elic-huge", fingerprint, tiny_elic, given="elic-tiny", cli=True) == (
        "this file was made with model 'elic-huge', not with --model 'elic-tiny': give the "
        "checkpoint that made it: --model FILE (the checkpoint or its run folder)")
    assert made_with_problem("elic-huge", fingerprint, tiny_elic, given="elic-tiny", cli=False) == (
        "this file was made with model 'elic-huge', not with the model given ('elic-tiny'): give the "
        "checkpoint that made it: taco.decompress(data, taco.load(FILE)) (FILE: the checkpoint or its "
        "run folder), or the model object that coded it (another seed, changed weights): "
        "taco.decompress(data, model)")


def test_a_built_in_that_cannot_load_keeps_the_leave_it_out_advice(sample_image, monkeypatch) -> None:  # noqa: ANN001
    """Where the built-in's own weights cannot be loaded to compare (not installed, changed),
    nothing says other weights made the file: the advice stays 'leave the model out'. The
    built-in's fingerprint is loaded once per process, not once per refusal."""
    import taco.models
    from taco import resolve
    from taco.models import CheckpointError, load_builtin

    model = load_builtin("elic-small-q3")
    data = taco.compress(sample_image.crop((0, 0, 64, 48)), None, model)
    other = load_builtin("elic-small-q4")
    monkeypatch.setattr(resolve, "BUILTIN_FINGERPRINTS", {})
    calls = []

    def unloadable(name: str) -> ELIC:
        calls.append(name)
        raise CheckpointError(f"{name}: not installed (test)")

    monkeypatch.setattr(taco.models, "load_builtin", unloadable)
    with pytest.raises(taco.TacoFormatError, match="leave the model out") as e:
        taco.decompress(data, other)
    assert "other weights of" not in str(e.value)
    # loadable: loaded once for two refusals
    monkeypatch.setattr(taco.models, "load_builtin", lambda name: calls.append(name) or load_builtin(name))
    calls.clear()
    for _ in range(2):
        with pytest.raises(taco.TacoFormatError, match="leave the model out"):
            taco.decompress(data, other)
    assert calls == ["elic-small-q3"]
