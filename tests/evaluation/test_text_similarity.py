"""Caption similarity (taco.evaluation.caption.text_similarity) around the Java tools it runs.

Stanford's PTBTokenizer cuts its file arguments at white space: with ``TMPDIR="/tmp/my dir"``
java exited 1 ("Unable to resolve /tmp/my as either class path, filename or URL") and
``text_similarity`` fell back to lower-case words without a word, so BLEU-4 and CIDEr-D changed
silently. java now runs in the temporary folder on the file's name alone; a tokenizer run that
fails where Java is on PATH gives a TacoWarning. SPICE takes its arguments whole: its paths
with a space are given as they are.

In an install the user cannot write (pip install --target, chmod -R a-w), pycocoevalcap's PTB
tokenizer made its input file in its own package folder, and SPICE its tmp and cache folders
there, so the evaluation coded every image and then failed "permission denied": taco runs the
same jars with their files in the temporary folder.

With no captions nothing ran: the result says so (``tokenizer`` None) with the keys a scored call
has, as its docstring and docs/evaluation.md say."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

pytest.importorskip("pycocoevalcap")

import errno

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


def test_no_captions_say_no_tokenizer_ran():
    empty = text_similarity([], [])
    assert empty["tokenizer"] is None
    assert empty == {"images": 0, "bleu4": None, "cider_d": None, "spice": None, "tokenizer": None}


def test_no_captions_give_the_keys_a_scored_call_gives():
    scored = text_similarity(["a cat on a mat"], ["a cat on the mat"])
    assert set(text_similarity([], [])) == set(scored) - {"spice_skipped"}


#: Captions with what the PTB tokenizer changes: punctuation, quotes, contractions, brackets,
#: accents, a newline inside a caption, an empty one, several per image.
CAPTIONS = {
    0: ["A man riding a horse.", 'Two dogs, "playing" in the snow!'],
    1: ["It's a cat's toy -- isn't it? (maybe) {x} [y]"],
    7: ["Caf\u00e9 cr\u00e8me; na\u00efve r\u00e9sum\u00e9...", "line one\nline two", ""],
    3: ["  spaces   around  ", "U.S. 3.5 km/h, 1,000 people & a `quote' ``done''"],
}


@pytest.fixture
def package_read_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """pycocoevalcap's folder takes no new files or folders (EACCES, as for a user who cannot
    write site-packages; root ignores mode bits, so it is simulated). Returns the paths tried."""
    import pycocoevalcap

    root = Path(next(iter(pycocoevalcap.__path__))).resolve()
    tried: list[str] = []
    real_open, real_mkdir = os.open, os.mkdir

    def inside(path: object) -> bool:
        name = os.fsdecode(path)  # type: ignore[call-overload]
        if Path(os.path.abspath(name)).resolve().is_relative_to(root):
            tried.append(name)
            return True
        return False

    def refused(path: object) -> PermissionError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))  # type: ignore[call-overload]

    def open_(path, flags, mode=0o777, *, dir_fd=None):  # noqa: ANN001, ANN202
        if flags & os.O_CREAT and dir_fd is None and inside(path):
            raise refused(path)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    def mkdir_(path, mode=0o777, *, dir_fd=None):  # noqa: ANN001, ANN202
        if dir_fd is None and inside(path):
            raise refused(path)
        return real_mkdir(path, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir_)
    return tried


def _library_tokens(captions: dict[int, list[str]]) -> dict[int, list[str]]:
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    return PTBTokenizer().tokenize({k: [{"caption": c} for c in v] for k, v in captions.items()})


@pytest.fixture
def scored(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[int, list[str]], dict[int, list[str]]]]:
    """The tokens text_similarity scores: each (references, candidates) given to BLEU."""
    from pycocoevalcap.bleu.bleu import Bleu

    seen = []
    real = Bleu.compute_score

    def compute_score(self, gts, res, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append((gts, res))
        return real(self, gts, res, *args, **kwargs)

    monkeypatch.setattr(Bleu, "compute_score", compute_score)
    return seen


def _fake_java_scoring_spice(fake_java, folder: Path, *, tokenizer_status: int | None = None) -> None:  # noqa: ANN001
    """A ``java`` first on PATH (conftest's fake_java): the tokenizer's runs go to the real one (or
    exit ``tokenizer_status``); SPICE's (``-jar``) write a score of 1 for a candidate among its
    references, 0.5 otherwise, or fail as the JVM does when ``FAKE_SPICE_FAIL`` is set."""
    tokenizer = (f"    sys.exit({tokenizer_status})\n" if tokenizer_status is not None
                 else f"    os.execv({JAVA!r}, [{JAVA!r}, *args])\n")  # fmt: skip
    fake_java(folder, tokenizer)


@needs_java
def test_the_tokens_are_those_of_pycocoevalcaps_ptb_tokenizer(scored):
    """Where the package folder can be written, the library's own tokens, byte for byte."""
    refs = [c for v in CAPTIONS.values() for c in v]
    cands = refs[::-1]
    assert text_similarity(refs, cands)["tokenizer"] == "PTB (Stanford CoreNLP, Java)"
    ((gts, res),) = scored
    assert gts == _library_tokens({i: [r] for i, r in enumerate(refs)})
    assert res == _library_tokens({i: [c] for i, c in enumerate(cands)})
    assert gts[2] == [  # (lower-cased, the brackets' names are kept: as the library's)
        "it 's a cat 's toy is n't it -lrb- maybe -rrb- -lcb- x -rcb- -lsb- y -rsb-"]


@needs_java
def test_text_similarity_in_a_read_only_install(package_read_only):
    with pytest.raises(PermissionError):  # the reviewer's failure, as pycocoevalcap does it
        _library_tokens(CAPTIONS)
    package_read_only.clear()
    refs = ["A cat sits on a red mat.", "Two dogs run across a grassy field!", "A bowl of soup, on a table"]
    same = text_similarity(refs, refs)
    assert same["tokenizer"] == "PTB (Stanford CoreNLP, Java)"
    assert same["bleu4"] == pytest.approx(1.0, abs=1e-6) and same["cider_d"] == pytest.approx(10.0, rel=1e-6)
    other = text_similarity(refs, ["a cat on a mat", "a dog in a field", "soup"])
    assert other["tokenizer"] == "PTB (Stanford CoreNLP, Java)" and other["bleu4"] < same["bleu4"]
    assert package_read_only == []  # nothing tried in the package folder


@needs_java  # the fake java hands the tokenizer to the real one
def test_spice_runs_its_jar_with_its_files_outside_the_package(fake_java, package_read_only, tmp_path, monkeypatch):
    """SPICE made its tmp and cache folders in pycocoevalcap's folder (refused there when it
    cannot be written); its files are now in a temporary folder of their own."""
    import pycocoevalcap.spice.spice  # noqa: F401 - imported before its package is pointed elsewhere
    from pycocoevalcap import spice

    _fake_java_scoring_spice(fake_java, tmp_path / "bin")
    lib = tmp_path / "spice" / "lib"  # as where the CoreNLP jars were downloaded
    lib.mkdir(parents=True)
    for jar in ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar"):
        (lib / jar).write_bytes(b"")
    monkeypatch.setattr(spice, "__path__", [str(lib.parent)])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = text_similarity(["a cat on a mat", "a dog"], ["a cat on a mat", "a bird"])
    assert result["spice"] == pytest.approx(0.75) and "spice_skipped" not in result
    assert package_read_only == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "spice"]  # its temporary folder removed
    monkeypatch.setenv("FAKE_SPICE_FAIL", "1")
    failed = text_similarity(["a cat"], ["a cat"])
    assert failed["spice"] is None
    assert failed["spice_skipped"] == "SPICE failed: java.lang.OutOfMemoryError: Java heap space"
    assert failed["bleu4"] is not None


def test_a_tokenizer_that_fails_falls_back_to_lower_case_words(fake_java, tmp_path, monkeypatch):
    """Java is on PATH but the tokenizer cannot run: the lower-case fallback, said so in
    ``tokenizer``, as without Java (not a failed evaluation)."""
    _fake_java_scoring_spice(fake_java, tmp_path / "bin", tokenizer_status=1)
    result = text_similarity(["A cat, on a mat."], ["a cat on a mat"])
    assert result["tokenizer"] == "lower-case words"
    assert result["bleu4"] == pytest.approx(1.0, abs=1e-6)


@needs_java
def test_no_temporary_folder_falls_back_to_lower_case_words(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    result = text_similarity(["A cat, on a mat."], ["a cat on a mat"])
    assert result["tokenizer"] == "lower-case words"


@needs_java
def test_evaluate_with_text_similarity_in_a_read_only_install(eval_main, tiny_folder, tiny_captioner_dir,
                                                              package_read_only, tmp_path, capsys):
    """The reviewer's run: ``taco evaluate ... --text-similarity CAPTIONER_DIR`` coded every image,
    wrote its CSV, then failed ".../pycocoevalcap/tokenizer/tmpXXXX: permission denied" (exit 2)."""
    import json

    out = tmp_path / "out"
    assert eval_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--limit", "2", "--fid", "off",
                      "--cmmd-clip", "off", "--no-plot", "--quiet", "-o", str(out),
                      "--text-similarity", str(tiny_captioner_dir)]) == 0
    assert "error" not in capsys.readouterr().err
    (result,) = out.rglob("*.json")
    sim = json.loads(result.read_text())["points"][0]["text_similarity"]
    assert sim["images"] == 2 and sim["tokenizer"] == "PTB (Stanford CoreNLP, Java)"
    assert package_read_only == []
