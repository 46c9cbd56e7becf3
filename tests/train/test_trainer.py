"""taco.train: a tiny model trains on the sample photos, resumes exactly, stops on NaN, presets."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import taco
from taco.cli import main as taco_main
from taco.codec import compress, decompress_tensor, encode_text
from taco.data import CaptionedFolder, SkippedImageWarning, center_crop_transform, collate
from taco.errors import TacoWarning
from taco.losses import TacoLoss
from taco.models import create_model, save_checkpoint
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import (
    ConfigError,
    NonFiniteLossError,
    Trainer,
    elic_key_to_taco,
    lambda_sweep,
    load_config,
    train,
)
from taco.train.cli import register


def cli_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])


def _records(out_dir: Path, kind: str = "train") -> list[dict]:
    lines = (out_dir / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


@torch.no_grad()
def _eval_loss(model, loss: TacoLoss) -> float:
    """Loss of ``model`` (eval mode, true rounding) on central 64 px crops of the samples."""
    ds = CaptionedFolder(SAMPLES, transform=center_crop_transform(64), caption_index=0)
    batch = collate([ds[i] for i in range(len(ds))])
    model.eval()
    out = model(batch.images, encode_text(model, batch.captions))
    return loss(out, batch.images, batch.captions)["loss"].item()


def test_tiny_model_trains_and_its_checkpoint_codes(tmp_path, tiny):
    out = tmp_path / "run"
    cfg = load_config(None, tiny(out, max_steps=8, lr=1e-3, ckpt_interval=4,
                                           **{"val.root": SAMPLES, "val.interval": 4,
                                              "val.images": 2, "val.crop": 64}))
    result = train(cfg)
    assert result.step == 8 and result.epoch == 4  # 4 images, batch 2: 2 steps per epoch
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.safetensors", "config.yaml", "log.jsonl", "train_state.safetensors"]

    model = taco.load(result.checkpoint)
    meta = model.metadata
    assert meta["lambda"] == 0.0016 and meta["trained_steps"] == 8 and meta["epochs"] == 4.0
    assert meta["train_data"]["images"] == 4 and meta["device"] == "cpu" and meta["wall_time_s"] >= 0
    assert meta["config"]["model"] == "taco-tiny" and meta["preset"] == "taco"

    loss = TacoLoss(k_j=0)  # LPIPS + rate + MSE, measured the same way before and after
    before = _eval_loss(create_model("taco-tiny", seed=0), loss)
    after = _eval_loss(model, loss)
    assert after < 0.8 * before, (before, after)

    train_records = _records(out)
    assert [r["step"] for r in train_records] == list(range(1, 9))
    for key in ("loss", "bpp", "mse_term", "lpips", "clip_con", "joint_term", "psnr", "img_per_s"):
        assert all(key in r for r in train_records), key
    val = _records(out, "val")
    assert [r["step"] for r in val] == [4, 8]
    assert all(r["real_bpp"] > 0 and r["real_psnr"] > 0 for r in val)

    # the final checkpoint has its entropy tables: it codes and decodes as saved
    image = torch.rand(3, 70, 90)
    data = compress(image, "a test caption", model)
    x_hat, _ = decompress_tensor(data, taco.load(result.checkpoint))
    assert x_hat.shape == (1, 3, 70, 90)


def test_resume_continues_exactly(tmp_path, tiny):
    straight, halted = tmp_path / "straight", tmp_path / "halted"
    val = {"val.root": SAMPLES, "val.interval": 1, "val.images": 2, "val.crop": 64}
    train(load_config(None, tiny(straight, max_steps=4, **val)))
    train(load_config(None, tiny(halted, max_steps=2)))  # no validation: same training
    assert load_file(halted / "train_state.safetensors")["rng/torch"].shape == (1, 5056)
    train(load_config(None, tiny(halted, max_steps=4)), resume=halted)

    a, b = _records(straight), _records(halted)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    for ra, rb in zip(a, b, strict=True):
        assert ra["loss"] == rb["loss"] and ra["bpp"] == rb["bpp"], (ra["step"], ra, rb)
    wa, wb = (load_file(p / "checkpoint.safetensors") for p in (straight, halted))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_an_existing_run_is_not_overwritten(tmp_path, tiny):
    out = tmp_path / "run"
    train(load_config(None, tiny(out, max_steps=1, preset="elic", model="elic-tiny", k_j=0)))
    with pytest.raises(ConfigError, match="pass resume="):  # a Python caller: the Python way on
        Trainer(load_config(None, tiny(out, max_steps=2, preset="elic", model="elic-tiny", k_j=0)))


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, tiny, monkeypatch):
    calls = {"n": 0}
    forward = TacoLoss.forward

    def poisoned(self, out, x, captions=None, lmbda=None):
        parts = forward(self, out, x, captions, lmbda)
        calls["n"] += 1
        if calls["n"] == 3:
            parts["loss"] = parts["loss"] * float("nan")
        return parts

    monkeypatch.setattr(TacoLoss, "forward", poisoned)
    out = tmp_path / "run"
    cfg = load_config(None, tiny(out, max_steps=5, ckpt_interval=1, preset="elic", model="elic-tiny",
                                           k_j=0))
    with pytest.raises(NonFiniteLossError, match=r"step 3 .*last good checkpoint"):
        train(cfg)
    assert taco.load(out / "checkpoint.safetensors").metadata["trained_steps"] == 2
    state = json.loads(
        __import__("safetensors").safe_open(str(out / "train_state.safetensors"), "pt")
        .metadata()["taco_train_state"]
    )
    assert state["progress"]["step"] == 2


def test_corrupt_and_missing_images_are_skipped(tmp_path, tiny):
    data = tmp_path / "data"
    data.mkdir()
    lines = []
    for name in ("skimage-astronaut.png", "skimage-coffee.png", "skimage-rocket.png"):
        shutil.copy(SAMPLES / name, data / name)
        lines.append({"image": name, "captions": [f"photo {name}"]})
    (data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    lines += [{"image": "broken.png", "captions": ["x"]}, {"image": "gone.png", "captions": ["y"]}]
    (data / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in lines))
    cfg = load_config(None, tiny(tmp_path / "run", max_steps=4, preset="elic", model="elic-tiny", k_j=0,
                                           **{"data.root": data}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(cfg)
    assert result.step == 4
    messages = [str(w.message) for w in caught if issubclass(w.category, SkippedImageWarning)]
    assert any("1 listed without an image file" in m for m in messages)
    assert any("broken.png" in m for m in messages)


def test_elic_key_mapping_covers_the_backbone():
    elic, taco_model = create_model("elic-tiny"), create_model("taco-tiny")
    assert elic_key_to_taco("g_a.stage1.0.weight") == "g_a.base.stage1.0.weight"
    assert elic_key_to_taco("g_s.0.weight") == "g_s.0.weight"
    mapped = {elic_key_to_taco(k) for k in elic.state_dict()}
    adapter = {k for k in taco_model.state_dict() if k.startswith("g_a.adapter.")}
    assert mapped == set(taco_model.state_dict()) - adapter


@pytest.mark.parametrize("injection", ["adapter", "tgic"])
def test_frozen_base_starts_as_its_elic_and_trains_only_the_text_modules(tmp_path, tiny, injection):
    elic = create_model("elic-tiny", seed=7)
    save_checkpoint(elic, tmp_path / "elic.safetensors")
    out = tmp_path / "run"
    cfg = load_config(None, tiny(
        out, preset="taco-frozen-base", init_from=tmp_path / "elic.safetensors", max_steps=2,
        k_j=0, lr=1e-3, **{"model_overrides.text_injection": injection}))
    trainer = Trainer(cfg)
    model = trainer.model
    assert model.config.text_injection == injection
    # the adapter gets the identity residual; TGIC has no such option (it would refuse it)
    assert model.config.residual == ("identity" if injection == "adapter" else "paper")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("g_a.adapter.") for n in trainable)
    assert trainer.aux_optimizer is None  # the entropy model is frozen too
    fresh = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("g_a.adapter.")}

    x = torch.rand(2, 3, 64, 64)
    model.eval()
    with torch.no_grad():
        a = model(x, encode_text(model, ["a", "b"]))
        b = elic.eval()(x)
    # a fresh adapter (gamma = 0) / TGIC (zeroed output conv) is an exact no-op
    assert torch.equal(a["x_hat"], b["x_hat"])
    model.train()
    trainer.fit()
    after = taco.load(out / "checkpoint.safetensors").state_dict()
    for k, v in elic.state_dict().items():  # the checkpoint holds weights in float16
        if not k.endswith(("_quantized_cdf", "_offset", "_cdf_length")):
            assert torch.equal(after[elic_key_to_taco(k)], v.half().float()) or torch.equal(
                after[elic_key_to_taco(k)], v), k
    assert set(after) == {elic_key_to_taco(k) for k in elic.state_dict()} | set(fresh)
    changed = {k for k, v in fresh.items() if not torch.equal(after[k], v)}
    if injection == "adapter":
        assert after["g_a.adapter.ca1.gamma"].abs().sum() > 0
    else:  # the zeroed output conv trains at step 1, the layers before it from step 2
        assert {"g_a.adapter.ca1.fuse.2.weight", "g_a.adapter.ca1.word_proj.weight",
                "g_a.adapter.ca3.fuse.0.weight"} <= changed


def test_lambda_sweep(tmp_path, tiny):
    cfg = load_config(None, tiny(tmp_path, max_steps=1, preset="elic", model="elic-tiny", k_j=0,
                                           model_id="elic-tiny-photos"))
    results = lambda_sweep(cfg, lambdas=(0.0004, 0.015))
    assert [r.checkpoint.parent.name for r in results] == ["lambda-0.0004", "lambda-0.015"]
    models = [taco.load(r.checkpoint) for r in results]
    assert [m.metadata["lambda"] for m in models] == [0.0004, 0.015]
    assert models[0].model_id == "elic-tiny-photos-lambda0.0004"


def test_lambda_sweep_refuses_a_frozen_base_from_one_init_before_training(tmp_path, tiny, monkeypatch):
    """taco.train.lambda_sweep on preset taco-frozen-base with an init_from trained only the
    text modules of that one codec at every λ (its frozen entropy model fixes the rate): six
    runs of one rate point, unsaid, where taco train --lambda-sweep refused it."""
    import taco.train.trainer as trainer_module

    save_checkpoint(create_model("elic-tiny", seed=7), tmp_path / "elic.safetensors")
    out = tmp_path / "sweep"
    cfg = load_config(None, tiny(out, preset="taco-frozen-base", init_from=tmp_path / "elic.safetensors",
                                 max_steps=1, k_j=0))

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a λ's run was started")

    monkeypatch.setattr(trainer_module, "Trainer", no_run)
    with pytest.raises(ConfigError, match="fix the rate, so the six runs are one rate point") as e:
        lambda_sweep(cfg, lambdas=(0.0004, 0.015))
    assert "elic.safetensors" in str(e.value) and len(str(e.value).splitlines()) == 1
    assert "as scripts/ablation_text_injection.sh does" in str(e.value)
    assert not out.exists()


def test_a_signal_stops_a_lambda_sweep_with_its_checkpoint(tmp_path, tiny, monkeypatch):
    """SIGTERM during the first λ: that run stops after the step in hand with its checkpoint,
    the sweep stops there (no next λ), and the way on is the sweep's own --resume."""
    import os
    import signal

    from taco.errors import Interrupted
    from taco.train.trainer import Trainer

    step = Trainer.train_step

    def signalled_step(self, batch):  # noqa: ANN001, ANN202
        out = step(self, batch)
        if self.progress.step == 1:  # the step in hand is the second
            os.kill(os.getpid(), signal.SIGTERM)
        return out

    monkeypatch.setattr(Trainer, "train_step", signalled_step)
    cfg = load_config(None, tiny(tmp_path, max_steps=5, preset="elic", model="elic-tiny", k_j=0))
    with pytest.raises(Interrupted) as raised:
        lambda_sweep(cfg, lambdas=(0.0004, 0.015))
    assert raised.value.signum == signal.SIGTERM
    assert raised.value.progress.startswith(" at step 2 ")
    assert raised.value.progress.endswith(  # from Python: its words (taco train passes its own)
        "go on with the same lambda_sweep call with resume=True")
    assert taco.load(tmp_path / "lambda-0.0004" / "checkpoint.safetensors").metadata[
        "trained_steps"] == 2
    assert not (tmp_path / "lambda-0.015").exists()


def test_bf16_and_channels_last_run_on_cpu(tmp_path, tiny):
    cfg = load_config(None, tiny(tmp_path, max_steps=1, preset="elic", model="elic-tiny", k_j=0,
                                           k_p=0, bf16=True, channels_last=True))
    result = train(cfg)
    assert result.step == 1 and all(torch.isfinite(torch.tensor(v)) for v in result.last.values())


def test_command_line(tmp_path, tiny, capsys):
    import argparse

    assert cli_main(["--print-config", "--set", "k_j=0", "data.root=/x"]) == 0
    printed = capsys.readouterr().out
    assert "k_j: 0.0" in printed and "root: /x" in printed
    assert cli_main(["--set", "lamda=1"]) == 2
    assert "did you mean 'lmbda'" in capsys.readouterr().err

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", "c.yaml", "--set", "k_j=0", "--resume", "--max-steps", "5"])
    assert (args.config, args.overrides, args.resume, args.max_steps) == ("c.yaml", ["k_j=0"], "", 5)

    out = tmp_path / "run"
    argv = ["--set", *tiny(out, preset="elic", model="elic-tiny", k_j=0), "--max-steps", "1"]
    assert cli_main(argv) == 0 and (out / "checkpoint.safetensors").exists()
    assert cli_main(argv) == 2  # exists: refuses without --resume
    assert cli_main([*argv[:-1], "2", "--resume"]) == 0
    assert taco.load(out / "checkpoint.safetensors").metadata["trained_steps"] == 2
    capsys.readouterr()
    # resuming a finished run writes nothing and says so
    before = {f.name: f.stat().st_mtime_ns for f in out.iterdir()}
    assert cli_main([*argv[:-1], "2", "--resume"]) == 0
    assert "already finished at step 2" in capsys.readouterr().err
    assert {f.name: f.stat().st_mtime_ns for f in out.iterdir()} == before
    # stderr not a terminal (a log file, nohup): no bar, so one line per log interval instead
    logged = tmp_path / "logged"
    assert cli_main(["--set", *tiny(logged, preset="elic", model="elic-tiny", k_j=0, progress="true"),
                     "--max-steps", "2"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("step ")]
    assert [line.split(":")[0] for line in lines] == ["step 1/2", "step 2/2"] and "bpp" in lines[0]


def test_a_text_free_model_trains_on_a_folder_without_captions(tmp_path, tiny):
    """ELIC reads no text: a folder of photos without captions.jsonl is its training set (every
    image) and its validation set; a text-guided model still asks for the captions."""
    import shutil

    photos = tmp_path / "photos"
    photos.mkdir()
    for p in sorted(SAMPLES.glob("*.png"))[:2]:
        shutil.copy(p, photos / p.name)
    out = tmp_path / "elic"
    assert cli_main(["--set", *tiny(out, preset="elic", model="elic-tiny", k_j=0), f"data.root={photos}",
                     f"val.root={photos}", "val.interval=1", "--max-steps", "1"]) == 0
    assert (out / "checkpoint.safetensors").is_file()
    assert cli_main(["--set", *tiny(tmp_path / "taco"), f"data.root={photos}", "--max-steps", "1"]) == 2


def test_a_joint_loss_with_one_image_per_process_warns(tmp_path, tiny):
    """The contrastive part of the joint loss is taken within a process's batch: 0 with one
    image (a torchrun command of the docs had batch_size=1)."""
    from taco.train import Trainer, load_config

    with pytest.warns(TacoWarning, match="contrastive part of the joint loss"):
        Trainer(load_config(None, tiny(tmp_path / "one", batch_size=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(load_config(None, tiny(tmp_path / "two", batch_size=2)))


def test_a_caption_over_the_cap_stops_the_run_at_its_start(tmp_path, tiny, capsys):
    """Refused before the first step, naming it: not a crash at the step that draws it."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in sorted(SAMPLES.glob("*.png"))[:2]:
        shutil.copy(p, photos / p.name)
    (photos / "captions.jsonl").write_text("".join(
        json.dumps({"image": p.name, "captions": ["a photo", "b" * 10_001 if i else "fine"]}) + "\n"
        for i, p in enumerate(sorted(photos.glob("*.png")))))
    assert cli_main(["--set", *tiny(tmp_path / "run"), f"data.root={photos}", "--max-steps", "1"]) == 2
    err = capsys.readouterr().err
    assert f"training data: {photos / sorted(p.name for p in photos.glob('*.png'))[1]}: caption 'bbb" in err
    assert "10,001 characters" in err
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


def test_a_lambda_sweep_of_a_frozen_base_without_init_from_is_not_refused(tmp_path, tiny):
    """Only a frozen base trained from one init_from is one rate point at every λ: without
    init_from each λ's run has a base of its own, and the sweep is six models."""
    from taco.train.config import check_lambda_sweep

    check_lambda_sweep(load_config(None, tiny(tmp_path / "sweep", preset="taco-frozen-base", max_steps=1,
                                              k_j=0)))
