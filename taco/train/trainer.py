"""The training loop (paper §4.1): one process, or many through ``torchrun`` (PyTorch DDP).

    from taco.train import load_config, train
    result = train(load_config("configs/taco-coco.yaml", ["max_steps=1000"]))

One step: captions -> frozen text encoder (outside the model and outside DDP; embeddings are
cached per caption) -> model(x, text) -> :class:`taco.losses.TacoLoss` -> one backward of
``loss + aux_loss`` -> clip the main gradients at 1.0 -> Adam (main) and Adam (entropy-bottleneck
quantiles). The learning rate is ``lr * lr_gamma ** (milestones passed)`` per epoch.

Rank 0 alone logs, validates and writes. ``out_dir`` gets:

    config.yaml               the resolved configuration
    log.jsonl                 one JSON record per log interval ("train") and validation ("val")
    checkpoint.safetensors    the model (taco.load / taco compress --model), entropy tables updated
    train_state.safetensors   everything --resume needs (see taco.train.state)
    tb/                       TensorBoard scalars, when tensorboard is installed

Both files are rewritten atomically every ``ckpt_interval`` steps and at the end; a non-finite
loss or gradient stops the run with :class:`NonFiniteLossError`, a file that cannot be written
(full disk) with :class:`OutputWriteError`, and both leave the last good files as they were.
"""

from __future__ import annotations

import dataclasses
import errno
import importlib.util
import inspect
import json
import sys
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from .. import metrics
from ..atomic import stale_temporaries, write_bytes_atomic
from ..data import (
    CaptionedFolder,
    CocoCaptions,
    center_crop_transform,
    collate,
    train_transform,
)
from ..losses import TacoLoss
from ..models import (
    ELIC,
    MODEL_CONFIGS,
    CheckpointError,
    create_model,
    load,
    save_checkpoint,
)
from ..models.registry import checkpoint_config, read_checkpoint_header
from ..text import get_text_encoder
from ..text.base import TextEncoder, TextTokens
from .config import ConfigError, TrainConfig, dump_config
from .distributed import (
    ResumableSampler,
    all_reduce_mean,
    all_true,
    dist_env_from_environ,
    gather_rows,
    init_distributed,
    replicas_in_sync,
    resolve_device,
    shutdown_distributed,
)
from .state import (
    Progress,
    TrainStateError,
    load_train_state,
    optimizer_from_tensors,
    optimizer_to_tensors,
    prefixed,
    python_numpy_rng_state,
    save_train_state,
    set_python_numpy_rng_state,
)

CHECKPOINT_FILE = "checkpoint.safetensors"
STATE_FILE = "train_state.safetensors"
LOG_FILE = "log.jsonl"
#: Config keys that may differ when resuming (they do not change what the next step computes).
RESUMABLE_CHANGES = frozenset(
    {"max_steps", "epochs", "out_dir", "log_interval", "ckpt_interval", "val", "workers",
     "progress", "device", "compile"}
)  # fmt: skip
#: Clear the text encoders' per-caption caches this often (COCO has 414k captions).
TEXT_CACHE_STEPS = 2000


class NonFiniteLossError(RuntimeError):
    """The loss or the gradient norm became NaN/inf; the last good checkpoint is kept."""


class OutputWriteError(RuntimeError):
    """A checkpoint, the training state or the log could not be written (e.g. the disk is full);
    the last good checkpoint is kept. ``errno`` is the underlying OSError's."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


@dataclass
class TrainResult:
    """What :func:`train` returns (on every rank; paths are where rank 0 wrote)."""

    checkpoint: Path
    state: Path
    step: int
    epoch: int
    wall_time_s: float
    last: dict[str, float]


# --------------------------------------------------------------------------- model setup


def elic_key_to_taco(key: str) -> str:
    """ELIC state-dict key -> TACO's: ``g_a.stageK.*`` -> ``g_a.base.stageK.*``, others equal."""
    return "g_a.base." + key[len("g_a.") :] if key.startswith("g_a.stage") else key


_CODER_TABLES = frozenset({"_quantized_cdf", "_offset", "_cdf_length", "scale_table"})


def load_model_state(model: nn.Module, state: dict[str, Tensor], strict: bool = True) -> Any:
    """``load_state_dict`` that first resizes the entropy coder's tables to the saved ones.

    Their sizes depend on the learned densities, and CompressAI only resizes empty tables.
    """
    buffers = dict(model.named_buffers())
    for key, value in state.items():
        buf = buffers.get(key)
        if buf is not None and buf.shape != value.shape and key.rsplit(".", 1)[-1] in _CODER_TABLES:
            buf.resize_(value.shape)
    return nn.Module.load_state_dict(model, state, strict=strict)


def init_from_checkpoint(model: ELIC, path: str | Path) -> list[str]:
    """Load a checkpoint's weights (file or built-in name) into ``model``; an ELIC checkpoint
    may initialise a TACO.

    ELIC -> TACO maps the analysis stages into ``g_a.base`` (:func:`elic_key_to_taco`); the text
    adapter keeps its fresh initialisation. Returns the keys left at their initialisation.
    """
    source = load(path)  # a checkpoint file or a built-in trained name (elic-small-q4)
    src_cfg, dst_cfg = source.config, model.config  # type: ignore[attr-defined]
    for name in ("N", "M", "groups", "ctx_hidden", "layout"):
        if getattr(src_cfg, name) != getattr(dst_cfg, name):
            raise CheckpointError(
                f"init_from {path}: {name}={getattr(src_cfg, name)} there, "
                f"{getattr(dst_cfg, name)} in the model being trained"
            )
    state = source.state_dict()
    if src_cfg.architecture == "elic" and dst_cfg.architecture == "taco":
        state = {elic_key_to_taco(k): v for k, v in state.items()}
    elif src_cfg.architecture != dst_cfg.architecture:
        raise CheckpointError(
            f"init_from {path}: cannot initialise {dst_cfg.architecture} from "
            f"{src_cfg.architecture} (only ELIC -> TACO and like -> like)"
        )
    result = load_model_state(model, state, strict=False)
    not_adapter = [k for k in result.missing_keys if not k.startswith("g_a.adapter.")]
    if not_adapter or result.unexpected_keys:
        raise CheckpointError(
            f"init_from {path}: weights do not fit (missing {not_adapter[:3]}, "
            f"unexpected {result.unexpected_keys[:3]})"
        )
    model.update(force=True)
    return list(result.missing_keys)


def zero_tgic_outputs(model: nn.Module) -> int:
    """Zero the last fusion conv of every TGIC module: ``v + fuse([v; c])`` is then exactly
    ``v``, so a frozen-base TGIC starts from its ELIC, as the adapter does with gamma = 0
    (ControlNet-style zero conv; its weight still gets a gradient at the first step, the
    layers before it from the second). Returns how many modules were zeroed."""
    from ..models.tgic import TGICAttention

    n = 0
    for m in model.modules():
        if isinstance(m, TGICAttention):
            out = m.fuse[-1]
            with torch.no_grad():
                out.weight.zero_()  # type: ignore[operator]
                out.bias.zero_()  # type: ignore[union-attr,operator]
            n += 1
    return n


def build_model(cfg: TrainConfig) -> ELIC:
    """The model the preset trains, with its trainable parameters set (requires_grad)."""
    overrides = dict(cfg.model_overrides)
    if cfg.text_encoder is not None:
        overrides["text_encoder"] = {"name": cfg.text_encoder}
    name = cfg.resolved_model()
    frozen = cfg.preset == "taco-frozen-base"
    if frozen and name in MODEL_CONFIGS:
        spec = {**MODEL_CONFIGS[name].to_dict(), **overrides}
        if spec.get("text_injection", "adapter") == "adapter":
            # gamma = 0 and an identity residual make the fresh adapter an exact no-op, so
            # training starts from the (frozen) ELIC it was initialised with; the paper's
            # LN residual would not. model_overrides: {residual: paper} restores it. (TGIC has
            # no residual option: its no-op start is the zeroed output conv below.)
            overrides.setdefault("residual", "identity")
    if cfg.init_from and "layout" not in overrides:
        # the entropy-model layout follows the checkpoint it starts from (the built-in ELICs
        # have CompressAI's layout, new models the reference one: taco.models.elic)
        overrides["layout"] = checkpoint_config(cfg.init_from).layout
    try:
        model = create_model(name, seed=cfg.seed, **overrides)
    except (ValueError, TypeError, CheckpointError) as e:
        raise ConfigError(f"model {name!r}: {e}") from None
    arch = model.config.architecture  # type: ignore[attr-defined]
    if (cfg.preset == "elic") != (arch == "elic"):
        raise ConfigError(f"preset {cfg.preset!r} cannot train the {arch} model {name!r}")
    if frozen:
        zero_tgic_outputs(model)
    if cfg.init_from:
        init_from_checkpoint(model, cfg.init_from)
    if cfg.preset == "taco-frozen-base":
        for key, p in model.named_parameters():
            p.requires_grad_(key.startswith("g_a.adapter.") and p.requires_grad)
    if cfg.model_id:
        model.model_id = cfg.model_id  # type: ignore[assignment]
    return model


def split_parameters(model: nn.Module) -> tuple[dict[str, nn.Parameter], dict[str, nn.Parameter]]:
    """(main, aux) trainable parameters by name; aux = the entropy bottleneck's quantiles."""
    main: dict[str, nn.Parameter] = {}
    aux: dict[str, nn.Parameter] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            (aux if name.endswith(".quantiles") else main)[name] = p
    return main, aux


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    """The paper's step schedule: ``lr`` times ``lr_gamma`` for each milestone epoch reached."""
    return cfg.lr * cfg.lr_gamma ** sum(epoch >= m for m in cfg.lr_milestones)


def _no_buffer_sync(ddp: type) -> dict[str, Any]:
    """DDP keyword that stops buffer broadcasts before each forward.

    The buffers are the entropy coder's tables, which only rank 0 refreshes (``update()`` before
    saving), so their sizes may differ between ranks; the model has no batch-norm statistics.
    """
    if "forward_sync_buffers" in inspect.signature(ddp).parameters:
        return {"forward_sync_buffers": False}  # newer torch; buffers still agree at init
    return {"broadcast_buffers": False}


class _Net(nn.Module):
    """What DDP wraps: the codec alone, text tokens passed in as plain tensors."""

    def __init__(self, model: ELIC) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, tokens: Tensor | None = None, mask: Tensor | None = None) -> Any:
        if tokens is None:
            return self.model(x)
        return self.model(x, TextTokens(tokens, mask))  # type: ignore[call-arg,arg-type]


# --------------------------------------------------------------------------- data


def build_train_dataset(cfg: TrainConfig) -> Dataset:
    """Random ``crop`` windows with a random caption; per-sample randomness from the seed.
    ``data.small_images`` / ``data.hflip``: see :class:`DataConfig`."""
    d = cfg.data
    if d.root is None:
        raise ConfigError("data.root is not set (the training images)")
    transform = train_transform(cfg.crop, hflip=d.hflip)
    kw = {"seed": cfg.seed, "min_side": cfg.crop if d.small_images == "drop" else None}
    if d.kind == "folder":
        return CaptionedFolder(d.root, d.captions or "captions.jsonl", transform, **kw)
    return CocoCaptions(d.root, d.captions_path(), transform, **kw)


def build_val_dataset(cfg: TrainConfig) -> Dataset | None:
    v = cfg.val
    if v.root is None or v.images == 0:
        return None
    ds = CaptionedFolder(v.root, v.captions, center_crop_transform(v.crop), caption_index=0)
    return Subset(ds, range(min(v.images, len(ds))))


# --------------------------------------------------------------------------- the trainer


class Trainer:
    """One training run. Build with a validated config, then call :meth:`fit`."""

    def __init__(self, cfg: TrainConfig, resume: str | Path | None = None) -> None:
        self.cfg = cfg
        self.env = dist_env_from_environ()
        self.device = resolve_device(cfg.device, self.env)
        init_distributed(self.env, self.device)
        self.out_dir = Path(cfg.out_dir)
        self.resume_path = self._resume_path(resume)

        self.model = build_model(cfg).to(self.device)
        if cfg.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.model.train()
        self.text_encoder: TextEncoder | None = None
        if self.model.uses_text:
            spec = dict(self.model.config.text_encoder)  # type: ignore[attr-defined]
            self.text_encoder = get_text_encoder(spec.pop("name"), **spec).to(self.device)
        self.loss_fn = TacoLoss(cfg.lmbda, cfg.k_p, cfg.k_j, cfg.beta, clip=cfg.clip_model,
                                lpips_input=cfg.lpips_input)
        self.loss_fn.to(self.device)

        self.dataset = build_train_dataset(cfg)
        self.sampler = ResumableSampler(self.dataset, self.env, cfg.seed)
        self.steps_per_epoch = len(self.sampler) // cfg.batch_size
        if self.steps_per_epoch == 0:
            raise ConfigError(
                f"{len(self.dataset)} training images are fewer than one batch per process "  # type: ignore[arg-type]
                f"({self.env.world_size} x {cfg.batch_size})"
            )
        self.loader = DataLoader(
            self.dataset,
            batch_size=cfg.batch_size,
            sampler=self.sampler,
            num_workers=cfg.workers,
            collate_fn=collate,
            pin_memory=self.device.type == "cuda",
            drop_last=True,
            # a private generator: creating an iterator must not draw from the global RNG,
            # or a resumed run would see other training noise than an uninterrupted one
            generator=torch.Generator(),
        )
        self.val_dataset = build_val_dataset(cfg) if self.env.is_main else None

        self.main_params, self.aux_params = split_parameters(self.model)
        if not self.main_params:
            raise ConfigError("nothing to train: every parameter is frozen")
        self.optimizer = torch.optim.Adam(self.main_params.values(), lr=cfg.lr)
        self.aux_optimizer = (
            torch.optim.Adam(self.aux_params.values(), lr=cfg.aux_lr) if self.aux_params else None
        )
        self.progress = Progress()
        # Each rank draws its own training noise; the model was built from cfg.seed everywhere.
        torch.manual_seed(cfg.seed + self.env.rank)
        np.random.seed(cfg.seed + self.env.rank)
        if self.resume_path is not None:
            self._load_state(self.resume_path)

        net: nn.Module = _Net(self.model)
        if self.env.distributed:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(
                net,
                device_ids=[self.device] if self.device.type == "cuda" else None,
                **_no_buffer_sync(DistributedDataParallel),
            )
        if cfg.compile:
            net = torch.compile(net)  # type: ignore[assignment]
        self.net = net

    # ----------------------------------------------------------------- public

    @property
    def total_steps(self) -> int:
        total = self.cfg.epochs * self.steps_per_epoch
        return total if self.cfg.max_steps is None else min(total, self.cfg.max_steps)

    def fit(self) -> TrainResult:
        """Train until ``epochs`` or ``max_steps``; write the final checkpoint and state."""
        cfg, p = self.cfg, self.progress
        self._start_outputs()
        self._say(self._summary())
        bar = self._progress_bar()
        window: list[dict[str, Tensor]] = []
        last: dict[str, float] = {}
        t_window, t_start, wall0 = time.perf_counter(), time.perf_counter(), p.wall_time_s
        try:
            while p.epoch < cfg.epochs and p.step < self.total_steps:
                for group in self.optimizer.param_groups:
                    group["lr"] = lr_at(cfg, p.epoch)
                self.sampler.set_epoch(p.epoch)
                self.dataset.set_epoch(p.epoch)  # type: ignore[attr-defined]
                self.sampler.start = p.batch_in_epoch * cfg.batch_size
                for batch in self.loader:
                    window.append(self.train_step(batch))
                    p.step += 1
                    p.batch_in_epoch += 1
                    if p.batch_in_epoch == self.steps_per_epoch:  # epochs count completed passes
                        p.epoch, p.batch_in_epoch = p.epoch + 1, 0
                    p.wall_time_s = wall0 + time.perf_counter() - t_start
                    if bar is not None:
                        bar.update(1)
                    if p.step % cfg.log_interval == 0 or p.step == self.total_steps:
                        elapsed = time.perf_counter() - t_window
                        last = self._log_train(window, elapsed, bar)
                        window, t_window = [], time.perf_counter()
                    if self.val_dataset is not None and p.step % cfg.val.interval == 0:
                        self._validate()
                    if p.step % cfg.ckpt_interval == 0 and p.step < self.total_steps:
                        self._save()
                    if p.step % TEXT_CACHE_STEPS == 0 and self.text_encoder is not None:
                        self.text_encoder.clear_cache()
                    if p.step >= self.total_steps:
                        break
            if self.val_dataset is not None and p.step % cfg.val.interval != 0:
                self._validate()
            in_sync = replicas_in_sync(list(self.model.parameters()), self.env)
            if not in_sync:
                raise RuntimeError("DDP replicas diverged: parameters differ between ranks")
            p.extra["replicas_in_sync"] = in_sync
            self._save(final=True)
        finally:
            if bar is not None:
                bar.close()
            self._close_outputs()
        self._say(
            f"done: {p.step} steps ({p.step / self.steps_per_epoch:.2f} epochs) in "
            f"{p.wall_time_s:.0f} s; model -> {self.out_dir / CHECKPOINT_FILE}"
        )
        return TrainResult(
            self.out_dir / CHECKPOINT_FILE, self.out_dir / STATE_FILE, p.step, p.epoch,
            p.wall_time_s, last,
        )  # fmt: skip

    # ----------------------------------------------------------------- one step

    def _text(self, captions: list[str]) -> TextTokens | None:
        if self.text_encoder is None:
            return None
        return self.text_encoder.encode(captions).to(self.device)

    def train_step(self, batch: Any) -> dict[str, Tensor]:
        """One optimisation step on a :class:`taco.data.Batch`; returns the detached loss parts
        (plus ``aux_loss`` and ``psnr``). Used by :meth:`fit` and by the benchmarks."""
        cfg = self.cfg
        x = batch.images.to(self.device, non_blocking=True)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        text = self._text(batch.captions)
        autocast = (
            torch.autocast(self.device.type, dtype=torch.bfloat16) if cfg.bf16 else nullcontext()
        )
        with autocast:
            out = self.net(x) if text is None else self.net(x, text.tokens, text.mask)
        parts = self.loss_fn(out, x, batch.captions)
        aux = self.model.aux_loss() if self.aux_optimizer is not None else None
        if not all_true(bool(torch.isfinite(parts["loss"])), self.env, self.device):
            self._non_finite("loss", parts)
        self.optimizer.zero_grad(set_to_none=True)
        if self.aux_optimizer is not None:
            self.aux_optimizer.zero_grad(set_to_none=True)
        # One backward for both: the aux loss reaches only the quantiles (CompressAI detaches
        # the density parameters in it), and DDP sees a single backward per forward.
        (parts["loss"] + aux if aux is not None else parts["loss"]).backward()
        if cfg.clip_grad > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.main_params.values(), cfg.clip_grad)
            if not torch.isfinite(norm):  # the same on every rank: gradients are all-reduced
                self._non_finite("gradient norm", parts)
        self.optimizer.step()
        if self.aux_optimizer is not None:
            self.aux_optimizer.step()
        record = {k: v.detach() for k, v in parts.items()}
        record["aux_loss"] = aux.detach() if aux is not None else parts["loss"].new_zeros(())
        record["psnr"] = metrics.psnr(x, out["x_hat"].float()).mean().to(parts["loss"])
        return record

    def _non_finite(self, what: str, parts: dict[str, Tensor]) -> None:
        values = ", ".join(f"{k}={v.item():.4g}" for k, v in parts.items())
        raise NonFiniteLossError(
            f"non-finite {what} at step {self.progress.step + 1} (epoch {self.progress.epoch}): "
            f"{values}. Stopping; {self._kept()}. Try a lower lr, clip_grad > 0 or bf16=false."
        )

    def _kept(self) -> str:
        saved = self.out_dir / CHECKPOINT_FILE
        try:
            step = read_checkpoint_header(saved)["metadata"]["trained_steps"]
        except (CheckpointError, KeyError, TypeError):
            return "no checkpoint yet"
        return f"the last good checkpoint is kept: {saved} (step {step})"

    def _write_failed(self, path: Path, error: OSError) -> OutputWriteError:
        """A one-line error for a file that could not be written (full disk, permissions...)."""
        reason = error.strerror or str(error)
        todo = "free some space" if error.errno == errno.ENOSPC else "fix this"
        return OutputWriteError(
            f"cannot write {path}: {reason} (at step {self.progress.step}). Stopping; "
            f"{self._kept()}; {todo} and continue with --resume.",
            error.errno,
        )

    # ----------------------------------------------------------------- logging

    def _say(self, message: str) -> None:
        if self.env.is_main:
            from tqdm import tqdm

            tqdm.write(message, file=sys.stderr)

    def _summary(self) -> str:
        cfg, m = self.cfg, self.model
        n_train = sum(p.numel() for p in self.main_params.values())
        n_all = sum(p.numel() for p in m.parameters())
        text = m.config.text_encoder["name"] if m.uses_text else "none"  # type: ignore[attr-defined]
        start = f", resuming at step {self.progress.step}" if self.progress.step else ""
        return (
            f"taco train: preset {cfg.preset}, model {cfg.resolved_model()} "
            f"({n_train / 1e6:.2f} M of {n_all / 1e6:.2f} M parameters train), text {text}, "
            f"λ={cfg.lmbda:g} k_p={cfg.k_p:g} k_j={self.loss_fn.k_j:g} β={cfg.beta:g}; "
            f"{len(self.dataset)} images, {self.steps_per_epoch} steps/epoch x "  # type: ignore[arg-type]
            f"{self.env.world_size} process(es) x batch {cfg.batch_size} on {self.device}; "
            f"{self.total_steps} steps{start} -> {self.out_dir}"
        )

    def _progress_bar(self) -> Any:
        if not (self.env.is_main and self.cfg.progress):
            return None
        from tqdm import tqdm

        return tqdm(
            total=self.total_steps, initial=self.progress.step, unit="step", dynamic_ncols=True,
            file=sys.stderr, desc="train",
        )  # fmt: skip

    def _start_outputs(self) -> None:
        self._log_file = None
        self._tb = None
        if not self.env.is_main:
            return
        path = self.out_dir
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for name in (CHECKPOINT_FILE, STATE_FILE):  # left by a run killed while writing
                for stale in stale_temporaries(self.out_dir / name):
                    stale.unlink(missing_ok=True)
            path = self.out_dir / "config.yaml"
            write_bytes_atomic(path, dump_config(self.cfg).encode("utf-8"))
            path = self.out_dir / LOG_FILE
            cut = _ends_mid_line(path)  # a record cut short by a full disk: end its line
            self._log_file = open(path, "a", encoding="utf-8")  # noqa: SIM115
            if cut:
                self._log_file.write("\n")
        except OSError as e:
            raise self._write_failed(path, e) from None
        if importlib.util.find_spec("tensorboard") is not None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.out_dir / "tb"), purge_step=self.progress.step + 1)

    def _close_outputs(self) -> None:
        if self._log_file is not None:
            try:
                self._log_file.close()
            except OSError:  # a full disk: already reported by the failed write
                pass
        if self._tb is not None:
            self._tb.close()

    def _write_record(self, record: dict[str, Any]) -> None:
        if self._log_file is not None:
            try:
                self._log_file.write(json.dumps(record) + "\n")
                self._log_file.flush()
            except OSError as e:
                raise self._write_failed(self.out_dir / LOG_FILE, e) from None
        if self._tb is not None:
            kind = record["kind"]
            for k, v in record.items():
                if isinstance(v, int | float) and k not in ("step", "epoch"):
                    self._tb.add_scalar(f"{kind}/{k}", v, record["step"])

    def _log_train(self, window: list[dict[str, Tensor]], elapsed: float, bar: Any) -> dict[str, float]:
        """Mean of the window's loss parts over steps and ranks -> log record + progress bar."""
        keys = list(window[0])
        stacked = torch.stack([torch.stack([r[k].float() for r in window]).mean() for k in keys])
        means = all_reduce_mean(stacked, self.env).tolist()
        p = self.progress
        images = len(window) * self.cfg.batch_size * self.env.world_size
        values = dict(zip(keys, means, strict=True))
        record = {
            "kind": "train", "step": p.step, "epoch": p.step / self.steps_per_epoch,
            "lr": self.optimizer.param_groups[0]["lr"], **values,
            "img_per_s": images / max(elapsed, 1e-9), "wall_time_s": p.wall_time_s,
        }  # fmt: skip
        if self.env.is_main:
            self._write_record(record)
            if bar is not None:
                bar.set_postfix_str(
                    f"loss {values['loss']:.3f} bpp {values['bpp']:.3f} "
                    f"mse·λ {values['mse_term']:.3f} lpips {values['lpips']:.3f} "
                    f"joint {values['joint_term']:.4f} psnr {values['psnr']:.2f} "
                    f"{record['img_per_s']:.1f} img/s",
                    refresh=False,
                )
        return values

    # ----------------------------------------------------------------- validation

    @torch.no_grad()
    def _validate(self) -> dict[str, Any]:
        """Loss parts in eval mode on the held-out crops, plus real coding of a few of them."""
        assert self.val_dataset is not None
        model = self.model
        t0 = time.perf_counter()
        model.eval()
        # Validation must not move the training RNG (a DataLoader iterator draws a seed from it):
        # a run with validation trains exactly as one without.
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            try:
                record = self._val_records(model)
            finally:
                model.train()
        record = {"kind": "val", "step": self.progress.step, **record,
                  "seconds": time.perf_counter() - t0}  # fmt: skip
        self._write_record(record)
        shown = " ".join(
            f"{k} {record[k]:.4f}" for k in ("loss", "bpp", "psnr", "lpips", "real_bpp", "real_psnr")
            if k in record
        )  # fmt: skip
        self._say(f"val @ step {self.progress.step}: {shown}")
        return record

    def _val_records(self, model: ELIC) -> dict[str, Any]:
        """Mean loss parts (+ PSNR) over the validation crops; real_bpp / real_psnr by coding."""
        from ..codec import compress_image, decompress_tensor
        from ..models.registry import invalidate_fingerprint

        assert self.val_dataset is not None
        sums: dict[str, float] = {}
        n = 0
        loader = DataLoader(self.val_dataset, batch_size=self.cfg.batch_size, collate_fn=collate)
        for batch in loader:
            x = batch.images.to(self.device)
            text = self._text(batch.captions)
            out = model(x) if text is None else model(x, text)  # type: ignore[call-arg]
            parts = self.loss_fn(out, x, batch.captions)
            parts["psnr"] = metrics.psnr(x, out["x_hat"]).mean()
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(x)
            n += len(x)
        record: dict[str, Any] = {k: v / n for k, v in sums.items()}
        coded = [self.val_dataset[i] for i in range(min(self.cfg.val.compress_images, n))]
        if coded:
            model.update(force=True)
            invalidate_fingerprint(model)
            bpps, psnrs = [], []
            for sample in coded:
                res = compress_image(
                    sample.image, sample.caption if model.uses_text else None, model,
                    text_encoder=self.text_encoder,
                )  # fmt: skip
                x_hat, _ = decompress_tensor(res.data, model)
                bpps.append(res.bpp)
                psnrs.append(float(metrics.psnr(sample.image[None], x_hat)[0]))
            record["real_bpp"] = sum(bpps) / len(bpps)
            record["real_psnr"] = sum(psnrs) / len(psnrs)
        return record

    # ----------------------------------------------------------------- checkpoints

    def _metadata(self) -> dict[str, Any]:
        cfg, p = self.cfg, self.progress
        return {
            "lambda": cfg.lmbda,
            "preset": cfg.preset,
            "loss": {"k_p": cfg.k_p, "k_j": self.loss_fn.k_j, "beta": cfg.beta},
            "trained_steps": p.step,
            "epochs": p.step / self.steps_per_epoch,
            "wall_time_s": round(p.wall_time_s, 1),
            "device": str(self.device),
            "world_size": self.env.world_size,
            "global_batch": cfg.batch_size * self.env.world_size,
            "train_data": {
                "kind": cfg.data.kind, "root": cfg.data.root, "captions": cfg.data.captions,
                "images": len(self.dataset),  # type: ignore[arg-type]
            },  # fmt: skip
            "torch": torch.__version__,
            **({"replicas_in_sync": p.extra["replicas_in_sync"]} if "replicas_in_sync" in p.extra else {}),
            "config": cfg.to_dict(),
        }

    def _save(self, final: bool = False) -> None:
        """Model checkpoint + training state (rank 0 writes; every rank takes part in gathers)."""
        rng_torch = gather_rows(torch.get_rng_state(), self.env, self.device)
        rng_cuda = (
            gather_rows(torch.cuda.get_rng_state(self.device), self.env, self.device)
            if self.device.type == "cuda"
            else None
        )
        if not self.env.is_main:
            return
        path = self.out_dir / CHECKPOINT_FILE
        try:
            save_checkpoint(self.model, path, metadata=self._metadata())
            path = self.out_dir / STATE_FILE
            self._save_state(final, rng_torch, rng_cuda)
        except OSError as e:
            raise self._write_failed(path, e) from None

    def _save_state(self, final: bool, rng_torch: Tensor, rng_cuda: Tensor | None) -> None:
        p = self.progress
        names = {id(q): n for n, q in self.model.named_parameters()}
        tensors = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        optim, groups = optimizer_to_tensors(self.optimizer, names, "optim")
        tensors.update(optim)
        aux_groups: list[dict[str, Any]] = []
        if self.aux_optimizer is not None:
            aux, aux_groups = optimizer_to_tensors(self.aux_optimizer, names, "aux_optim")
            tensors.update(aux)
        tensors["rng/torch"] = rng_torch
        if rng_cuda is not None:
            tensors["rng/cuda"] = rng_cuda
        meta = {
            "progress": dataclasses.asdict(p),
            "steps_per_epoch": self.steps_per_epoch,
            "world_size": self.env.world_size,
            "batch_size": self.cfg.batch_size,
            "optimizer": groups,
            "aux_optimizer": aux_groups,
            "scheduler": {
                "kind": "multistep-per-epoch", "milestones": self.cfg.lr_milestones,
                "gamma": self.cfg.lr_gamma, "epoch": p.epoch, "lr": lr_at(self.cfg, p.epoch),
            },  # fmt: skip
            "rng": python_numpy_rng_state(),
            "config": self.cfg.to_dict(),
            "final": final,
        }
        save_train_state(self.out_dir / STATE_FILE, tensors, meta)

    def _resume_path(self, resume: str | Path | None) -> Path | None:
        existing = self.out_dir / STATE_FILE
        if resume is None:
            if existing.exists():
                raise ConfigError(
                    f"{self.out_dir} already holds a run ({STATE_FILE}); pass --resume to "
                    "continue it, or choose another out_dir"
                )
            return None
        path = Path(resume)
        if path.is_dir():
            path = path / STATE_FILE
        if not path.is_file():
            raise TrainStateError(f"--resume: {path} does not exist")
        return path

    def _load_state(self, path: Path) -> None:
        tensors, meta = load_train_state(path)
        self._check_resumed_config(meta.get("config", {}), path)
        model_state = prefixed(tensors, "model")
        try:
            load_model_state(self.model, model_state)
        except RuntimeError as e:
            raise TrainStateError(f"{path}: the saved model does not fit this run: {e}") from None
        named = dict(self.model.named_parameters())
        optimizer_from_tensors(self.optimizer, named, tensors, meta["optimizer"], "optim")
        if self.aux_optimizer is not None:
            optimizer_from_tensors(
                self.aux_optimizer, named, tensors, meta["aux_optimizer"], "aux_optim"
            )
        p = meta["progress"]
        self.progress = Progress(
            step=p["step"], epoch=p["epoch"], batch_in_epoch=p["batch_in_epoch"],
            wall_time_s=p["wall_time_s"],
        )  # fmt: skip
        same_layout = (
            meta["world_size"] == self.env.world_size
            and meta["batch_size"] == self.cfg.batch_size
            and meta["steps_per_epoch"] == self.steps_per_epoch
        )
        if same_layout:
            set_python_numpy_rng_state(meta["rng"])
            torch.set_rng_state(tensors["rng/torch"][self.env.rank].clone())
            if self.device.type == "cuda" and "rng/cuda" in tensors:
                torch.cuda.set_rng_state(tensors["rng/cuda"][self.env.rank].clone(), self.device)
            return
        warnings.warn(
            f"resuming with another layout (world size {meta['world_size']} -> "
            f"{self.env.world_size}, batch {meta['batch_size']} -> {self.cfg.batch_size}): "
            "continuing from the same step, but not bit-exactly",
            stacklevel=2,
        )
        seen = p["batch_in_epoch"] * meta["batch_size"] * meta["world_size"]
        self.progress.batch_in_epoch = seen // (self.cfg.batch_size * self.env.world_size)
        if self.progress.batch_in_epoch >= self.steps_per_epoch:
            self.progress.epoch, self.progress.batch_in_epoch = self.progress.epoch + 1, 0
        torch.manual_seed(self.cfg.seed + self.env.rank + self.progress.step)

    def _check_resumed_config(self, saved: dict[str, Any], path: Path) -> None:
        now = self.cfg.to_dict()
        changed = sorted(k for k in now if k not in RESUMABLE_CHANGES and saved.get(k) != now[k])
        if changed:
            warnings.warn(
                f"resuming {path} with a different configuration ({', '.join(changed)}); "
                "the run will not continue exactly as it started",
                stacklevel=3,
            )


def _ends_mid_line(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    with open(path, "rb") as f:
        f.seek(-1, 2)
        return f.read(1) != b"\n"


def train(cfg: TrainConfig, resume: str | Path | None = None) -> TrainResult:
    """Run one training job (see :class:`Trainer`); leaves the process group on return."""
    try:
        return Trainer(cfg, resume).fit()
    finally:
        shutdown_distributed()


def lambda_sweep(
    cfg: TrainConfig, lambdas: tuple[float, ...] | None = None, resume: bool = False
) -> list[TrainResult]:
    """Train one model per λ (default: the paper's six), one after the other, each in
    ``out_dir/lambda-<λ>``; with ``resume``, runs that have a state continue and finished ones
    are skipped by their own max_steps/epochs."""
    from ..losses import LAMBDAS

    results = []
    try:
        for lmbda in lambdas or LAMBDAS:
            out = Path(cfg.out_dir) / f"lambda-{lmbda:g}"
            run_cfg = dataclasses.replace(
                cfg, lmbda=lmbda, out_dir=str(out),
                model_id=f"{cfg.model_id}-lambda{lmbda:g}" if cfg.model_id else None,
            )  # fmt: skip
            has_state = (out / STATE_FILE).exists()
            results.append(Trainer(run_cfg, out if resume and has_state else None).fit())
    finally:
        shutdown_distributed()
    return results
