"""Hostile ``torch.save`` files (the 2026-12 hostile-files review): a zip bomb in an authors'
checkpoint or a text encoder's ``pytorch_model.bin`` is refused from its zip records before
``torch.load`` inflates it; odd top-level entries and huge records of an authors' checkpoint
import, within the header a load reads back; a torch checkpoint given where a taco checkpoint
belongs says what it is and how to import it."""

from __future__ import annotations

import re
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
import torch

import taco
from taco.cli import main
from taco.errors import TacoValueError
from taco.fileobjects import zip_inflation_problem
from taco.models import CheckpointError, create_model, save_checkpoint
from taco.models.header import MAX_HEADER_CHARS
from taco.official.checkpoint import SOURCE_TEXT_CHARS, import_checkpoint, read_official_state_dict
from taco.text.base import TextEncoderUnavailable
from taco.text.weights import load_network

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"


def deflated(src: Path, dst: Path) -> Path:
    """``src`` (a torch.save zip) with every record recompressed with ZIP_DEFLATED, as the
    review's bomb was made (3 GiB of zeros in 3.5 MB)."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for record in z.infolist():
            with z.open(record) as a, out.open(record.filename, "w", force_zip64=True) as b:
                shutil.copyfileobj(a, b)
    return dst


@pytest.fixture(scope="module")
def golden() -> dict:
    return torch.load(GOLDEN, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def bomb(golden, tmp_path_factory) -> Path:
    """The golden checkpoint plus 64 MiB of zeros, deflated: a file of a few hundred kB."""
    where = tmp_path_factory.mktemp("bomb")
    torch.save({**golden, "best_bomb": torch.zeros(1 << 24)}, where / "raw.pth.tar")
    path = deflated(where / "raw.pth.tar", where / "bomb.pth.tar")
    assert path.stat().st_size < 2 * GOLDEN.stat().st_size
    return path


def test_a_deflated_checkpoint_is_refused_before_torch_load(bomb, monkeypatch, tmp_path):
    """Before, the file imported (exit 0) after inflating every record: 3.6 GB for the review's
    3.5 MB file. torch.save writes stored records only."""

    def no_load(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("torch.load was reached")

    monkeypatch.setattr(torch, "load", no_load)
    with pytest.raises(CheckpointError, match=r"zip record .* is compressed \(method 8\), which "
                       "torch.save never writes") as err:
        read_official_state_dict(bomb)
    assert str(bomb) in str(err.value)
    out = tmp_path / "out.safetensors"
    assert main(["import-checkpoint", str(bomb), "-o", str(out), "--text-encoder", "clip-tiny"]) == 2
    assert not out.exists()


def test_a_text_encoders_deflated_pytorch_model_bin_is_refused(tmp_path):
    torch.save({"weight": torch.zeros(2, 2), "bias": torch.zeros(2)}, tmp_path / "raw.bin")
    deflated(tmp_path / "raw.bin", tmp_path / "pytorch_model.bin")
    with pytest.raises(TextEncoderUnavailable, match="pytorch_model.bin.*is compressed"):
        load_network(lambda: torch.nn.Linear(2, 2), tmp_path, lambda k: k, "a test network")


def _declaring(path: Path, file_size: int) -> Path:
    """``path``, a zip of one stored record, with its central directory declaring ``file_size``
    uncompressed bytes for it (the local header and the data left as they are)."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x01\x02")  # the central directory's entry; its field at +24
    struct.pack_into("<I", data, at + 24, file_size)
    path.write_bytes(bytes(data))
    return path


def test_records_declaring_more_than_twice_the_file_are_refused(tmp_path):
    path = tmp_path / "x.pth.tar"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("x/data/0", b"\0" * 1000)
    assert zip_inflation_problem(path) is None
    size = path.stat().st_size
    _declaring(path, 2 * size)
    assert zip_inflation_problem(path) is None
    _declaring(path, 2 * size + 1)
    assert zip_inflation_problem(path) == (
        f"its zip records declare {2 * size + 1:,} bytes, more than the {size:,}-byte file stores: "
        "not a file torch.save wrote")


def test_what_torch_save_writes_passes_and_other_files_are_left_to_torch(tmp_path):
    assert zip_inflation_problem(GOLDEN) is None
    torch.save({"a": torch.zeros(3)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    assert zip_inflation_problem(tmp_path / "legacy.pt") is None  # a pickle: not a zip to torch
    cut = tmp_path / "cut.pth.tar"
    cut.write_bytes(GOLDEN.read_bytes()[:4000])  # starts as a zip, has no central directory
    assert zip_inflation_problem(cut) == (  # was "not a readable zip archive (File is not a zip file)"
        "an incomplete zip archive: it starts as one, but its end (the zip directory) is missing "
        "(truncated? download or copy it again)")
    with pytest.raises(CheckpointError, match=re.escape(f"{cut}: an incomplete zip archive")):
        import_checkpoint(cut)
    assert zip_inflation_problem(tmp_path / "none").startswith("cannot be read (")


def test_a_non_string_top_level_key_is_left_out(golden, tmp_path):
    """``{5: 1, ...}`` ended in AttributeError: 'int' object has no attribute 'startswith'."""
    path = tmp_path / "intkey.pth.tar"
    torch.save({**golden, 5: 1, (1, 2): "best"}, path)
    model = import_checkpoint(path, "clip-tiny")
    assert model.metadata["source_epoch"] == 49
    assert all(isinstance(k, str) for k in model.metadata)


def test_huge_records_are_cut_and_the_import_loads_back(golden, tmp_path):
    """A 2,000,000-character best_* string was copied whole: the written file was refused by
    every load (its header over MAX_HEADER_CHARS) and stayed on disk."""
    path = tmp_path / "hugestr.pth.tar"
    torch.save({**golden, "best_note": "x" * 2_000_000, "best_" + "y" * 100_000: 1.0}, path)
    out = tmp_path / "out.safetensors"
    assert main(["import-checkpoint", str(path), "-o", str(out), "--text-encoder", "clip-tiny"]) == 0
    meta = taco.load(out).metadata
    assert meta["source_best_note"] == "x" * (SOURCE_TEXT_CHARS - 1) + "…"
    assert not [k for k in meta if "yyy" in k]  # a 100,000-character name is left out
    assert all(len(str(v)) <= SOURCE_TEXT_CHARS for v in meta.values())


def test_save_checkpoint_refuses_a_header_it_could_not_read_back(tmp_path):
    model = create_model("elic-tiny", seed=0)
    out = tmp_path / "m.safetensors"
    with pytest.raises(TacoValueError, match=r"taco header would be [\d,]+ characters, over the "
                       rf"{MAX_HEADER_CHARS:,} taco reads back; its longest metadata entry, "
                       r"'note', takes 2,000,002: .*nothing was written"):
        save_checkpoint(model, out, metadata={"note": "x" * 2_000_000, "lambda": 0.01})
    assert not out.exists() and not list(tmp_path.iterdir())
    save_checkpoint(model, out, metadata={"note": "x" * (MAX_HEADER_CHARS // 2)})
    assert taco.load(out).metadata["note"] == "x" * (MAX_HEADER_CHARS // 2)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_torch_checkpoint_given_for_a_taco_one_says_how_to_import_it(golden, tmp_path, legacy):
    """It said "not a safetensors file (Error while deserializing header: header too large)"."""
    path = tmp_path / "their model.pth.tar"
    torch.save(golden, path, _use_new_zipfile_serialization=not legacy)
    words = (r"a PyTorch checkpoint (of the format before PyTorch 1.6 )?\(torch.save\), not a taco "
             rf"checkpoint: .*taco import-checkpoint '{tmp_path}/their model.pth.tar' -o "
             "MODEL.safetensors")
    with pytest.raises(CheckpointError, match=words):
        taco.load(path)


def test_the_cli_model_option_says_the_same(tmp_path, capsys, sample_image):
    photo = tmp_path / "x.png"
    sample_image.crop((0, 0, 64, 48)).save(photo)
    status = main(["compress", str(photo), "-m", str(GOLDEN), "-o", str(tmp_path / "x.taco")])
    err = capsys.readouterr().err
    assert status == 2 and "a PyTorch checkpoint (torch.save), not a taco checkpoint" in err
    assert f"taco import-checkpoint {GOLDEN}" in err and "header too large" not in err


@pytest.mark.parametrize("command", [["models"], ["train", "--init-from"]])
def test_every_reader_of_a_checkpoint_header_says_the_same(command, tmp_path, capsys):
    """`taco models x.pth.tar` and `--init-from x.pth.tar` read the header alone (not taco.load):
    they said "not a safetensors file (... header too large)"."""
    argv = [*command, str(GOLDEN)]
    if command[0] == "train":
        argv += ["--set", "data.root=nowhere", "--out-dir", str(tmp_path / "run")]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and "a PyTorch checkpoint (torch.save), not a taco checkpoint" in err, err
    assert "header too large" not in err
