"""Two ``taco evaluate`` runs into one dataset folder: the second is refused in one line (exit
status 2) before it reads or writes there (both used to run, every CSV row written twice)."""

from __future__ import annotations

import csv
import os

from taco.locks import LOCK_FILE, hold_folder


def test_a_dataset_folder_in_use_is_refused(taco_main, tiny_folder, tmp_path, capsys):
    out = tmp_path / "eval"
    folder = out / "photos"  # the dataset's folder under --output
    argv = ["evaluate", str(tiny_folder), "-m", "elic-tiny", "--fid", "off", "--cmmd-clip", "off",
            "--no-plot", "-o", str(out), "--quiet"]
    with hold_folder(folder, "taco evaluate"):
        assert taco_main(argv) == 2
        err = capsys.readouterr().err.splitlines()
        assert [line for line in err if "error" in line] == [
            f"taco evaluate: error: {folder} is in use by another taco evaluate (pid {os.getpid()})"]
        assert [p.name for p in folder.iterdir()] == [LOCK_FILE]  # nothing written

    assert taco_main(argv) == 0  # free: it runs, each image once, and lets the folder go
    (table,) = folder.glob("*.csv")
    with table.open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 4
    assert LOCK_FILE not in {p.name for p in folder.iterdir()}


def test_a_file_system_without_locks_is_evaluated_with_one_warning(taco_main, tiny_folder, tmp_path,
                                                                   monkeypatch, capsys):
    """NFS without lockd: flock fails with ENOLCK, and taco evaluate stopped with a bare
    "error: no locks available". It runs, with one warning line naming the folder."""
    import errno
    import fcntl

    def flock(fd, op):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", flock)
    out = tmp_path / "eval"
    assert taco_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--fid", "off", "--cmmd-clip", "off",
                      "--no-plot", "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "lock" in line] == [
        f"taco evaluate: warning: {out / 'photos'}: this file system has no locks: two taco processes "
        "must not use it at once"], err
    assert LOCK_FILE not in {p.name for p in (out / "photos").iterdir()}
