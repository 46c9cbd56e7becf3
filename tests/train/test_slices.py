"""Training in slices and the fast path (issue 14): time limit, warm start, 16 MB shards, the
training set and its caption tokens kept on the device, bf16 with a float32 rate."""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import taco
from taco import shards
from taco.cli import main as taco_main
from taco.data import CaptionedFolder
from taco.models import create_model
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.text import get_text_encoder
from taco.train import Trainer, load_config, train
from taco.train.caption_embeddings import CaptionTable
from taco.train.forward import TrainingNet
from taco.train.resident_data import ResidentImages, step_generator


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def _records(out: Path, kind: str = "train") -> list[dict]:
    lines = (out / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


# --------------------------------------------------------------------------- time limit


def test_time_limit_stops_cleanly_with_a_checkpoint_and_validation(tmp_path, tiny):
    out = tmp_path / "run"
    val = {"val.root": SAMPLES, "val.interval": 100000, "val.images": 2, "val.crop": 64,
           "val.compress_images": 1}  # fmt: skip
    # epochs too: the default 50 (100 steps on the 4 samples) fit in 8 s on a fast machine
    cfg = load_config(None, tiny(out, max_steps=100000, epochs=100000, ckpt_interval=100000,
                                 log_interval=50, time_limit="8s", **ELIC, **val))  # fmt: skip
    # a first run pays once for imports (torch._dynamo by Adam, scipy by CompressAI: 10 s under
    # load) that would eat the 8 s budget of a test run alone
    train(load_config(None, tiny(tmp_path / "warm", max_steps=1, **ELIC)))
    t0 = time.perf_counter()
    result = train(cfg)
    took = time.perf_counter() - t0
    assert result.stopped == "time_limit" and 0 < result.step < 100000, result
    assert took < 8 + 30  # the budget, plus the final checkpoint and validation at worst
    assert taco.load(result.checkpoint).metadata["trained_steps"] == result.step
    assert [r["step"] for r in _records(out, "val")] == [result.step]  # the hook still ran
    assert _records(out)[-1]["step"] == result.step  # the last partial interval is logged

    # the next slice resumes it exactly where it stopped
    more = load_config(None, tiny(out, max_steps=result.step + 2, epochs=100000, **ELIC))
    assert train(more, resume=out).step == result.step + 2


def test_time_limit_on_the_command_line(tmp_path, tiny, capsys, monkeypatch):
    from taco.train.schedule import TimeBudget

    # spent once a step is done, however long the set-up took on this machine
    monkeypatch.setattr(TimeBudget, "spent", lambda self: self.step_time > 0)
    out = tmp_path / "run"
    argv = ["--set", *tiny(out, max_steps=100000, epochs=100000, **ELIC), "--time-limit", "1m"]
    assert train_main(argv) == 0
    assert "time limit 1m reached" in capsys.readouterr().err
    assert taco.load(out / "checkpoint.safetensors").metadata["trained_steps"] == 1
    assert train_main(["--time-limit", "soon", "--set", *tiny(out, **ELIC)]) == 2
    assert "time_limit must be a duration like 8m" in capsys.readouterr().err


def test_a_time_limit_the_set_up_spends_writes_nothing(tmp_path, tiny, capsys):
    """Not one step fits: no checkpoint of untrained weights (which taco models would list as
    a model trained for 0 steps), one line, exit status 3; a resumed run's files stay as
    they were."""
    out = tmp_path / "run"
    argv = ["--set", *tiny(out, max_steps=100000, epochs=100000, **ELIC), "--time-limit", "0.01s"]
    assert train_main(argv) == 3
    err = capsys.readouterr().err
    assert "taco train: stopped: no step fitted in the time limit 0.01s: the set-up took" in err
    assert "no checkpoint written" in err and "Traceback" not in err
    assert not (out / "checkpoint.safetensors").exists() and not (out / "train_state.safetensors").exists()

    assert train_main(["--set", *tiny(out, max_steps=1, **ELIC)]) == 0  # a fresh run may go there
    before = {f.name: f.stat().st_mtime_ns for f in out.iterdir() if f.name.endswith(".safetensors")}
    assert train_main([*argv, "--resume"]) == 3
    assert f"the checkpoint and state in {out} are as they were (step 1)" in capsys.readouterr().err
    assert {f.name: f.stat().st_mtime_ns for f in out.iterdir() if f.name.endswith(".safetensors")} == before


# --------------------------------------------------------------------------- warm start


def test_init_from_a_run_folder_warm_starts(tmp_path, tiny, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert train_main(["--set", *tiny(first, max_steps=2, lr=1e-3, **ELIC)]) == 0
    argv = ["--set", *tiny(second, max_steps=3, lr=1e-3, **ELIC), "--init-from", str(first)]
    assert train_main(argv) == 0
    assert "init from" in capsys.readouterr().err
    # a fresh optimiser, warmed up over 100 steps: lr = 1e-3 * step / 100
    assert [r["lr"] for r in _records(second)] == pytest.approx([1e-5, 2e-5, 3e-5])
    meta = taco.load(second / "checkpoint.safetensors").metadata
    assert meta["config"]["warmup_steps"] == 100 and meta["config"]["init_from"] == str(first)
    assert meta["init_from"]["trained_steps_total"] == 2 and meta["trained_steps_total"] == 5
    state = load_file(second / "train_state.safetensors")
    assert state["optim/g_a.stage1.0.weight/step"].item() == 3  # not the first run's Adam

    # the weights it started from are the first run's (float16) checkpoint
    trainer = Trainer(load_config(None, tiny(tmp_path / "third", init_from=str(first), **ELIC)))
    saved = taco.load(first / "checkpoint.safetensors").state_dict()
    for name, p in trainer.model.named_parameters():
        assert torch.equal(p, saved[name]), name


def _first_batch(trainer: Trainer) -> tuple[torch.Tensor, list[str], float]:
    batch = next(iter(trainer.batches()))
    return batch.images.clone(), list(batch.names), torch.rand(()).item()


@pytest.mark.parametrize("on_device", [False, True])
def test_a_warm_start_draws_new_batches_and_resumes_exactly(tmp_path, tiny, on_device):
    """Each slice of a chain of warm starts starts at step 0: it must not replay the first
    slice's crops, captions and noise (it did, with the stream a function of the seed alone),
    and it is still deterministic, so a warm-started run resumes exactly."""
    from taco.train.trainer import stream_seed

    fast = {"data_on_device": True} if on_device else {}
    first = tmp_path / "first"
    cold = Trainer(load_config(None, tiny(first, max_steps=2, **ELIC, **fast)))
    assert cold.seed == 0
    cold_batch = _first_batch(cold)
    cold.fit()
    warm = []
    for i in range(2):  # each built, then drawn from (the trainer seeds the global RNG)
        warm.append(Trainer(load_config(None, tiny(tmp_path / f"w{i}", init_from=str(first),
                                                   **ELIC, **fast))))
        warm.append(_first_batch(warm[-1]))
    assert warm[0].seed == stream_seed(0, 2) != 0 and stream_seed(0, 3) != stream_seed(0, 2)
    a, b = warm[1], warm[3]
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]  # deterministic
    assert not torch.equal(a[0], cold_batch[0]) and a[2] != cold_batch[2]  # not a replay

    straight, halted = tmp_path / "straight", tmp_path / "halted"
    train(load_config(None, tiny(straight, max_steps=3, init_from=str(first), **ELIC, **fast)))
    train(load_config(None, tiny(halted, max_steps=1, init_from=str(first), **ELIC, **fast)))
    # its source trains on meanwhile (a chain's next slice): the resumed run keeps its own seed
    train(load_config(None, tiny(first, max_steps=4, **ELIC, **fast)), resume=first)
    train(load_config(None, tiny(halted, max_steps=3, init_from=str(first), **ELIC, **fast)),
          resume=halted)
    assert [r["loss"] for r in _records(halted)] == [r["loss"] for r in _records(straight)]
    for run in (straight, halted):  # and its record of where it started
        assert taco.load(run / "checkpoint.safetensors").metadata["trained_steps_total"] == 2 + 3


# --------------------------------------------------------------------------- 16 MB shards


def test_sharded_checkpoint_and_state_resume_exactly(tmp_path, tiny, monkeypatch):
    # taco-tiny: a 0.7 MB checkpoint (its coder tables left out), a ~5 MB state (a tensor of 0.8 MB)
    monkeypatch.setattr("taco.train.checkpoints.SHARD_BYTES", 810_000)
    straight, halted = tmp_path / "straight", tmp_path / "halted"
    train(load_config(None, tiny(straight, max_steps=4)))
    train(load_config(None, tiny(halted, max_steps=2)))
    for name in ("checkpoint.safetensors", "train_state.safetensors"):
        files = shards.files(halted / name)
        assert all(f.stat().st_size <= 810_000 for f in files)
    assert len(shards.files(halted / "train_state.safetensors")) > 2  # (save_checkpoint's: test_shards)
    train(load_config(None, tiny(halted, max_steps=4)), resume=halted)
    assert [r["loss"] for r in _records(halted)] == [r["loss"] for r in _records(straight)]
    a, b = (shards.load_sharded(p / "checkpoint.safetensors")[0] for p in (straight, halted))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert a["g_a.base.stage1.0.weight"].dtype == torch.float16  # network weights in float16
    assert taco.load(halted / "checkpoint.safetensors").metadata["trained_steps"] == 4


# --------------------------------------------------------------------------- the fast path


def test_resident_decoding_takes_a_thread_per_usable_cpu(samples, monkeypatch):
    """Without ``workers``, decoding took ``os.cpu_count()`` threads (up to 16) where the
    trainer's loader workers take the CPUs the process may run on: a job pinned to one CPU of a
    64-core machine decoded in 16 threads."""
    from taco.train import resident_data

    sizes = []
    pool = resident_data.ThreadPoolExecutor
    monkeypatch.setattr(resident_data, "ThreadPoolExecutor", lambda n: sizes.append(n) or pool(n))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert len(ResidentImages.decode(CaptionedFolder(samples), crop=64, device="cpu")) == 4
    assert sizes == [1]


def test_resident_batches_are_a_function_of_the_step(samples):
    ds = CaptionedFolder(samples)
    images = ResidentImages.decode(ds, crop=64, device="cpu", workers=2)
    assert len(images) == 4 and all(t.dtype == torch.uint8 for t in images.images)
    a, b = images.batch([0, 2, 3], step=7, seed=0), images.batch([0, 2, 3], step=7, seed=0)
    assert torch.equal(a.images, b.images) and a.captions == b.captions
    assert a.images.shape == (3, 3, 64, 64) and 0 <= a.images.min() and a.images.max() <= 1
    c = images.batch([0, 2, 3], step=8, seed=0)
    assert not torch.equal(a.images, c.images)
    assert all(cap in ds.records[i].captions for i, cap in zip([0, 2, 3], a.captions, strict=True))
    # every crop is the window the step's generator drew (top, left, flip, caption per image)
    g = step_generator(0, 0, 7)
    for k, i in enumerate([0, 2, 3]):
        _, h, w = images.images[i].shape
        top, left = int(torch.randint(h - 63, (), generator=g)), int(torch.randint(w - 63, (), generator=g))
        assert not bool(torch.rand((), generator=g) < images.hflip)  # hflip 0: never flipped
        torch.randint(len(images.captions[i]), (), generator=g)
        window = images.images[i][:, top : top + 64, left : left + 64].float() / 255
        assert torch.equal(a.images[k], window)
    flipping = ResidentImages(images.images, images.captions, images.names, crop=64, hflip=1.0)
    assert torch.equal(flipping.batch([0, 2, 3], step=7, seed=0).images, a.images.flip(-1))


def test_data_on_device_trains_and_resumes_exactly(tmp_path, tiny):
    fast = {"data_on_device": True, "fused_adam": True, "channels_last": True}  # the GPU recipe's
    straight, halted = tmp_path / "straight", tmp_path / "halted"
    train(load_config(None, tiny(straight, max_steps=4, **fast)))
    train(load_config(None, tiny(halted, max_steps=2, **fast)))
    train(load_config(None, tiny(halted, max_steps=4, **fast)), resume=halted)
    a, b = _records(straight), _records(halted)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in a)


def test_caption_embeddings_file_replaces_the_text_encoder(tmp_path, tiny, monkeypatch, capsys):
    emb = tmp_path / "emb.safetensors"
    out = tmp_path / "run"
    val = {"val.root": SAMPLES, "val.interval": 2, "val.images": 2, "val.crop": 64,
           "val.compress_images": 1}  # fmt: skip
    overrides = tiny(out, max_steps=2, k_j=0, **val)
    assert train_main(["--set", *overrides, "--embed-captions", str(emb)]) == 0
    err = capsys.readouterr().err
    assert "-> " + str(emb) in err and not out.exists()
    assert "taco train: encoding " in err and " captions with clip-tiny ..." in err  # said before the long part

    table = CaptionTable.load(emb)
    assert table.encoder == {"name": "clip-tiny"} and table.tokens.dtype == torch.float16
    captions = [c for r in CaptionedFolder(SAMPLES).records for c in r.captions]
    assert not table.missing(captions)
    encoder = get_text_encoder("clip-tiny")
    exact, stored = encoder.encode(captions[:3]), table.lookup(captions[:3])
    assert torch.equal(exact.mask, stored.mask)
    assert torch.allclose(exact.tokens, stored.tokens, rtol=1e-3, atol=1e-3)

    def unavailable(*args, **kwargs):
        raise AssertionError("the text encoder was built")

    monkeypatch.setattr("taco.text.get_text_encoder", unavailable)
    result = train(load_config(None, [*overrides, f"text_embeddings={emb}", "data_on_device=true"]))
    assert result.step == 2 and _records(out, "val")[0]["real_bpp"] > 0

    other = load_config(None, tiny(tmp_path / "x", model="taco-minilm-tiny",
                                   text_embeddings=str(emb)))  # fmt: skip
    with pytest.raises(taco.train.ConfigError, match="made with the text encoder"):
        Trainer(other)


def test_bf16_keeps_the_latent_codec_in_float32():
    model = create_model("elic-tiny").train()
    net = TrainingNet(model, bf16=True)
    out = net(torch.rand(2, 3, 64, 64))
    assert out["x_hat"].dtype == torch.bfloat16  # the synthesis ran under autocast
    assert all(p.dtype == torch.float32 for p in out["likelihoods"].values())  # the rate did not
    codec = copy.deepcopy(model.latent_codec)  # the coding copy calls its own forward
    assert codec.forward.__self__ is codec
    assert set(codec.state_dict()) == set(model.latent_codec.state_dict())


def test_fast_flag_resolves(capsys):
    assert train_main(["--fast", "--compile", "--print-config"]) == 0
    printed = capsys.readouterr().out
    for key in ("data_on_device", "fused_adam", "bf16", "channels_last", "compile"):
        assert f"{key}: true" in printed, key


@pytest.mark.slow
def test_compiled_transforms_train_and_save_plain_keys(tmp_path, tiny):
    """compile=true compiles g_a and g_s in place: a run trains, and its checkpoint has the
    keys of an uncompiled model (it loads without torch.compile)."""
    out = tmp_path / "run"
    result = train(load_config(None, tiny(out, max_steps=2, compile=True, **ELIC)))
    assert result.step == 2 and all(torch.isfinite(torch.tensor(v)) for v in result.last.values())
    saved = taco.load(out / "checkpoint.safetensors").state_dict()
    assert set(saved) == set(create_model("elic-tiny").state_dict())
