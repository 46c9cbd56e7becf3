"""What taco says is true of a wheel install as well as of a checkout (Review PK): the git commit
in an evaluation's ``environment`` is taco's own (not that of a git project taco was installed
into) and says whether the checkout had local changes; help texts and messages that name files
of the source tree (a test's golden file, the example configs/) say where those are; git status
runs without optional locks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from taco.cli import main
from taco.evaluation import measure
from taco.evaluation.measure import environment, git_checkout
from taco.train.config import ConfigError, read_config_file

WHERE = "in taco's source tree (a checkout or the sdist)"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.email=a@b", "-c", "user.name=me", "-c", "commit.gpgsign=false",
                           *args], capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def repo(folder: Path, project: str | None) -> str:
    """A git repository at ``folder`` with one commit: app.py and, given ``project``, a
    pyproject.toml of that name; its commit."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q")
    (folder / "app.py").write_text("x = 1\n")
    if project is not None:
        (folder / "pyproject.toml").write_text(f'[project]\nname = "{project}"\n')
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "first")
    return git(folder, "rev-parse", "HEAD")


@needs_git
def test_taco_checkout_gives_its_commit_and_whether_tracked_files_changed(tmp_path):
    commit = repo(tmp_path, "taco-codec")
    assert git_checkout(tmp_path) == (commit, False)
    (tmp_path / "notes.txt").write_text("untracked\n")  # untracked files do not count
    assert git_checkout(tmp_path) == (commit, False)
    (tmp_path / "app.py").write_text("x = 2\n")
    assert git_checkout(tmp_path) == (commit, True)


@needs_git
@pytest.mark.parametrize("project", [None, "my-app"])
def test_another_git_project_taco_was_installed_into_gives_none(tmp_path, project):
    repo(tmp_path, project)  # pip install --target . into the user's own repository
    (tmp_path / "taco").mkdir()
    assert git_checkout(tmp_path) == (None, None)


@needs_git
def test_an_unpacked_sdist_inside_another_repository_gives_none(tmp_path):
    repo(tmp_path, "my-app")
    sdist = tmp_path / "taco_codec-0.1.0"  # no .git of its own: git would find the outer one
    sdist.mkdir()
    (sdist / "pyproject.toml").write_text('[project]\nname = "taco-codec"\n')
    assert git_checkout(sdist) == (None, None)


def test_environment_has_both_keys():
    env = environment("cpu")
    assert {"taco_git_commit", "taco_git_dirty"} <= set(env)
    assert (env["taco_git_commit"] is None) == (env["taco_git_dirty"] is None)


def test_import_checkpoint_help_says_where_the_golden_file_is(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: the words are not wrapped
    with pytest.raises(SystemExit) as exit_:
        main(["import-checkpoint", "--help"])
    assert exit_.value.code == 0
    assert f"tests/data/official/taco-tiny.pth.tar {WHERE}" in capsys.readouterr().out


def test_a_missing_example_config_says_the_configs_ship_in_the_source_tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a folder without configs/, as after a pip install
    with pytest.raises(ConfigError) as caught:
        read_config_file("configs/smoke.yaml")
    message = str(caught.value)
    assert message.startswith("configs/smoke.yaml: cannot read config (")
    assert f"the example configs/ ship {WHERE}, not in a pip install" in message
    assert "taco train --help" in message
    (tmp_path / "configs").mkdir()  # a checkout, the name mistyped: no hint about installs
    with pytest.raises(ConfigError) as caught:
        read_config_file("configs/smok.yaml")
    assert "source tree" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:  # another folder's missing file: no hint either
        read_config_file("mine/smoke.yaml")
    assert "source tree" not in str(caught.value)


def test_git_checkout_takes_no_optional_locks(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "taco-codec"\n')
    calls: list[list[str]] = []

    def run(args, **kwargs):
        calls.append(list(args))
        return subprocess.CompletedProcess(args, 0, stdout="# branch.oid abc123\n", stderr="")

    monkeypatch.setattr(measure.subprocess, "run", run)
    assert measure.git_checkout(Path(tmp_path)) == ("abc123", False)
    assert calls and calls[0][:2] == ["git", "--no-optional-locks"] and "status" in calls[0], calls
