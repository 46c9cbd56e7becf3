"""F-R12 (s39): caption similarity with a temporary folder whose path has a space.

Stanford's PTBTokenizer cuts its file arguments at white space: with ``TMPDIR="/tmp/my dir"``
java exited 1 ("Unable to resolve /tmp/my as either class path, filename or URL") and
``text_similarity`` fell back to lower-case words without a word, so BLEU-4 and CIDEr-D changed
silently. java now runs in the temporary folder on the file's name alone; a tokenizer run that
fails where Java is on PATH gives a TacoWarning. SPICE takes its arguments whole: its paths
with a space are given as they are."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

pytest.importorskip("pycocoevalcap")

from taco import TacoWarning  # noqa: E402
from taco.evaluation.caption import text_similarity  # noqa: E402

JAVA = shutil.which("java")
needs_java = pytest.mark.skipif(JAVA is None, reason="the PTB tokenizer needs Java")

REFS = ["A man's hat isn't red.", "dogs, cats & birds", "the caf\u00e9's sign", "it's 3:30 p.m."]
CANDS = ["a man hat is not red", "dogs cats birds", "the cafe sign", "it is 3 30 pm"]


def _temp_folder(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    monkeypatch.setenv("TMPDIR", str(path))
    return path


def _quiet_similarity(refs: list[str], cands: list[str]) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TacoWarning)
        return text_similarity(refs, cands)


@needs_java
@pytest.mark.parametrize("name", ["tmp sp", "two  spaces here", "tab\there", "caf\u00e9 dir"])
def test_a_temporary_folder_with_a_space_still_uses_the_ptb_tokenizer(name, tmp_path, monkeypatch):
    _temp_folder(tmp_path / "plain", monkeypatch)
    plain = _quiet_similarity(REFS, CANDS)
    assert plain["tokenizer"] == "PTB (Stanford CoreNLP, Java)"
    spaced = _temp_folder(tmp_path / name / "tmp x", monkeypatch)
    result = _quiet_similarity(REFS, CANDS)  # was 'lower-case words', other numbers, no warning
    assert result["tokenizer"] == "PTB (Stanford CoreNLP, Java)"
    assert result["bleu4"] == plain["bleu4"] and result["cider_d"] == plain["cider_d"]
    assert list(spaced.iterdir()) == []  # its temporary folder removed


def _fake_java(fake_java, folder: Path) -> Path:  # noqa: ANN001 - the conftest fixture
    """A ``java`` first on PATH (conftest's fake_java) recording each call's arguments and folder
    in ``calls.txt``: the tokenizer's run fails as the real one did with a space (or goes to the
    real java with ``FAKE_PTB_REAL``); SPICE's (``-jar``) open its input and output as given."""
    record = (f"with open({str(folder / 'calls.txt')!r}, 'a') as f:\n"
              "    f.write(json.dumps([os.getcwd(), args]) + '\\n')\n")  # fmt: skip
    tokenizer = f"""    if os.environ.get("FAKE_PTB_REAL"):
        os.execv({JAVA!r}, [{JAVA!r}, *args])
    print('Exception in thread "main" java.io.IOException: Unable to resolve "/tmp/x" as either '
          'class path, filename or URL', file=sys.stderr)
    print("\\tat edu.stanford.nlp.io.IOUtils.readerFromString(IOUtils.java:596)", file=sys.stderr)
    sys.exit(1)
"""
    fake_java(folder, tokenizer, first=record)
    return folder / "calls.txt"
def _calls(path: Path) -> list[tuple[str, list[str]]]:
    import json

    return [tuple(json.loads(line)) for line in path.read_text().splitlines()]  # type: ignore[misc]


def test_a_failed_tokenizer_run_warns_once(fake_java, tmp_path, monkeypatch):
    """Java on PATH, its run failing: the lower-case fallback, and a TacoWarning saying why
    (before, nothing told the numbers were not PTB's)."""
    calls = _fake_java(fake_java, tmp_path / "bin")
    _temp_folder(tmp_path / "tmp sp", monkeypatch)
    with pytest.warns(TacoWarning) as record:
        result = text_similarity(["A cat, on a mat."], ["a cat on a mat"])
    assert result["tokenizer"] == "lower-case words" and result["bleu4"] == pytest.approx(1.0, abs=1e-6)
    said = [str(w.message) for w in record if issubclass(w.category, TacoWarning)]
    assert len(said) == 1, said
    assert said[0].startswith("the PTB tokenizer (Java) failed (java exited with status 1: Exception in "
                              'thread "main" java.io.IOException: Unable to resolve "/tmp/x"')
    assert "lower-case words" in said[0] and "\n" not in said[0]
    ((cwd, args),) = [c for c in _calls(calls) if "-jar" not in c[1]]  # one run: the references'
    assert Path(cwd).parent == tmp_path / "tmp sp" and Path(cwd).name.startswith("taco-ptb-")
    assert args[-1] == "captions.txt"  # relative to its folder: no space in it
    jar = args[args.index("-cp") + 1]
    assert os.path.isabs(jar) and os.path.isfile(jar)


def test_a_missing_temporary_folder_warns_where_java_is_there(fake_java, tmp_path, monkeypatch):
    _fake_java(fake_java, tmp_path / "bin")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.warns(TacoWarning, match=r"^the PTB tokenizer \(Java\) failed \(.*missing"):
        result = text_similarity(["A cat, on a mat."], ["a cat on a mat"])
    assert result["tokenizer"] == "lower-case words"


def test_no_java_falls_back_without_a_warning(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = _quiet_similarity(["A cat, on a mat."], ["a cat on a mat"])
    assert result["tokenizer"] == "lower-case words"
    assert result["spice_skipped"] == "SPICE needs Java (not on PATH)"


@needs_java  # the fake java hands the tokenizer to the real one
def test_spice_takes_its_paths_with_a_space(fake_java, tmp_path, monkeypatch):
    import pycocoevalcap.spice.spice  # noqa: F401 - imported before its package is pointed elsewhere
    from pycocoevalcap import spice

    calls = _fake_java(fake_java, tmp_path / "bin")
    monkeypatch.setenv("FAKE_PTB_REAL", "1")
    lib = tmp_path / "spice" / "lib"
    lib.mkdir(parents=True)
    for jar in ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar"):
        (lib / jar).write_bytes(b"")
    monkeypatch.setattr(spice, "__path__", [str(lib.parent)])
    spaced = _temp_folder(tmp_path / "tmp sp", monkeypatch)
    result = _quiet_similarity(["a cat on a mat", "a dog"], ["a cat on a mat", "a bird"])
    assert result["tokenizer"] == "PTB (Stanford CoreNLP, Java)"
    assert result["spice"] == pytest.approx(0.75) and "spice_skipped" not in result
    ((_, args),) = [c for c in _calls(calls) if "-jar" in c[1]]
    in_file, out_file = args[args.index("-jar") + 3], args[args.index("-out") + 1]
    assert Path(in_file).parent == Path(out_file).parent  # each one argument, spaces and all
    assert Path(in_file).parent.parent == spaced and " " in in_file
    assert list(spaced.iterdir()) == []
