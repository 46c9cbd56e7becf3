"""A run never writes over another run's files, nor over a file of the user's under a run file's
name (review F): a folder that holds only a checkpoint (what a GPU slice brings back) is refused
by a new run and by ``--resume`` (which points to ``--init-from``); a ``config.yaml`` or
``log.jsonl`` there is refused by a new run; ``--embed-captions FILE`` refuses an existing FILE
unless ``--force``."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.cli import main as taco_main
from taco.train import load_config
from taco.train.checkpoints import resume_source
from taco.train.config import ConfigError, dump_config
from taco.train.state import TrainStateError
from taco.train.trainer import CHECKPOINT_FILE, STATE_FILE


def _folder(path: Path, *names: str) -> Path:
    path.mkdir()
    for name in names:
        (path / name).write_bytes(b"the user's " + name.encode())
    return path


@pytest.mark.parametrize("name", [CHECKPOINT_FILE, f"{CHECKPOINT_FILE}.index.json"])
def test_a_checkpoint_without_a_state_is_a_run(tmp_path, name):
    run = _folder(tmp_path / "gpuback", name, "config.yaml", "log.jsonl")
    with pytest.raises(ConfigError, match=rf"already holds a run \({CHECKPOINT_FILE}\); no {STATE_FILE}"
                                          rf".*--init-from {run} -o NEWDIR, or choose another out_dir"):
        resume_source(run, None)
    with pytest.raises(TrainStateError, match=rf"--resume {run}: it holds a checkpoint .* no {STATE_FILE} "
                                              rf".*taco train {run / 'config.yaml'} --init-from {run} -o NEWDIR"):
        resume_source(run, run)
    new = tmp_path / "new"
    with pytest.raises(TrainStateError, match=rf"--init-from {run} -o {new}$"):
        resume_source(new, run)


@pytest.mark.parametrize("name", ["config.yaml", "log.jsonl"])
def test_a_config_or_log_is_not_overwritten_by_a_new_run(tmp_path, name):
    out = _folder(tmp_path / "proj", name)
    with pytest.raises(ConfigError, match=rf"{out} already holds {name} .* choose another out_dir, or "
                                          "pass --resume"):
        resume_source(out, None)
    assert resume_source(out, out)[0] is None  # --resume: the run killed there starts again
    src = _folder(tmp_path / "src", STATE_FILE)
    with pytest.raises(ConfigError, match=rf"--resume {src}: {out} holds {name}, which continuing"):
        resume_source(out, src)


def test_an_empty_or_new_folder_is_free(tmp_path):
    assert resume_source(tmp_path, None) == (None, None)
    assert resume_source(tmp_path / "new", None) == (None, None)


def test_the_cli_leaves_the_folders_as_they_were(tmp_path, tiny, capsys):
    """The review's commands: a new run and ``--resume`` into a slice's folder, a new run into
    a folder whose config.yaml is the config given; each exits 2 and changes nothing."""
    gpuback = _folder(tmp_path / "gpuback", CHECKPOINT_FILE, "log.jsonl")
    (gpuback / "config.yaml").write_text(dump_config(load_config(None, tiny(gpuback))))
    before = {p.name: p.read_bytes() for p in gpuback.iterdir()}
    assert taco_main(["train", "--set", *tiny(tmp_path / "x"), "max_steps=2", "-o", str(gpuback)]) == 2
    assert f"{gpuback} already holds a run ({CHECKPOINT_FILE})" in capsys.readouterr().err
    assert taco_main(["train", "--resume", str(gpuback), "--set", "max_steps=2"]) == 2
    err = capsys.readouterr().err
    assert f"--resume {gpuback}: it holds a checkpoint" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in gpuback.iterdir()} == before

    bare = _folder(tmp_path / "bare", CHECKPOINT_FILE)  # the checkpoint alone: no config to read
    assert taco_main(["train", "--resume", str(bare)]) == 2
    assert f"taco train CONFIG --init-from {bare} -o NEWDIR" in capsys.readouterr().err

    proj = _folder(tmp_path / "proj", "log.jsonl")
    (proj / "config.yaml").write_text((gpuback / "config.yaml").read_text())
    before = {p.name: p.read_bytes() for p in proj.iterdir()}
    assert taco_main(["train", str(proj / "config.yaml"), "--set", "max_steps=2", "-o", str(proj)]) == 2
    assert f"{proj} already holds config.yaml" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in proj.iterdir()} == before


def test_embed_captions_refuses_an_existing_file_unless_force(tmp_path, tiny, capsys):
    target = tmp_path / "checkpoint.safetensors"
    target.write_bytes(b"a trained model")
    argv = ["train", "--set", *tiny(tmp_path / "unused"), "--embed-captions", str(target)]
    assert taco_main(argv) == 2
    assert capsys.readouterr().err == (f"taco train: error: {target} exists; pass --force to overwrite it\n")
    assert target.read_bytes() == b"a trained model"
    assert taco_main([*argv, "--force"]) == 0
    assert target.read_bytes() != b"a trained model"

    assert taco_main(["train", "--set", *tiny(tmp_path / "unused"), "-f"]) == 2  # a run: never
    assert "--force goes with --embed-captions FILE" in capsys.readouterr().err
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize("name", ["gpu back", "it's back", "-back"])
def test_the_init_from_command_works_pasted(tmp_path, monkeypatch, name):
    """The command that starts a new run from a slice's checkpoint named its paths as they are:
    ``taco train gpu back/config.yaml --init-from gpu back -o NEWDIR`` pasted is three more
    arguments; each is one word now, and one starting with ``-`` no option."""
    import re
    import shlex

    from taco.cli import build_parser

    monkeypatch.chdir(tmp_path)
    run = _folder(Path(name), CHECKPOINT_FILE, "config.yaml", "log.jsonl")
    new = Path(f"-new {name}")
    with pytest.raises(TrainStateError) as caught:
        resume_source(new, run)
    message = str(caught.value)
    assert message.startswith(f"--resume {shlex.quote(str(run)) if name[0] != '-' else './-back'}: "), message
    words = shlex.split(re.search(r"(taco train .*)$", message).group(1))[1:]
    args = build_parser(words).parse_args(words)
    assert (Path(args.config), Path(args.init_from), Path(args.out_dir)) == (run / "config.yaml", run, new)
