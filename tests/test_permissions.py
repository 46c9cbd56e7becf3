"""Three defects seen with real permissions (root without its bypass capabilities, as capsh
runs it), simulated here where root reads and writes anyway:

- a folder lock file made under umask 077 was 0600: another user's process could not open it,
  took the folder (writable) for one it need not lock, and a second ``taco evaluate`` ran beside
  the first (exit 0). The file is now 0644 whatever the umask, and one that cannot be opened in a
  folder this process may write in is a PermissionError naming it;
- a named input in a folder without search permission (mode 0644) stopped the whole batch
  ("error: in644/p2.png: permission denied", exit 2, nothing coded): it is now an input whose
  open fails, reported and skipped with the others (exit 3); a folder named that lists but whose
  files cannot be opened says so, not "cannot list the folder";
- a caption sidecar that cannot be read (chmod 000) was "not readable UTF-8 text": it now says
  "Permission denied"."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from taco.captions_file import SidecarError, read_sidecar
from taco.cli.common import CLIError
from taco.cli.inputs import expand_inputs
from taco.locks import LOCK_FILE, FolderInUse, FolderLock
from taco.suffixes import IMAGE_SUFFIXES

CAPSH = shutil.which("capsh")
NO_BYPASS = "cap_dac_override,cap_dac_read_search,cap_fowner,cap_chown"
needs_capsh = pytest.mark.skipif(
    CAPSH is None or not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs capsh and root, to run without the permission bypass")


def _denied(path: object) -> PermissionError:
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))


def _without_bypass(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` as root without the capabilities that bypass file modes."""
    command = f"{sys.executable} -c '{code}'"
    return subprocess.run([CAPSH, f"--drop={NO_BYPASS}", "--", "-c", command], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


# --------------------------------------------------------------------------- the folder lock

def _lock_file_it_cannot_open(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Another user's lock file in FOLDER: opening it is refused (os.open), as a process that
    may not bypass modes finds a 0600 file of someone else's. Returns its path."""
    lock_file, opened = os.fspath(folder / LOCK_FILE), os.open
    (folder / LOCK_FILE).write_text("4242 taco evaluate\n")

    def denied(path, flags, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if os.fspath(path) == lock_file:
            raise _denied(path)
        return opened(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    return lock_file


def test_the_lock_file_is_readable_to_all_under_umask_077(tmp_path):
    old = os.umask(0o077)
    try:
        with FolderLock(tmp_path, "taco evaluate") as lock:
            assert lock.held
            assert (tmp_path / LOCK_FILE).stat().st_mode & 0o777 == 0o644  # was 0600
    finally:
        os.umask(old)


def test_a_lock_file_it_cannot_open_in_a_writable_folder_is_an_error_naming_it(tmp_path, monkeypatch):
    """Another user's lock file readable only to them (an older taco's, umask 077): this process
    may write in the folder, so the folder is not one it need not lock; it ran unlocked."""
    lock_file = _lock_file_it_cannot_open(tmp_path, monkeypatch)
    with pytest.raises(PermissionError) as e:
        FolderLock(tmp_path, "taco evaluate").acquire()
    assert e.value.filename == lock_file
    assert e.value.strerror.startswith("cannot open the lock file (permission denied")
    assert str(tmp_path) in e.value.strerror  # the folder it would have run in, unlocked


def test_a_folder_it_cannot_write_in_still_needs_no_lock(tmp_path, monkeypatch):
    _lock_file_it_cannot_open(tmp_path, monkeypatch)
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: os.fspath(path) != os.fspath(tmp_path))
    with FolderLock(tmp_path, "taco evaluate") as lock:
        assert not lock.held


@needs_capsh
def test_another_users_second_run_is_refused_while_the_first_holds_the_folder(tmp_path):
    """As the defect was seen: the holder made the lock file under umask 077, it is another
    user's (chowned to 65534), and a process that may not bypass modes tries the folder."""
    old = os.umask(0o077)
    try:
        lock = FolderLock(tmp_path, "taco evaluate").acquire()
    finally:
        os.umask(old)
    try:
        os.chown(lock.path, 65534, 65534)
        done = _without_bypass(
            "from taco.locks import FolderLock, FolderInUse\n"
            "try:\n    print(FolderLock(\".\", \"taco evaluate\").acquire().held)\n"
            "except FolderInUse as e:\n    print(e)", tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f". is in use by another taco evaluate (pid {os.getpid()})"
    finally:
        lock.release()
    assert FolderInUse  # the refusal the docs promise (docs/reliability.md)


@needs_capsh
def test_another_users_stale_lock_file_readable_only_to_them_is_an_error(tmp_path):
    (tmp_path / LOCK_FILE).write_text("4242 taco evaluate\n")
    (tmp_path / LOCK_FILE).chmod(0o600)
    os.chown(tmp_path / LOCK_FILE, 65534, 65534)
    done = _without_bypass(
        "from taco.locks import FolderLock\n"
        "try:\n    print(FolderLock(\".\", \"taco evaluate\").acquire().held)\n"
        "except PermissionError as e:\n    print(e.filename, e.strerror)", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(".taco-lock cannot open the lock file (permission denied")


# --------------------------------------------------------------------------- named inputs

def _photos(tmp_path: Path) -> tuple[Path, Path]:
    shut, open_ = tmp_path / "in644", tmp_path / "in"
    for folder in (shut, open_):
        folder.mkdir()
    for path in (open_ / "p0.png", shut / "p2.png", open_ / "p2.png"):
        Image.new("RGB", (8, 8)).save(path)
    return shut, open_


def _no_search(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Path.stat raising EACCES for whatever is in ``folder``, as a folder of mode 0644 does."""
    stat = Path.stat

    def denied(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self.parent == folder:
            raise _denied(self)
        return stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", denied)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        False if Path(path) == folder and mode & os.X_OK else real_access(path, mode, **kw)))


def test_a_named_input_in_a_folder_without_search_permission_is_an_input(tmp_path, monkeypatch):
    shut, open_ = _photos(tmp_path)
    _no_search(monkeypatch, shut)
    named = [str(open_ / "p0.png"), str(shut / "p2.png"), str(open_ / "p2.png")]
    files, folder = expand_inputs(named, IMAGE_SUFFIXES)  # was CLIError "...: permission denied"
    assert files == [Path(n) for n in named] and not folder


def test_a_folder_that_lists_but_whose_files_cannot_be_opened_says_so(tmp_path, monkeypatch):
    shut, _ = _photos(tmp_path)
    _no_search(monkeypatch, shut)
    with pytest.raises(CLIError) as e:
        expand_inputs([str(shut)], IMAGE_SUFFIXES)
    assert str(e.value) == f"{shut}: cannot open the files in the folder (no search permission)"


def test_a_link_in_a_searchable_folder_that_cannot_be_looked_at_is_an_input(tmp_path, monkeypatch):
    """A folder with search permission holding a link into one without: the link's file is an
    input (its open fails, skipped), the folder is not refused as one that cannot be listed."""
    shut, open_ = _photos(tmp_path)
    stat = Path.stat

    def denied(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self == open_ / "p2.png":
            raise _denied(self)
        return stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", denied)
    files, _ = expand_inputs([str(open_)], IMAGE_SUFFIXES)
    assert files == [open_ / "p0.png", open_ / "p2.png"]


@needs_capsh
def test_taco_info_reports_and_skips_an_input_in_a_folder_without_search(tmp_path):
    shut, open_ = _photos(tmp_path)
    shut.chmod(0o644)
    (tmp_path / "mix").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "mix" / "a.png")
    (tmp_path / "mix").chmod(0o644)
    try:
        done = _without_bypass(
            "import sys; from taco.cli import main\n"
            "print(main([\"info\", \"in644/p2.png\", \"in/p0.png\"]))\n"
            "print(main([\"info\", \"mix\"]))", tmp_path)
    finally:
        shut.chmod(0o755)
        (tmp_path / "mix").chmod(0o755)
    assert done.stdout.split() == ["2", "2"], done.stderr  # all failed (no .taco here); the folder refused
    assert "taco info: error: in644/p2.png: permission denied" in done.stderr
    assert "in/p0.png: not a .taco file" in done.stderr  # it went on to the next input
    assert "mix: cannot open the files in the folder (no search permission)" in done.stderr


# --------------------------------------------------------------------------- caption sidecars

def test_a_sidecar_that_cannot_be_read_says_why(tmp_path, monkeypatch):
    sidecar = tmp_path / "a.txt"
    sidecar.write_text("a cat", encoding="utf-8")
    open_path = Path.open

    def denied(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self == sidecar:
            raise _denied(self)
        return open_path(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(SidecarError) as e:
        read_sidecar(sidecar)
    assert str(e.value) == f"{sidecar}: cannot read the caption (Permission denied)"


def test_a_sidecar_of_bytes_not_utf8_keeps_its_wording(tmp_path):
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes(b"caf\xe9")
    with pytest.raises(SidecarError) as e:
        read_sidecar(sidecar)
    assert str(e.value) == f"{sidecar}: cannot read the caption (not readable UTF-8 text)"


@needs_capsh
def test_a_sidecar_of_mode_000_says_permission_denied(tmp_path):
    (tmp_path / "a.txt").write_text("a cat", encoding="utf-8")
    (tmp_path / "a.txt").chmod(0)
    done = _without_bypass(
        "from taco.captions_file import read_sidecar, SidecarError\n"
        "try:\n    read_sidecar(\"a.txt\")\nexcept SidecarError as e:\n    print(e)", tmp_path)
    assert done.stdout.strip() == "a.txt: cannot read the caption (Permission denied)", done.stderr
