"""A symbolic link to a missing file is an existing output (review DC2, session 37), as for
``taco compress``: ``taco import-captions -o``, ``taco bench --json`` and ``taco train
--embed-captions`` refuse it without ``--force`` (they wrote through it), and ``taco
import-checkpoint --force`` refuses a link into a missing folder before the checkpoint is read."""

from __future__ import annotations

import argparse
import json

import pytest

from taco.bench.cli import check_output
from taco.cli import main
from taco.cli.common import CLIError
from taco.train.cli import check_embed_output


@pytest.fixture()
def dangling(tmp_path):  # noqa: ANN001, ANN201
    link = tmp_path / "out.jsonl"
    link.symlink_to(tmp_path / "real.jsonl")
    return link


def test_import_captions_refuses_a_link_to_a_missing_file(tmp_path, dangling, capsys) -> None:  # noqa: ANN001
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({"a.png": "A cat."}))
    assert main(["import-captions", str(caps), "-o", str(dangling)]) == 2
    assert capsys.readouterr().err == (f"taco import-captions: error: {dangling} exists; "
                                       "pass --force to overwrite it\n")
    assert not (tmp_path / "real.jsonl").exists()
    assert main(["import-captions", str(caps), "-o", str(dangling), "--force"]) == 0
    assert dangling.is_symlink() and (tmp_path / "real.jsonl").is_file()


def test_bench_json_refuses_a_link_to_a_missing_file(dangling) -> None:  # noqa: ANN001
    with pytest.raises(CLIError, match="exists; pass --force to overwrite it"):
        check_output(dangling, force=False)
    check_output(dangling, force=True)


def test_embed_captions_refuses_a_link_to_a_missing_file(dangling) -> None:  # noqa: ANN001
    with pytest.raises(CLIError, match="exists; pass --force to overwrite it"):
        check_embed_output(argparse.Namespace(embed_captions=str(dangling), force=False))
    check_embed_output(argparse.Namespace(embed_captions=str(dangling), force=True))


def test_import_checkpoint_refuses_a_link_into_a_missing_folder_first(tmp_path, capsys) -> None:  # noqa: ANN001
    junk = tmp_path / "ck.pth.tar"
    junk.write_bytes(b"junk\n")  # not a checkpoint: reading it would fail with another error
    link = tmp_path / "o.safetensors"
    link.symlink_to(tmp_path / "nodir" / "x.safetensors")
    assert main(["import-checkpoint", str(junk), "-o", str(link), "--force"]) == 2
    assert capsys.readouterr().err == (f"taco import-checkpoint: error: {link} links to "
                                       f"{tmp_path / 'nodir' / 'x.safetensors'}, in a folder that does not exist\n")
