"""The codec commands over folders of photos: what stops a batch, what skips one input, and how
an interrupted batch is finished (tiny models, small photos, so it stays fast)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from taco.cli import files, main
from taco.cli.common import CLIError

CODE = ["--caption", "", "-m", "elic-tiny"]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- write errors


def test_an_output_that_cannot_be_written_skips_its_image_only(photos, tmp_path, capsys):
    """An output name too long for the file system (a 252-character photo name + .taco) stopped
    the whole batch; now that image is reported and skipped, like an image that cannot be read,
    and the summary on stdout counts it."""
    long = photos / ("b" * 251 + ".png")
    (photos / "b.png").rename(long)
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 3
    captured = capsys.readouterr()
    assert _names(out) == ["a.taco", "c.taco"]  # and no temporary left
    lines = captured.err.splitlines()
    assert any(line.startswith(f"taco compress: error: {long}: ") and "file name too long" in line
               for line in lines), lines
    assert lines[-1] == f"taco compress: error: 1 of 3 images failed: {long}"
    summary = captured.out.splitlines()[-1]
    assert summary.startswith("compressed 2 images") and summary.endswith("(1 failed)")


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "no space left on device"),
                                             (errno.ENOMEM, "cannot allocate memory")])
def test_a_full_disk_stops_the_batch_saying_how_far_it_got(photos, tmp_path, fail_writes, capsys, code, words):
    # ENOMEM from the system is the machine's, not one input's, though it is running out of memory
    fail_writes(code, nth=2, once=True)  # the second file: half written, then the error
    out = tmp_path / "out"
    # done in part (README, exit status 3): a.taco was written and is kept
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 3
    captured = capsys.readouterr()
    assert _names(out) == ["a.taco"]  # the third was not tried, no temporary is left
    assert captured.err.splitlines()[-1].startswith(
        f"taco compress: error: stopped after 1 of 3 images: {out / 'b.taco'}: {words}")
    assert "compressed" not in captured.out  # no summary: the batch did not end


def test_a_full_disk_at_the_first_write_exits_2_having_written_nothing(photos, tmp_path, fail_writes,
                                                                        capsys):
    fail_writes(errno.ENOSPC, nth=1, once=True)
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 2
    assert not out.exists() or _names(out) == []
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        "taco compress: error: stopped after 0 of 3 images: ")


def test_a_full_disk_after_a_failed_input_and_no_output_exits_2(photos, tmp_path, fail_writes, capsys):
    """The first image fails alone (not a photo) and the second's write finds the disk full:
    one input finished, none written, so nothing was done (2), not done in part."""
    (photos / "a.png").write_bytes(b"not a photo")
    fail_writes(errno.ENOSPC, nth=1, once=True)
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 2
    assert "stopped after 1 of 3 images: " in capsys.readouterr().err.splitlines()[-1]


# --------------------------------------------------------------------------- signals

# A child that compresses a folder and, in its second write, writes half the file, says so and
# waits for the signal.
# A child that compresses a folder and, in its second write, writes half the file, says so (a
# marker file) and waits for the signal.
_COMPRESS = """
import signal, sys
# as a terminal's command has them: a background job or nohup would pass them on ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
from taco.cli import files, main
from taco.cli.common import CLIError
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_stops_a_batch_with_one_line_and_no_temporary(photos, tmp_path, hang_in_write, signum):
    """SIGTERM and SIGHUP ended the batch silently (status 143) and left the hidden temporary of
    the file being written; now they are handled as Ctrl-C is."""
    import time

    out, marker = tmp_path / "out", tmp_path / "in-the-write"
    proc = subprocess.Popen([sys.executable, "-c", hang_in_write(marker, nth=2) + _COMPRESS, "compress",
                             str(photos), *CODE, "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), proc.communicate()[1]
    assert any(p.name.startswith(".b.taco.tmp-") for p in out.iterdir())  # half written, now
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    assert err.splitlines()[-1] == (f"taco compress: {how} after 1 of 3 images; run the same "
                                    "command with --skip-existing to do the rest")
    assert "Traceback" not in err
    assert _names(out) == ["a.taco"]  # the temporary was removed


def test_an_interrupt_while_the_parser_is_built_is_one_line(monkeypatch, capsys):
    import taco.cli

    def interrupted(argv=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(taco.cli, "build_parser", interrupted)
    assert main(["models"]) == 130
    assert capsys.readouterr().err == "taco: interrupted\n"


def test_signal_handlers_are_the_commands_only(monkeypatch, capsys):
    """Installed for the command's time, not left behind; an ignored SIGHUP (nohup) stays
    ignored."""
    before, hup_before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        seen = []
        import taco.cli.models

        def record(args):
            seen.append((signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)))
            return 0

        monkeypatch.setattr(taco.cli.models, "cmd_models", record)
        main(["models"])
    finally:
        signal.signal(signal.SIGHUP, hup_before)
    assert signal.getsignal(signal.SIGTERM) == before
    (term, hup), = seen
    assert callable(term) and hup == signal.SIG_IGN


# --------------------------------------------------------------------------- finishing a batch


def test_an_existing_output_named_by_o_is_refused_with_another_o_offered(photos, tmp_path, capsys):
    """``taco decompress a.taco -o a.png``, a.png the original photo, said only "a.png exists;
    pass --force to overwrite it": followed, it replaced the photo with its lossy decode. Another
    -o is offered too, as taco demo offers it; without -o the outputs (beside their sources) are
    never the inputs, and no -o is named."""
    assert main(["compress", str(photos / "a.png"), *CODE, "-o", str(tmp_path / "a.taco"), "--quiet"]) == 0
    original = (photos / "a.png").read_bytes()
    capsys.readouterr()
    assert main(["decompress", str(tmp_path / "a.taco"), "-o", str(photos / "a.png")]) == 2
    assert capsys.readouterr().err == (f"taco decompress: error: {photos / 'a.png'} exists; pass --force to "
                                       "overwrite it, or give another -o FILE\n")
    assert (photos / "a.png").read_bytes() == original
    assert main(["compress", str(photos / "a.png"), *CODE, "-o", f"{tmp_path}/"]) == 2
    assert capsys.readouterr().err == (f"taco compress: error: {tmp_path / 'a.taco'} exists; pass --force to "
                                       "overwrite it, or give another -o FOLDER\n")
    assert main(["decompress", str(tmp_path / "a.taco"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["decompress", str(tmp_path / "a.taco")]) == 2
    assert capsys.readouterr().err == (f"taco decompress: error: {tmp_path / 'a.decoded.png'} exists; "
                                       "pass --force to overwrite it\n")


def test_skip_existing_finishes_an_interrupted_batch(photos, tmp_path, monkeypatch, capsys):
    """Running an interrupted batch again was refused ("... exist; pass --force"), and --force
    coded everything again. --skip-existing writes only the outputs that are missing."""
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--quiet"]) == 0
    (out / "b.taco").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco compress: error: {out / 'a.taco'} and 1 more outputs exist; pass --force to "
        "overwrite them, --skip-existing to write only the others (it matches outputs by name "
        "and image size), or give another -o FOLDER")

    assert main(["compress", str(photos), *CODE, "-o", str(out), "--skip-existing"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"[1/1] {photos / 'b.png'} -> {out / 'b.taco'}: ")
    assert lines[1].startswith("compressed 1 image ")
    assert lines[1].endswith("(2 skipped: their outputs exist)")
    assert _names(out) == ["a.taco", "b.taco", "c.taco"]
    assert all(p.stat().st_mtime_ns == kept[p.name] for p in out.iterdir() if p.name in kept)

    # nothing left to do: said so, without loading a model
    import taco.cli.compress

    monkeypatch.setattr(taco.cli.compress, "command_model", None)
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--skip-existing"]) == 0
    assert capsys.readouterr().out == "compressed 0 images (3 skipped: their outputs exist)\n"


def test_skip_existing_does_not_take_a_folder_for_an_output(photos, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "b.taco").mkdir(parents=True)
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--skip-existing", "--quiet"]) == 3
    captured = capsys.readouterr()
    assert f"{out / 'b.taco'}: is a directory" in captured.err
    assert captured.out.splitlines()[-1].endswith("(1 failed)")
    assert _names(out) == ["a.taco", "b.taco", "c.taco"] and (out / "b.taco").is_dir()


def test_decompress_skip_existing_reads_only_the_files_left(photos, tmp_path, capsys):
    tacos, out = tmp_path / "tacos", tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(tacos), "--quiet"]) == 0
    assert main(["decompress", str(tacos), "-o", str(out), "--quiet"]) == 0
    (out / "c.png").unlink()
    (tacos / "a.taco").write_bytes(b"damaged since: not read again")
    capsys.readouterr()
    assert main(["decompress", str(tacos), "-o", str(out), "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert "error" not in captured.err
    assert captured.out.splitlines()[-1].startswith("decompressed 1 file in ")
    assert captured.out.splitlines()[-1].endswith(" s (2 skipped: their outputs exist)")
    assert _names(out) == ["a.png", "b.png", "c.png"]


def test_force_and_skip_existing_are_one_or_the_other(photos, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(photos), "--force", "--skip-existing"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# --------------------------------------------------------------------------- what a folder holds


def test_hidden_files_and_links_to_nothing_are_left_out_and_said(photos, tmp_path, capsys):
    """A folder copied from a Mac holds ``._a.png`` (AppleDouble, not an image) beside each
    photo, and may hold hidden ``.x.png``: they were coded (or failed as garbage). A link to
    nothing was left out without a word. Evaluation, captioning and training list folders alike."""
    from taco.data import folder_images

    (photos / "._a.png").write_bytes(b"\0\5\26\7 AppleDouble")
    (photos / ".x.png").write_bytes((photos / "a.png").read_bytes())
    (photos / "gone.jpg").symlink_to(photos / "nowhere.jpg")
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    # ._a.png is left out unsaid, as system clutter (32968c5); .x.png is named
    assert f"taco compress: note: left out 1 hidden file ({photos / '.x.png'}) " \
           f"and 1 link to nothing ({photos / 'gone.jpg'})" in err
    assert _names(out) == ["a.taco", "b.taco", "c.taco"]
    assert folder_images(photos) == ["a.png", "b.png", "c.png"]


def test_a_folder_without_inputs_names_the_subfolders_not_searched(tmp_path, capsys):
    folder = tmp_path / "DCIM"
    for sub in ("100APPLE", "101APPLE"):
        (folder / sub).mkdir(parents=True)
    assert main(["compress", str(folder), "--caption", ""]) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"found in {folder}; left out 2 subfolders, not searched ({folder / '100APPLE'}, "
        f"{folder / '101APPLE'})")


def test_a_file_given_twice_is_one_input(photos, tmp_path, capsys):
    """It was refused ("would both be written to ...; give them separate output folders"), and
    so was a file named with its folder."""
    a = photos / "a.png"
    out = tmp_path / "out"
    assert main(["compress", str(a), str(photos), f"{photos}/./a.png", *CODE, "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" -> ")[0] for line in lines[:-1]] == [
        f"[1/3] {a}", f"[2/3] {photos / 'b.png'}", f"[3/3] {photos / 'c.png'}"]
    assert _names(out) == ["a.taco", "b.taco", "c.taco"]
    # a link is another name: coded too (resolving links had left out real.png, silently)
    (photos / "z-alias.png").symlink_to(photos / "a.png")
    assert main(["compress", str(photos), *CODE, "-o", str(tmp_path / "o2"), "--quiet"]) == 0
    assert _names(tmp_path / "o2") == ["a.taco", "b.taco", "c.taco", "z-alias.taco"]


def test_outputs_that_differ_only_by_case_are_one_file(photos, tmp_path, monkeypatch, capsys):
    """Photo.jpg and photo.png went to Photo.taco and photo.taco: one file on macOS and Windows,
    where the second overwrote the first. Now they keep their whole names, as IMG_1.HEIC and
    IMG_1.JPG do; names that would still be one file are refused where they are one file."""
    Image.open(photos / "a.png").save(photos / "Photo.jpg")
    (photos / "a.png").rename(photos / "photo.png")
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--quiet"]) == 0
    assert _names(out) == ["Photo.jpg.taco", "b.taco", "c.taco", "photo.png.taco"]
    capsys.readouterr()
    assert main(["compress", str(photos / "Photo.jpg"), str(photos / "b.png"), *CODE, "-o",
                 str(tmp_path / "o2"), "--quiet"]) == 0  # photo.png beside it: its whole name
    assert _names(tmp_path / "o2") == ["Photo.jpg.taco", "b.taco"]
    (photos / "b.png").rename(photos / "PHOTO.PNG")
    both = [str(photos / "photo.png"), str(photos / "PHOTO.PNG"), *CODE, "--quiet"]
    if not files._case_blind(tmp_path):  # Linux: two files, both written
        assert main(["compress", *both, "-o", str(tmp_path / "o3")]) == 0
        assert _names(tmp_path / "o3") == ["PHOTO.PNG.taco", "photo.png.taco"]
        # folders are not folded: A/x and a/x are two outputs in two folders
        for folder in ("A", "a"):
            (tmp_path / folder).mkdir()
            Image.open(photos / "c.png").save(tmp_path / folder / "x.png")
        assert main(["compress", str(tmp_path / "A" / "x.png"), str(tmp_path / "a" / "x.png"),
                     *CODE, "--quiet"]) == 0
        assert (tmp_path / "A" / "x.taco").is_file() and (tmp_path / "a" / "x.taco").is_file()
    capsys.readouterr()
    with monkeypatch.context() as m:  # where case is not told apart (macOS, Windows): refused
        m.setattr(files, "_case_blind", lambda folder: True)
        assert main(["compress", *both, "-o", str(tmp_path / "o4")]) == 2
    assert "one file on this file system (it does not tell names apart by case)" in capsys.readouterr().err
    assert not (tmp_path / "o4").exists()


def test_outputs_that_differ_only_in_unicode_form_or_by_final_sigma_are_one_file(tmp_path, monkeypatch):
    """x/café.png (é composed, NFC) and y/café.png (decomposed, NFD) went to café.taco twice:
    one file on macOS, where the second failed as "written meanwhile" or, with --force, replaced
    the first. Names are compared composed and case-folded (casefold, not lower: Windows folds
    ς and σ to one letter): they keep their whole names, and are refused where still one file."""
    nfc, nfd = "caf\u00e9.png", "cafe\u0301.png"
    for folder, name in (("x", nfc), ("y", nfd), ("s", "\u03b1\u03c2.png"), ("S", "\u0391\u03a3.png")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).touch()
    accents = [tmp_path / "x" / nfc, tmp_path / "y" / nfd]
    sigmas = [tmp_path / "s" / "\u03b1\u03c2.png", tmp_path / "S" / "\u0391\u03a3.png"]

    def plan(sources, out):
        return files.plan_outputs(sources, str(out), to_folder=True, suffix=".taco",
                                  beside_suffix=".taco", force=False)

    assert files.name_key(nfc) == files.name_key(nfd) == "caf\u00e9.png"
    assert files.name_key("\u03b1\u03c2") == files.name_key("\u0391\u03a3")
    if not files._case_blind(tmp_path):  # Linux: two files, told apart by their whole names
        assert [d.name for d in plan(accents, tmp_path / "o1")] == [nfc + ".taco", nfd + ".taco"]
    with monkeypatch.context() as m:  # where such names are one (macOS): refused
        m.setattr(files, "_case_blind", lambda folder: True)
        with pytest.raises(CLIError, match=r"one file on this file system \(it does not tell names "
                           r"apart by Unicode form"):
            plan(accents, tmp_path / "o2")
        with pytest.raises(CLIError, match=r"apart by case\)"):
            plan(sigmas, tmp_path / "o3")


def test_an_unwritable_output_folder_says_why(photos, tmp_path, monkeypatch, capsys):
    """"cannot write into DIR: permission denied" was written whatever the reason (a read-only
    file system, EROFS)."""
    import os
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    assert main(["compress", str(photos), *CODE, "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (f"taco compress: error: cannot write into {tmp_path}: "
                                               "read-only file system")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_ends_on_sigterm_as_without_taco():
    """A DataLoader worker forked during a command inherits the handler: its terminate() raised
    taco's interrupt inside the worker instead of ending it."""
    import time

    from taco.cli import _signals_as_interrupts

    with _signals_as_interrupts():
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            time.sleep(30)
            os._exit(0)
        time.sleep(0.2)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


def test_force_refuses_a_folder_in_an_output_s_place_before_any_work(photos, tmp_path, fail_writes,
                                                                     capsys):
    """--force overwrites files; a folder where an output goes is refused before any image is
    coded (it is not replaced, and nothing else is written)."""
    out = tmp_path / "out"
    (out / "b.taco").mkdir(parents=True)
    (out / "b.taco" / "keep.txt").write_text("mine")
    writes = fail_writes(errno.EIO)  # counted
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'b.taco'} is a folder; it cannot be overwritten by a file" in err
    assert writes.seen == 0 and _names(out) == ["b.taco"]
    assert (out / "b.taco" / "keep.txt").read_text() == "mine"


def test_outputs_that_differ_in_both_case_and_unicode_form_name_both(tmp_path, monkeypatch):
    """Review LA (session 37) #2: x/Cafe\u0301.png (decomposed, capital C) and y/café.PNG
    (composed) are one output where neither case nor Unicode form tells names apart (macOS);
    the refusal said "by case" alone. It names both; one that differs in one names that one."""
    for folder, name in (("x", "Cafe\u0301.png"), ("y", "caf\u00e9.PNG"), ("z", "caf\u00e9.png"),
                         ("w", "Caf\u00e9.png")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).touch()

    def plan(*sources):
        return files.plan_outputs([tmp_path / s for s in sources], str(tmp_path / "out"), to_folder=True,
                                  suffix=".taco", beside_suffix=".taco", force=False)

    with monkeypatch.context() as m:
        m.setattr(files, "_case_blind", lambda folder: True)
        with pytest.raises(CLIError, match=r"apart by case or Unicode form \(an accent composed or "
                           r"decomposed\)\)"):
            plan("x/Cafe\u0301.png", "y/caf\u00e9.PNG")
        with pytest.raises(CLIError, match=r"apart by case\)"):
            plan("y/caf\u00e9.PNG", "z/caf\u00e9.png")
        with pytest.raises(CLIError, match=r"apart by Unicode form \(an accent composed or decomposed\)\)"):
            plan("x/Cafe\u0301.png", "w/Caf\u00e9.png")


# --------------------------------------------------------------------------- FAT and exFAT drives


def test_a_case_blind_file_system_that_refuses_the_accented_probe_is_asked_in_ascii(tmp_path, monkeypatch):
    """FAT mounted with iocharset=ascii (and fusefat, EPERM) refuses the probe's name with an é:
    the file system was taken for one that tells case apart, and A.png's output was replaced by
    a.png's. A plain ASCII probe asks it about case then."""
    import tempfile

    real_mkstemp, real_exists = tempfile.mkstemp, os.path.exists

    def mkstemp(*args, prefix=None, **kwargs):
        if prefix and not prefix.isascii():
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real_mkstemp(*args, prefix=prefix, **kwargs)

    def exists(path):  # a file system blind to case, in tmp_path
        path = os.fspath(path)
        if os.path.dirname(path) == str(tmp_path):
            return any(name.lower() == os.path.basename(path).lower() for name in os.listdir(tmp_path))
        return real_exists(path)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert not files._case_blind(tmp_path)  # case told apart: this file system
    monkeypatch.setattr(os.path, "exists", exists)
    assert files._case_blind(tmp_path)
    assert os.listdir(tmp_path) == []  # no probe left


def _two_cases(photos: Path) -> None:
    """A.png and a.png (another photo), the only images in ``photos``."""
    Image.open(photos / "a.png").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photos / "A.png")
    for name in ("b.png", "c.png"):
        (photos / name).unlink()


def test_one_output_of_a_run_never_replaces_another_it_wrote(photos, tmp_path, capsys):
    """Two outputs of one run that are one file (here out/A.png.taco a link to out/a.png.taco; on a
    FAT drive whose case probe failed, two names of one file): --force replaced A.png's output by
    a.png's and exited 0. The second is refused, --force or not, naming both photos."""
    _two_cases(photos)
    out = tmp_path / "out"
    out.mkdir()
    (out / "A.png.taco").symlink_to("a.png.taco")  # --force writes through it
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--force", "--quiet"]) == 3  # done in part
    err = capsys.readouterr().err
    assert (f"{photos / 'A.png'} and {photos / 'a.png'} would both be written to {out / 'A.png.taco'} "
            f"and {out / 'a.png.taco'}, one file on this file system") in err, err
    assert "written meanwhile" not in err
    first = (out / "a.png.taco").read_bytes()
    assert main(["compress", str(photos / "A.png"), *CODE, "-o", str(tmp_path / "A.taco"), "--quiet"]) == 0
    assert first == (tmp_path / "A.taco").read_bytes()  # A.png's, kept


@pytest.mark.parametrize("force", [True, False])
def test_an_output_renumbered_under_another_name_is_still_one_file_with_it(photos, tmp_path, monkeypatch,
                                                                           capsys, force):
    """A FUSE file system (fusefat, exfat-fuse) may give one file another inode number under each
    of its names: a file of the other name, in the same folder, of the size and time of an
    output this run wrote is that output. Without --force it was "written meanwhile"."""
    import shutil

    import taco.atomic

    _two_cases(photos)
    out = tmp_path / "out"
    real = taco.atomic.write_bytes_atomic

    def write_blind_to_case(path, data, **kwargs):  # the other name shows the same file
        real(path, data, **kwargs)
        shutil.copy2(path, path.with_name(path.name.swapcase().replace(".PNG.TACO", ".png.taco")))

    monkeypatch.setattr(taco.atomic, "write_bytes_atomic", write_blind_to_case)
    flags = ["--force"] if force else []
    assert main(["compress", str(photos), *CODE, "-o", str(out), *flags, "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "would both be written to" in err and "one file on this file system" in err, err
    assert "written meanwhile" not in err


@pytest.mark.parametrize(("name", "hinted"), [("cat: 12?.png", True), ("cat 12.png", False)])
def test_a_name_the_output_drive_refuses_is_said_so(photos, tmp_path, monkeypatch, capsys, name, hinted):
    """FAT and exFAT refuse : ? * " < > | \\ in names: exfat-fuse says ENOENT, which read
    "cat: 12?.taco: no such file or directory" of a folder that exists."""
    import taco.atomic

    (photos / "a.png").rename(photos / name)

    def refuse(path, data, **kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))

    monkeypatch.setattr(taco.atomic, "write_bytes_atomic", refuse)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["compress", str(photos / name), *CODE, "-o", str(out) + "/"]) == 2
    lines = capsys.readouterr().err.splitlines()
    target = out / (Path(name).stem + ".taco")
    line = next(line for line in lines if str(target) in line)
    assert ": no such file or directory" in line
    assert (f"(the file system of {out} refuses this name? FAT and exFAT refuse : ? * \" < > | \\)"
            in line) == hinted, line


def test_two_names_of_one_file_are_one_output_whatever_their_names(photos, tmp_path, capsys):
    """Outputs of one run that are one file under names no case or Unicode form makes equal (out/b.taco a
    link to out/a.taco) are one file too: the second is refused, --force or not."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.taco").symlink_to("a.taco")
    assert main(["compress", str(photos / "a.png"), str(photos / "b.png"), *CODE, "-o", str(out),
                 "--force", "--quiet"]) == 3
    assert (f"{photos / 'a.png'} and {photos / 'b.png'} would both be written to {out / 'a.taco'} "
            f"and {out / 'b.taco'}, one file on this file system") in capsys.readouterr().err


def test_outputs_named_apart_by_case_alone_are_replaced_with_force(photos, tmp_path, capsys):
    """On a file system that tells case apart, A.png.taco and a.png.taco of an earlier run are two
    files: --force replaces both, though their names differ in case alone (another size or time
    than the one this run wrote: not one file with it)."""
    _two_cases(photos)
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--quiet"]) == 0
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--force", "--quiet"]) == 0, \
        capsys.readouterr().err
    assert _names(out) == ["A.png.taco", "a.png.taco"]


def test_a_folder_gone_before_the_write_is_not_blamed_on_the_name(photos, tmp_path, monkeypatch, capsys):
    """ENOENT where the output's folder no longer exists (removed during the run) is that, not a
    name the drive refuses: no FAT hint, though the name holds a '?'."""
    import shutil

    import taco.atomic

    (photos / "a.png").rename(photos / "12?.png")
    out = tmp_path / "out"
    out.mkdir()

    def gone(path, data, **kwargs):
        shutil.rmtree(out)
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))

    monkeypatch.setattr(taco.atomic, "write_bytes_atomic", gone)
    assert main(["compress", str(photos / "12?.png"), *CODE, "-o", str(out) + "/"]) == 2
    err = capsys.readouterr().err
    assert ": no such file or directory" in err and "refuses this name" not in err, err


@pytest.mark.parametrize("code", [errno.EPERM, errno.EINVAL])
def test_a_name_refused_with_eperm_or_einval_is_said_so(photos, tmp_path, monkeypatch, capsys, code):
    """fusefat refuses a name FAT cannot hold with EPERM, vfat with EINVAL: said as ENOENT is."""
    import taco.atomic

    (photos / "a.png").rename(photos / "12?.png")

    def refuse(path, data, **kwargs):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(taco.atomic, "write_bytes_atomic", refuse)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["compress", str(photos / "12?.png"), *CODE, "-o", str(out) + "/"]) == 2
    assert f"(the file system of {out} refuses this name? FAT and exFAT" in capsys.readouterr().err
