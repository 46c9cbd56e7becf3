"""Every error taco raises on purpose is a ``taco.TacoError`` and keeps its builtin base; every
warning it gives is a ``taco.TacoWarning``; ``taco.errors`` imports no torch."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import taco
from taco.errors import TacoError, TacoWarning

PACKAGE = Path(taco.__file__).resolve().parent

#: The command line's own errors (``CLIError``, ``OutputClosed``) never reach a library caller:
#: ``taco.cli.main`` prints them as one line.
CLI_MODULES = ("taco.cli",)

BUILTIN_BASES = {"Exception", "ValueError", "RuntimeError", "MemoryError", "TypeError", "OSError",
                 "KeyError", "LookupError", "UserWarning", "Warning"}


def _declared_exceptions() -> list[tuple[str, str]]:
    """(module, class) for each class in taco whose base is a builtin exception or warning, or
    another such class (found by parsing, so a new module is walked without being listed)."""
    found: list[tuple[str, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module.startswith(CLI_MODULES):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and (module, node.name) != ("taco.errors", "TacoError"):
                bases = {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, ast.Name) or isinstance(b, ast.Attribute)
                         and isinstance(b.value, ast.Name) and b.value.id == "errors"}  # errors.OutputExists
                if bases & BUILTIN_BASES or any(b.endswith(("Error", "Warning", "Unavailable", "Exists"))
                                                for b in bases):
                    found.append((module, node.name))
    return found


DECLARED = _declared_exceptions()


def test_the_walk_finds_the_known_errors():
    names = {name for _, name in DECLARED}
    assert {"ImageSizeError", "TacoFormatError", "CheckpointError", "OutOfMemoryError",
            "DeviceUnavailable", "NoStepInTimeLimit", "CaptionTruncatedWarning"} <= names
    assert len(names) >= 27


@pytest.mark.parametrize(("module", "name"), DECLARED, ids=[f"{m}.{n}" for m, n in DECLARED])
def test_every_error_is_a_taco_error_and_every_warning_a_taco_warning(module, name):
    cls = getattr(importlib.import_module(module), name)
    if issubclass(cls, Warning):
        assert issubclass(cls, TacoWarning) and issubclass(cls, UserWarning)
    else:
        assert issubclass(cls, TacoError), f"{module}.{name} is not a taco.TacoError"
        # and keeps a builtin base more specific than Exception: older `except ValueError` works
        # (describe_model's UnknownModelError is the KeyError it always raised; an output that
        # exists, taco.official.OutputExists, is the FileExistsError open(..., "x") raises; a
        # backbone breaking taco's contract, taco.BackboneError, the TypeError it was; a run
        # folder the run may not write, taco.train.run_log.RunFilesNotWritable, the OSError the
        # first write raised)
        assert any(issubclass(cls, b) for b in (ValueError, RuntimeError, MemoryError, KeyError,
                                               FileExistsError, TypeError, OSError)), cls.__mro__


def test_the_command_lines_errors_live_in_its_package():
    """CLIError and OutputClosed are the command line's own: declared in taco.cli (so the walk
    above skips them), beside the code that prints them, not in a module of the library."""
    from taco.cli.common import CLIError, OutputClosed

    assert CLIError.__module__ == OutputClosed.__module__ == "taco.cli.common"
    assert issubclass(CLIError, TacoError)
    assert not (PACKAGE / "commands.py").exists()


def test_builtin_bases_are_kept():
    from taco.bitstream import TacoFormatError
    from taco.memory import OutOfMemoryError
    from taco.text.base import TextEncoderUnavailable

    assert issubclass(TacoFormatError, ValueError)
    assert issubclass(OutOfMemoryError, MemoryError)
    assert issubclass(TextEncoderUnavailable, RuntimeError)


def test_taco_exports_the_bases_and_the_errors_a_caller_meets():
    assert taco.TacoError is TacoError and taco.TacoWarning is TacoWarning
    assert issubclass(taco.TextEncoderUnavailable, TacoError)
    assert issubclass(taco.ImageConversionWarning, TacoWarning)
    for name in taco.__all__:
        value = getattr(taco, name)
        if isinstance(value, type) and issubclass(value, Warning):
            assert issubclass(value, TacoWarning), name
        elif isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, TacoError), name


def test_one_except_catches_a_bad_file():
    with pytest.raises(TacoError):
        taco.info(b"not a taco file")


def test_a_taco_warning_is_filtered_as_a_user_warning():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("ignore", UserWarning)
        warnings.warn("x", taco.ImageConversionWarning, stacklevel=1)
    assert seen == []


def test_taco_errors_imports_no_torch():
    code = "import sys, taco.errors, taco; taco.TacoError; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_cli_prints_every_taco_error_as_one_line():
    """main() prints an error taco raises on purpose as one line (exit status 2), whichever module
    it comes from: it caught nine classes by name, so a TrainStateError, ConfigError or
    ShardedFileError reaching it was printed as a traceback."""
    from taco.cli.common import error_line
    from taco.shards import ShardedFileError
    from taco.train.config import ConfigError
    from taco.train.state import TrainStateError

    for cls in (TrainStateError, ConfigError, ShardedFileError, TacoError):
        assert error_line(cls("bad.yaml: no such setting")) == "bad.yaml: no such setting", cls
    assert error_line(RuntimeError("a bug")) is None  # a bug keeps its traceback


#: Arguments for the errors that take more than a message.
ERROR_ARGUMENTS = {"TacoFileUnreadable": ("x.taco", "is a directory, not a file", 21, "Is a directory"),
                   "TacoFileNotFound": ("x.taco", "file not found", 2, "No such file or directory"),
                   "ImageReadError": ("x.png", "file is empty (0 bytes)"),
                   "JSONFileTooLarge": (70_000_000, 67_108_864),
                   "taco.evaluation.plot.OutputExists": ([Path("rd.png"), Path("rd.svg")],),
                   "taco.errors.OutputExists": (17, "exists; pass force=True to overwrite it", "x.safetensors")}


@pytest.mark.parametrize(("module", "name"), DECLARED, ids=[f"{m}.{n}" for m, n in DECLARED])
def test_every_error_pickles(module, name):
    """An error raised in a process pool's worker is pickled to the parent: one that does not
    unpickle broke ProcessPoolExecutor and hung multiprocessing.Pool.get()."""
    import pickle

    cls = getattr(importlib.import_module(module), name)
    if issubclass(cls, Warning):
        return
    error = cls(*ERROR_ARGUMENTS.get(f"{module}.{name}", ERROR_ARGUMENTS.get(name, ("a message",))))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == str(error)
    assert vars(copy) == vars(error)
    if isinstance(error, OSError):
        assert (copy.errno, copy.strerror, copy.filename) == (error.errno, error.strerror, error.filename)


def test_one_output_exists_catches_every_refusal_to_overwrite(tmp_path):
    """Two classes were named OutputExists, neither a subclass of the other: ``except
    taco.official.OutputExists`` missed ``plot_results``'s refusal and ``except
    taco.evaluation.plot.OutputExists`` the import's. Both are ``taco.errors.OutputExists`` now
    (the plot's a subclass naming its ``paths``), and ``taco.official.OutputExists`` is it."""
    import json

    import taco.official
    from taco.errors import OutputExists
    from taco.evaluation import plot
    from taco.official import import_checkpoint_file

    assert taco.official.OutputExists is OutputExists and issubclass(plot.OutputExists, OutputExists)
    assert issubclass(OutputExists, TacoError) and issubclass(OutputExists, FileExistsError)
    (tmp_path / "model.safetensors").write_bytes(b"someone's file")
    with pytest.raises(OutputExists, match="force=True"):  # checked before the checkpoint is read
        import_checkpoint_file(tmp_path / "none.pth.tar", tmp_path / "model.safetensors")
    point = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0}
    result = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
              "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [point]}
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "jpeg.json").write_text(json.dumps(result))
    (tmp_path / "rd.png").write_bytes(b"a photo")
    with pytest.raises(OutputExists) as refusal:
        plot.plot_results(tmp_path / "res", tmp_path / "rd", metrics=["psnr"], overwrite=False)
    assert isinstance(refusal.value, plot.OutputExists) and refusal.value.paths == [tmp_path / "rd.png"]
    assert (tmp_path / "rd.png").read_bytes() == b"a photo"


def test_taco_official_output_exists_imports_no_torch():
    """Naming the import's refusal in an ``except`` clause costs no torch import."""
    code = ("import sys, taco.official as o; from taco.errors import OutputExists; "
            "assert o.OutputExists is OutputExists; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_interrupted_says_its_signal_and_progress_in_one_line():
    """A stop raised to Python (a notebook's Ctrl-C of ``train(cfg)``) showed its args tuple:
    ``(2, ' at step 1 ...')``; it now says the signal and how far it got."""
    import pickle
    import signal
    import traceback

    from taco.errors import Interrupted

    stop = Interrupted(signal.SIGINT, " at step 1 (0.50 epochs); the model and state are saved")
    assert str(stop) == "stopped by SIGINT at step 1 (0.50 epochs); the model and state are saved"
    assert traceback.format_exception_only(stop) == [f"taco.errors.Interrupted: {stop}\n"]
    assert str(Interrupted(signal.SIGTERM)) == "stopped by SIGTERM"
    assert str(Interrupted(250)) == "stopped by signal 250"
    again = pickle.loads(pickle.dumps(stop))
    assert (again.signum, again.progress, str(again)) == (stop.signum, stop.progress, str(stop))
