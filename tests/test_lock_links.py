"""A planted ``FOLDER/.taco-lock`` that is no lock file (review F_LOCK, HIGH): taco opened the lock
path following a symbolic link, made the file it led to 0644, truncated it and wrote its pid
there, and removed the link at the end; a dangling link made it create the file it named. For
``taco caption`` FOLDER is the image folder the user downloaded, so a link in it had taco wipe
any file the user may write. The lock path is now never followed: a symbolic link (dangling or
not), a folder, a pipe or a hard link is refused in one line (taco.locks.NotALockFile, exit
status 2 in the CLI), and nothing it leads to is created or changed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import taco.cli
from taco.errors import TacoError
from taco.locks import LOCK_FILE, FolderInUse, FolderLock, NotALockFile, hold_folder
from taco.samples import SAMPLES_DIR

SECRET = b"SECRET\n"


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.write_bytes(SECRET)
    victim.chmod(0o600)
    return victim


def _untouched(victim: Path) -> None:
    assert victim.read_bytes() == SECRET
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600


def _refusal(lock: Path, what: str) -> str:
    return f"{lock} {what}, not taco's lock: remove it"


# --------------------------------------------------------------------------- the lock itself

def test_a_link_to_a_file_is_refused_and_the_file_left_as_it_was(tmp_path):
    victim, folder = _victim(tmp_path), tmp_path / "dl"
    folder.mkdir()
    (folder / LOCK_FILE).symlink_to(victim)
    with pytest.raises(NotALockFile) as refused:
        hold_folder(folder, "taco caption")
    assert str(refused.value) == _refusal(folder / LOCK_FILE, "is a symbolic link")
    assert isinstance(refused.value, TacoError) and isinstance(refused.value, FolderInUse)
    assert isinstance(refused.value, RuntimeError)  # a builtin base, as FolderInUse's
    _untouched(victim)
    assert (folder / LOCK_FILE).is_symlink()  # not removed: the user sees what was there


def test_a_dangling_link_is_refused_and_creates_nothing(tmp_path):
    target, folder = tmp_path / "made-by-taco", tmp_path / "run1"
    folder.mkdir()
    (folder / LOCK_FILE).symlink_to(target)
    with pytest.raises(NotALockFile, match="is a symbolic link, not taco's lock: remove it$"):
        hold_folder(folder, "taco train")
    assert not target.exists() and not target.is_symlink()
    assert (folder / LOCK_FILE).is_symlink()


def test_a_link_in_a_folder_the_lock_creates_leaves_no_folder(tmp_path):
    """A link can only be there if the folder is; the folders acquire made are removed on a
    refusal, as on any other."""
    victim, folder = _victim(tmp_path), tmp_path / "ev" / "photos"
    folder.mkdir(parents=True)
    (folder / LOCK_FILE).symlink_to(victim)
    with pytest.raises(NotALockFile):
        FolderLock(folder, "taco evaluate").acquire()
    _untouched(victim)
    assert sorted(p.name for p in folder.iterdir()) == [LOCK_FILE]


def test_a_hard_link_is_refused_its_other_name_unchanged(tmp_path):
    """Truncating a file with two names would wipe the other name's file (and removing the lock
    at the end would leave it there): taco makes no such lock file, so it is refused."""
    victim, folder = _victim(tmp_path), tmp_path / "dl"
    folder.mkdir()
    os.link(victim, folder / LOCK_FILE)
    with pytest.raises(NotALockFile) as refused:
        hold_folder(folder, "taco caption")
    assert str(refused.value) == _refusal(folder / LOCK_FILE, "is a hard link (a file with 2 names)")
    _untouched(victim)
    assert (folder / LOCK_FILE).stat().st_nlink == 2


def test_a_folder_at_the_lock_path_is_refused(tmp_path):
    (tmp_path / LOCK_FILE).mkdir()
    with pytest.raises(NotALockFile, match=r"\.taco-lock is a folder, not taco's lock: remove it$"):
        hold_folder(tmp_path, "taco train")
    assert (tmp_path / LOCK_FILE).is_dir()


def test_a_folder_name_with_control_characters_is_shown_escaped(tmp_path):
    """The refusal named the folder raw: a line feed in its name broke the one line, a terminal
    escape (``ESC[2J``) drove the terminal. Shown escaped, as every message names a file."""
    folder = tmp_path / "photos\n\x1b[2J"
    folder.mkdir()
    (folder / LOCK_FILE).mkdir()
    with pytest.raises(NotALockFile) as refused:
        hold_folder(folder, "taco caption")
    assert str(refused.value) == f"{tmp_path}/photos\\n\\x1b[2J/{LOCK_FILE} is a folder, not taco's lock: remove it"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_pipe_at_the_lock_path_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / LOCK_FILE)
    with pytest.raises(NotALockFile, match=r"is not a regular file \(a pipe, a device or a socket\)"):
        hold_folder(tmp_path, "taco train")


def test_a_link_put_there_after_the_check_is_not_followed(tmp_path, monkeypatch):
    """The lock path checked (lstat) and found missing, then a link made before the open: the open
    itself (O_NOFOLLOW) refuses to go through it, so the file it names is not created."""
    if not hasattr(os, "O_NOFOLLOW"):
        pytest.skip("no O_NOFOLLOW: the check before the open is all there is")
    target, folder = tmp_path / "made-by-taco", tmp_path / "dl"
    folder.mkdir()
    lock, real_lstat, raced = folder / LOCK_FILE, os.lstat, []

    def link_made_after(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if os.fspath(path) == os.fspath(lock) and not raced:
            raced.append(True)
            lock.symlink_to(target)  # planted between the check and the open
            raise FileNotFoundError(2, "No such file or directory", os.fspath(path))
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", link_made_after)
    with pytest.raises(NotALockFile, match="is a symbolic link"):
        hold_folder(folder, "taco caption")
    assert raced and not target.exists() and lock.is_symlink()


def test_release_removes_no_link_put_in_the_lock_files_place(tmp_path):
    """The lock file replaced by a link while held: release leaves the link (and its file) alone;
    it removes only the lock file it opened."""
    victim = _victim(tmp_path)
    lock = hold_folder(tmp_path / "run1", "taco train")
    path = tmp_path / "run1" / LOCK_FILE
    path.unlink()
    path.symlink_to(victim)
    lock.release()
    assert path.is_symlink() and not lock.held
    _untouched(victim)


def test_a_real_lock_file_left_behind_is_still_taken(tmp_path):
    """A stale lock (a dead holder's regular file) is taken as before, and removed at the end."""
    (tmp_path / LOCK_FILE).write_text("4242 taco train\n")
    with FolderLock(tmp_path, "taco evaluate") as lock:
        assert lock.held
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} taco evaluate\n"
    assert not (tmp_path / LOCK_FILE).exists()


# --------------------------------------------------------------------------- the commands

@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``cli(module, argv)`` -> (exit status, stderr's non-empty lines) of ``taco.cli.main`` with
    only ``module``'s commands."""
    def run(module: str, argv: list[str]) -> tuple[int, list[str]]:
        monkeypatch.setattr(taco.cli, "COMMAND_MODULES", (module,))
        capsys.readouterr()
        status = taco.cli.main(argv)
        return status, [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return run


def _plant(folder: Path, target: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_FILE).symlink_to(target)
    return folder / LOCK_FILE


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_taco_caption_refuses_a_link_in_the_image_folder(photos, tmp_path, cli, monkeypatch, dangling):
    from taco.evaluation import caption

    def not_loaded(*args: object, **kwargs: object) -> None:
        pytest.fail("the captioner was loaded")

    monkeypatch.setattr(caption, "Captioner", not_loaded)
    target = tmp_path / "made-by-taco" if dangling else _victim(tmp_path)
    lock = _plant(photos, target)
    status, err = cli("taco.evaluation.cli", ["caption", str(photos), "--quiet"])
    assert (status, err) == (2, [f"taco caption: error: {_refusal(lock, 'is a symbolic link')}"])
    if dangling:
        assert not target.exists()
    else:
        _untouched(target)
    assert lock.is_symlink() and not (photos / "captions.jsonl").exists()


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_taco_train_refuses_a_link_in_its_out_dir(tmp_path, cli, dangling):
    out = tmp_path / "run1"
    target = tmp_path / "made-by-taco" if dangling else _victim(tmp_path)
    lock = _plant(out, target)
    overrides = {"preset": "elic", "model": "elic-tiny", "k_j": 0, "data.root": SAMPLES_DIR, "crop": 64,
                 "batch_size": 2, "workers": 0, "max_steps": 1, "progress": "false", "out_dir": out}
    status, err = cli("taco.train.cli", ["train", "--set", *(f"{k}={v}" for k, v in overrides.items())])
    assert (status, err) == (2, [f"taco train: error: {_refusal(lock, 'is a symbolic link')}"])
    if dangling:
        assert not target.exists()
    else:
        _untouched(target)
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # nothing written


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_taco_evaluate_refuses_a_link_in_its_output_folder(photos, tmp_path, cli, dangling):
    out = tmp_path / "ev"
    target = tmp_path / "made-by-taco" if dangling else _victim(tmp_path)
    lock = _plant(out / photos.name, target)  # the dataset's folder under --output
    argv = ["evaluate", str(photos), "-m", "elic-tiny", "--fid", "off", "--cmmd-clip", "off",
            "--no-plot", "-o", str(out), "--quiet"]
    status, err = cli("taco.evaluation.cli", argv)
    assert status == 2
    assert [line for line in err if "error" in line] == [
        f"taco evaluate: error: {_refusal(lock, 'is a symbolic link')}"]
    if dangling:
        assert not target.exists()
    else:
        _untouched(target)
    assert sorted(p.name for p in (out / photos.name).iterdir()) == [LOCK_FILE]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="open descriptors listed in /proc/self/fd only")
def test_a_hard_link_put_there_after_the_check_is_refused_by_what_was_opened(tmp_path, monkeypatch):
    """The lock path checked (lstat) and found missing, then a hard link to the user's file made
    before the open: what was opened is checked (fstat) before anything in it is changed, so the
    file is refused, left as it was, and the descriptor opened on it is closed."""
    victim, folder = _victim(tmp_path), tmp_path / "dl"
    folder.mkdir()
    lock, real_lstat, raced = folder / LOCK_FILE, os.lstat, []

    def hard_link_made_after(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if os.fspath(path) == os.fspath(lock) and not raced:
            raced.append(True)
            os.link(victim, lock)  # planted between the check and the open
            raise FileNotFoundError(2, "No such file or directory", os.fspath(path))
        return real_lstat(path, *args, **kwargs)

    open_before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "lstat", hard_link_made_after)
    with pytest.raises(NotALockFile) as refused:
        hold_folder(folder, "taco caption")
    monkeypatch.undo()
    assert raced and str(refused.value) == _refusal(lock, "is a hard link (a file with 2 names)")
    _untouched(victim)
    assert len(os.listdir("/proc/self/fd")) == open_before


@pytest.mark.skipif(os.name == "nt", reason="flock: the lock taken where fcntl is")
def test_a_lock_path_made_a_link_to_the_opened_file_while_locking_is_not_taken(tmp_path, monkeypatch):
    """The lock file opened, then moved aside and a symbolic link to it put at the lock path
    before it is locked: the lock path itself is no longer the file taco opened (a link is not
    followed to it), so that file is not taken as the folder's lock; the link is refused."""
    fcntl = pytest.importorskip("fcntl")
    folder = tmp_path / "run1"
    folder.mkdir()
    lock, moved, real_flock, swapped = folder / LOCK_FILE, folder / "moved-lock", fcntl.flock, []

    def swap_then_lock(fd, operation):  # noqa: ANN001, ANN202
        if not swapped and operation & fcntl.LOCK_EX:
            swapped.append(True)
            os.replace(lock, moved)
            lock.symlink_to(moved)
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", swap_then_lock)
    with pytest.raises(NotALockFile, match="is a symbolic link"):
        hold_folder(folder, "taco train")
    assert swapped and lock.is_symlink() and moved.read_bytes() == b""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="open descriptors listed in /proc/self/fd only")
def test_an_interrupt_while_checking_what_was_opened_closes_it(tmp_path, monkeypatch):
    """Ctrl-C while the opened lock path is looked at (its fstat): the descriptor is closed, not
    left open for the rest of the process."""
    real_fstat, interrupted = os.fstat, []

    def interrupt_once(fd):  # noqa: ANN001, ANN202
        if not interrupted:
            interrupted.append(fd)
            raise KeyboardInterrupt
        return real_fstat(fd)

    open_before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fstat", interrupt_once)
    with pytest.raises(KeyboardInterrupt):
        hold_folder(tmp_path / "run1", "taco train")
    monkeypatch.undo()
    assert interrupted and len(os.listdir("/proc/self/fd")) == open_before
