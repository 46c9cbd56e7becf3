"""Mutation round 15: behaviour of the day's new code that no test pinned (text encoder option
checks, the batch loop's count, stdout's terminal check, a one-file output's folder, ...)."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest

from taco.cli.common import CLIError, Failures
from taco.text_specs import text_encoder_spec_problem


@pytest.mark.parametrize("path", ["", b""])
def test_an_empty_encoder_path_is_refused(path):
    problem = text_encoder_spec_problem({"name": "minilm", "path": path})
    assert problem is not None
    assert "path must be a folder's path or a hub id" in problem


@pytest.mark.parametrize(("max_tokens", "ok"), [(1, False), (2, True), (0, False)])
def test_max_tokens_is_at_least_two(max_tokens, ok):
    problem = text_encoder_spec_problem({"name": "clip-tiny", "max_tokens": max_tokens})
    assert (problem is None) is ok, problem
    if not ok:
        assert "max_tokens must be an integer >= 2" in problem


@pytest.mark.parametrize("spec", [{"name": 3}, {"name": None}, {"path": "x"}, ["clip"], "clip"])
def test_an_entry_without_a_name_says_so(spec):
    problem = text_encoder_spec_problem(spec)
    assert problem is not None
    assert problem.startswith("text_encoder must be a JSON object with a name, not ")


@pytest.mark.parametrize(("seed", "ok"), [(-1, True), (-(2**63), True), (2**64 - 1, True),
                                          (-(2**63) - 1, False), (2**64, False)])
def test_a_negative_seed_is_taken(seed, ok):
    problem = text_encoder_spec_problem({"name": "clip-tiny", "seed": seed})
    assert (problem is None) is ok, problem


BATCH = [(i, Path(f"in/{i}.png"), Path(f"out/{i}.taco")) for i in (1, 2, 3, 4)]


def test_a_stop_after_a_failed_input_counts_it_finished(capsys):
    """Input 1 fails alone (skipped), input 2 stops the batch on a full disk: 1 of 4 finished."""
    def do_one(i, src, dst):
        if i == 1:
            raise CLIError("not an image")
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    failures = Failures("compress")
    assert failures.run(BATCH, do_one, total=4, noun="image") == 2
    assert "stopped after 1 of 4 images: " in capsys.readouterr().err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_closed_or_terminal_says_which():
    from taco.cli.files import closed_or_terminal

    assert closed_or_terminal(None) == "closed"
    assert closed_or_terminal(_Tty()) == "a terminal"
    assert closed_or_terminal(io.StringIO()) is None


def test_standard_output_on_a_terminal_is_refused(monkeypatch, tmp_path):
    from taco.cli.files import plan_outputs

    monkeypatch.setattr("sys.stdout", _Tty())
    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    with pytest.raises(CLIError, match="standard output is a terminal: redirect it"):
        plan_outputs([src], "-", to_folder=False, suffix=".taco", beside_suffix=".taco", force=False)


def test_one_file_into_a_missing_folder_is_refused(tmp_path):
    from taco.cli.files import plan_outputs

    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    out = tmp_path / "nosuch" / "a.taco"
    with pytest.raises(CLIError, match="does not exist"):
        plan_outputs([src], str(out), to_folder=False, suffix=".taco", beside_suffix=".taco", force=False)
    assert not out.parent.exists()


def test_standard_output_takes_one_input_not_two(tmp_path):
    from taco.cli.files import plan_outputs

    sources = [tmp_path / "a.png", tmp_path / "b.png"]
    for s in sources:
        s.write_bytes(b"x")
    with pytest.raises(CLIError, match=r"-o - \(standard output\) takes one input; got 2"):
        plan_outputs(sources, "-", to_folder=False, suffix=".taco", beside_suffix=".taco", force=False)


def test_an_empty_folder_after_a_file_is_noted(tmp_path, capsys):
    from taco.cli.inputs import expand_inputs

    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    files, _ = expand_inputs([str(tmp_path / "a.png"), str(tmp_path / "empty")], {".png"},
                             note_left_out="compress")
    assert files == [tmp_path / "a.png"]
    err = capsys.readouterr().err
    assert "no input files (.png) found in " in err and "empty" in err


def test_a_hidden_name_that_cannot_be_opened_is_no_input(tmp_path, monkeypatch):
    """A hidden ``.x.png`` (a link into a folder without search permission: looking at it raises
    PermissionError; the folder itself is searchable) is left out, never an input."""
    from taco.cli.inputs import expand_inputs

    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / ".h.png").write_bytes(b"x")
    real = Path.is_dir

    def is_dir(self):
        if self.name == ".h.png":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    files, _ = expand_inputs([str(tmp_path)], {".png"})
    assert files == [tmp_path / "a.png"]


def test_captions_and_notes_beside_images_are_not_noted(tmp_path, capsys):
    from taco.cli.inputs import expand_inputs

    for name in ("a.png", "a.txt", "notes.md", "b.raw"):
        (tmp_path / name).write_bytes(b"x")
    files, _ = expand_inputs([str(tmp_path)], {".png"}, note_left_out="compress")
    assert files == [tmp_path / "a.png"]
    err = capsys.readouterr().err
    assert "1 file it does not read as images (" in err and "b.raw" in err
    assert "a.txt" not in err and "notes.md" not in err


def test_standard_input_on_a_terminal_is_refused(monkeypatch):
    from taco.cli.inputs import expand_inputs

    monkeypatch.setattr("sys.stdin", _Tty())
    with pytest.raises(CLIError, match="- reads standard input, which is a terminal here"):
        expand_inputs(["-"], {".png"})


def test_write_all_new_takes_back_only_its_own_files(tmp_path, monkeypatch):
    """replace=False: a.png published, b.png found taken; a.png, replaced meanwhile by another
    process's file, is that process's: left as it is (only this call's own file is removed)."""
    import os

    from taco.atomic import write_all_atomic

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    b.write_bytes(b"theirs b")
    real_link = os.link

    def link(src, dst, *args, **kwargs):
        real_link(src, dst, *args, **kwargs)
        if Path(dst) == a:  # another writer replaces a.png right after this one published it
            other = tmp_path / "other.tmp"
            other.write_bytes(b"theirs a")
            os.replace(other, a)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(FileExistsError):
        write_all_atomic({a: b"mine a", b: b"mine b"}, replace=False)
    assert a.read_bytes() == b"theirs a"
    assert b.read_bytes() == b"theirs b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_write_all_new_removes_its_own_files_when_one_is_taken(tmp_path):
    from taco.atomic import write_all_atomic

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    b.write_bytes(b"theirs b")
    with pytest.raises(FileExistsError) as info:
        write_all_atomic({a: b"mine a", b: b"mine b"}, replace=False)
    assert info.value.filename == str(b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png"]
    assert b.read_bytes() == b"theirs b"


def test_write_all_new_at_a_link_into_a_missing_folder_says_the_name_is_taken(tmp_path):
    """replace=False stages beside the name, not beside a link's target: a dangling link there
    (into a folder that is not there) is a name taken, FileExistsError naming it."""
    import os

    from taco.atomic import write_all_atomic

    a = tmp_path / "a.png"
    os.symlink(tmp_path / "gone" / "x.png", a)
    with pytest.raises(FileExistsError) as info:
        write_all_atomic({a: b"mine"}, replace=False)
    assert info.value.filename == str(a)
    assert os.readlink(a) == str(tmp_path / "gone" / "x.png")
    assert not (tmp_path / "gone").exists()


THEIRS = '{"theirs": true}\n'


def test_bench_json_to_a_device_without_force_writes_it(tmp_path, monkeypatch, capsys):
    """--json /dev/null without --force: a device is written into (no name to publish)."""
    from taco import cli
    from taco.bench import latency

    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: {"results": []})
    monkeypatch.setattr("taco.bench.report.format_table", lambda result: "the table")
    assert cli.main(["bench", "--quick", "--device", "cpu", "--json", "/dev/null"]) == 0
    out = capsys.readouterr().out
    assert "the table" in out and "wrote /dev/null" in out


def test_bench_memory_with_force_replaces_one_written_meanwhile(tmp_path, monkeypatch, capsys):
    from taco import cli

    out = tmp_path / "bm.json"

    def peak_memory(model, h, w, device):
        out.write_text(THEIRS)
        return {"model": model}

    monkeypatch.setattr("taco.bench.peak_memory.peak_memory", peak_memory)
    monkeypatch.setattr("taco.bench.report.format_memory", lambda m: "a memory line")
    assert cli.main(["bench", "--memory", "64x64", "--device", "cpu", "-f", "--json", str(out)]) == 0
    assert "memory" in out.read_text()
    assert f"wrote {out}" in capsys.readouterr().out


def test_bench_profile_with_force_replaces_one_written_meanwhile(tmp_path, monkeypatch, capsys):
    import torch

    from taco import cli

    out = tmp_path / "bp.json"

    class _Model:
        def to(self, device):
            return self

    def profile(model, x, runs):
        out.write_text(THEIRS)
        return {"profiled": True}

    monkeypatch.setattr("taco.bench.inputs.load_inputs", lambda images, crop: [("img", torch.zeros(1, 3, 8, 8), None)])
    monkeypatch.setattr("taco.models.create_model", lambda name: None)
    monkeypatch.setattr("taco.bench.systems.compressai_elic", lambda model: _Model())
    monkeypatch.setattr("taco.bench.profiling.profile_entropy_coding", profile)
    monkeypatch.setattr("taco.bench.report.format_profile", lambda prof: "a profile")
    assert cli.main(["bench", "--profile", "--quick", "--device", "cpu", "-f", "--json", str(out)]) == 0
    assert '"profiled": true' in out.read_text()
    assert f"wrote {out}" in capsys.readouterr().out


def test_import_of_a_taco_checkpoint_is_refused(tmp_path, tiny_taco):
    from taco.models import CheckpointError, save_checkpoint
    from taco.official import import_checkpoint

    path = save_checkpoint(tiny_taco, tmp_path / "tiny.safetensors")
    with pytest.raises(CheckpointError, match="a taco checkpoint already, nothing to import"):
        import_checkpoint(path, "clip-tiny")


def test_import_refuses_a_state_dict_key_that_is_no_name(tmp_path):
    import torch

    from taco.models import CheckpointError
    from taco.official import import_checkpoint

    path = tmp_path / "int_key.pth.tar"
    torch.save({"state_dict": {"module.a.weight": torch.zeros(2), 7: torch.zeros(2)}}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(err.value) == f"{path}: the state dict holds a non-tensor entry 7"


def test_import_refuses_a_view_over_fewer_bytes_than_its_values(tmp_path):
    """4 float32 values over a storage of 4 bytes (one value expanded): not saved weights."""
    import torch

    from taco.models import CheckpointError
    from taco.official import import_checkpoint

    path = tmp_path / "view.pth.tar"
    torch.save({"state_dict": {"module.a.weight": torch.zeros(1).expand(4)}}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(err.value) == (f"{path}: tensor 'module.a.weight' is a view of 4 values over storage "
                              "of 4 bytes: not a saved model's weights")


def test_bench_json_another_files_exists_error_is_not_said_as_written_meanwhile(tmp_path, monkeypatch, capsys):
    from taco import cli
    from taco.bench import latency

    out = tmp_path / "bj.json"
    elsewhere = str(tmp_path / "elsewhere")

    def write_json(path, obj, *, replace=True):
        raise FileExistsError(errno.EEXIST, "File exists", elsewhere)

    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: {"results": []})
    monkeypatch.setattr("taco.bench.report.format_table", lambda result: "the table")
    monkeypatch.setattr("taco.jsonfiles.write_json", write_json)
    assert cli.main(["bench", "--quick", "--device", "cpu", "--json", str(out)]) != 0
    err = capsys.readouterr().err
    assert "written meanwhile" not in err and "elsewhere" in err


def test_a_hosts_own_tqdm_bar_counts_as_shown(tmp_path):
    """Another tqdm bar of the program taco is in (not progress_bar's) is on the line: lines go
    above it. In a child process: a tqdm bar fixes the start method of the one it is built in."""
    import subprocess
    import sys

    code = ("import io, tqdm\n"
            "from taco.progress import bar_shown\n"
            "assert not bar_shown()\n"
            "bar = tqdm.tqdm(total=3, file=io.StringIO(), disable=False)\n"
            "assert bar_shown()\n"
            "bar.close()\n"
            "assert not bar_shown()\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


class _ClosedStderr(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_a_closed_stderr_gets_no_bar(monkeypatch):
    from taco.progress import progress_bar

    monkeypatch.setattr("sys.stderr", _ClosedStderr())
    bar = progress_bar(total=3, desc="x", unit="image")
    assert bar.disable is True
    assert "tqdm" not in type(bar).__module__
    bar.update(2)
    bar.close()
