"""The training loop (paper §4.1): one process, or many through ``torchrun`` (PyTorch DDP).

    from taco.train import load_config, train
    result = train(load_config("configs/taco-coco.yaml", ["max_steps=1000"]))

One step: captions -> frozen text tokens (outside the model and outside DDP: the encoder with its
per-caption cache, or a table computed once) -> model(x, text) -> :class:`taco.losses.TacoLoss`
-> one backward of ``loss + aux_loss`` -> clip the main gradients at 1.0 -> Adam (main) and Adam
(entropy-bottleneck quantiles). The learning rate is ``lr * lr_gamma ** (milestones passed)``
per epoch, warmed up linearly over the first ``warmup_steps`` (``--init-from`` sets 100).

A step never waits for the device: the loss parts stay on it until the next log record (every
``log_interval`` steps), a checkpoint or a validation, which first check that every step since
the last check had a finite loss and gradient norm. Rank 0 alone logs, validates and writes.
``out_dir`` gets:

    config.yaml               the resolved configuration, paths absolute (--resume RUN reads it)
    log.jsonl                 one JSON record per log interval ("train") and validation ("val")
    checkpoint.safetensors    the model (taco.load / taco compress --model): float16, tables updated
    train_state.safetensors   everything --resume needs (see taco.train.state)
    tb/                       TensorBoard scalars, when tensorboard is installed
    .taco-lock                while the run runs: a second run into out_dir is refused (taco.locks)

Both safetensors files are rewritten atomically every ``ckpt_interval`` steps and at the end
(each over 16 MB as shards + ``NAME.index.json``, see taco.train.checkpoints), before the
validation of that step: a validation that fails leaves them (one whose real coding fails is
recorded with NaN figures, and the run goes on: taco.train.validation). The run ends at
``epochs``, ``max_steps`` or, with ``time_limit``, when the wall-clock budget would not cover
another step, the final checkpoint and the final validation (:class:`NoStepInTimeLimit`,
writing nothing, when the set-up left no time for one step), or when Ctrl-C, SIGTERM or SIGHUP asks it to stop
(:class:`~taco.train.schedule.StopSignals`): after the step in hand, with a final checkpoint, then
:class:`~taco.errors.Interrupted` says where it stopped. A non-finite loss or gradient stops the run with
:class:`NonFiniteLossError`, a file that cannot be written (full disk) with
:class:`OutputWriteError`; both leave the last good files as they were. Any error before the
run's first step (its first batch unreadable) removes the config.yaml and log.jsonl it wrote, and
the folder if it made it, as the first step's stop check leaves nothing (:meth:`RunLog.discard`).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import errno
import random
import signal
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from .. import metrics
from ..captions_file import FOLDER_CAPTIONS, has_captions
from ..data import (
    Batch,
    CaptionedImages,
    EmptyDatasetError,
    collate,
    folder_images,
    no_images_message,
)
from ..devices import resolve_device, usable_cpus
from ..distributed import (
    SilentInterrupted,
    StoppedTogether,
    dist_env_from_environ,
    leaving_process_group,
)
from ..errors import Interrupted, TacoError, TacoWarning, warn_at_caller
from ..locks import FolderLock, hold_folder
from ..losses import TacoLoss
from ..messages import count, shell_word
from ..models import CheckpointError
from ..models.checkpoint import invalidate_fingerprint
from ..models.header import read_checkpoint_header
from ..text.base import TextEncoderUnavailable, TextTokens
from .caption_embeddings import text_inputs
from .checkpoints import (
    CHECKPOINT_FILE,
    STATE_FILE,
    clear_leftovers,
    held_files,
    init_from_command,
    python_words,
    read_state,
    resume_source,
    state_meta,
    state_step,
    training_metadata,
    training_set,
    write_checkpoint,
    write_state,
)
from .config import (
    CROP_MULTIPLE,
    ConfigError,
    TrainConfig,
    check_data_folders,
    check_lambda_sweep,
    check_resumed_init_from,
    dump_config,
)
from .datasets import build_train_dataset, build_val_dataset, dataset_captions, reads_text
from .distributed import (
    EpochIndices,
    RankZeroFailed,
    ResumableSampler,
    all_reduce_mean,
    all_true,
    gather_rows,
    init_distributed,
    replicas_in_sync,
    shared_stop,
    together,
)
from .forward import training_layout, training_net
from .model_setup import build_training_model, frozen_base_note, split_parameters
from .qualities import QualitySchedule
from .resident_data import ResidentImages
from .run_log import RunLog, run_finished, step_times, train_postfix
from .schedule import (
    StopSignals,
    TimeBudget,
    lr_at,
    noting_stop_signals,
    spent_at_shared_check,
    worker_signals,
)
from .state import TrainProgress, load_train_state_meta, state_exists
from .validation import validate

__all__ = ["CHECKPOINT_FILE", "STATE_FILE", "NoStepInTimeLimit", "NonFiniteLossError",
           "OutputWriteError", "RankZeroFailed", "Trainer", "TrainerClosed", "TrainResult",
           "lambda_sweep", "train"]  # fmt: skip



class NonFiniteLossError(TacoError, RuntimeError):
    """The loss or the gradient norm became NaN/inf; the last good checkpoint is kept."""


class NoStepInTimeLimit(TacoError, RuntimeError):
    """``time_limit`` was spent before the run's first step (by the set-up: data, model, text
    encoder). Decided before anything is written in out_dir (a folder the run made is removed
    with its lock), so a resumed run's files stay as they were."""


class TrainerClosed(TacoError, RuntimeError):
    """A :meth:`Trainer.batches` generator taken before :meth:`Trainer.close` was drawn from
    after it: close ended the workers it read from; a new ``batches()`` goes on."""


class OutputWriteError(TacoError, RuntimeError):
    """A checkpoint, the training state or the log could not be written (e.g. the disk is full);
    the last good checkpoint is kept. ``errno`` is the underlying OSError's."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


@dataclass
class TrainResult:
    """What :func:`train` returns (on every rank; paths are where rank 0 wrote).

    ``stopped`` says why the run ended: "done" (epochs/max_steps) or "time_limit"."""

    checkpoint: Path
    state: Path
    step: int
    epoch: int
    wall_time_s: float
    last: dict[str, float]
    stopped: str = "done"


def stream_seed(seed: int, warm_steps: int) -> int:
    """The seed of a run's random streams (image order, crops, captions, flips, qualities,
    training noise): ``seed`` itself, or for a warm start (``init_from``) from a model trained
    ``warm_steps`` steps in all, one drawn from both. So each slice of a chain of warm starts
    draws new batches: with ``seed`` alone, every slice would replay the first slice's stream
    (each starts again at step 0). The same on every rank and machine."""
    if warm_steps <= 0:
        return seed
    state = np.random.SeedSequence([seed % 2**32, warm_steps]).generate_state(1, np.uint32)
    return int(state[0]) >> 1  # < 2**31: seed + rank + step stays a valid torch seed


@contextlib.contextmanager
def grad_enabled() -> Iterator[None]:
    """Autograd on for the run, whatever the caller's mode: :func:`train` inside a
    ``torch.no_grad()`` or ``torch.inference_mode()`` block, or after a notebook's
    ``torch.set_grad_enabled(False)``, trains as it would outside them (the model, its loss and
    optimisers built in it hold no inference tensors); the caller's mode is back on leaving.
    What runs without gradients (validation, the frozen text encoder) keeps its own no_grad."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def loader_workers(workers: int) -> int:
    """``workers`` capped at the usable CPUs: more worker processes than CPUs only contend (and
    PyTorch warns). Changes no draw: each sample's randomness comes from (seed, epoch, index),
    whatever the number of workers."""
    return min(workers, usable_cpus())


def check_text_encoder(cfg: TrainConfig) -> None:
    """Load the text encoder of the model ``cfg`` trains (it is shared: the run uses this one),
    unless the caption tokens come from ``text_embeddings``; where it is missing, the
    :class:`TextEncoderUnavailable` also names the text encoder that works offline."""
    from ..text import text_encoder_from_spec
    from .model_setup import text_encoder_spec

    spec = None if cfg.text_embeddings else text_encoder_spec(cfg)
    if spec is None:
        return
    try:
        text_encoder_from_spec(spec)
    except TextEncoderUnavailable as e:
        if spec.get("name") != "clip":
            raise
        raise TextEncoderUnavailable(
            f"model {cfg.resolved_model()!r} reads captions with CLIP's text encoder: "
            f"{str(e).rstrip('.')}; "
            "or train a model whose MiniLM text encoder works offline: --set "
            "model=taco-minilm-small (or taco-minilm-tiny, taco-minilm; taco models lists them)."
        ) from None


def training_data(cfg: TrainConfig, validation: bool) -> tuple[CaptionedImages, Dataset | None]:
    """The training set and (with ``validation``, where ``cfg.val`` is enabled) the validation
    set of ``cfg``; what is missing or empty is said in one line with what to do about it (for
    the validation set starting ``val.root: ``)."""
    validation = validation and cfg.val.enabled
    for root, key in ((cfg.data.root, "data.root"), (cfg.val.root if validation else None, "val.root")):
        if (root is None or (key == "data.root" and cfg.data.kind != "folder")
                or not reads_text(cfg)):
            continue
        name = cfg.data.captions if key == "data.root" else cfg.val.captions
        named = None if name is None else Path(root) / name
        if not Path(root).is_dir():
            continue  # the dataset says it is missing, in its own words
        images = folder_images(Path(root))
        if not has_captions(root, images, named):
            if not images:  # the dataset's own words for an empty folder, before the captions
                where = "val.root: " if key == "val.root" else ""
                raise EmptyDatasetError(where + no_images_message(root))
            missing = (f"no captions file {named}" if named else
                       f"no captions in {root} (no {FOLDER_CAPTIONS}, no sidecar IMAGE.txt files)")
            raise ConfigError(
                f"{key}: {missing}, which model {cfg.resolved_model()!r} needs "
                f"(it reads the captions); `taco caption {shell_word(root)}` writes {FOLDER_CAPTIONS}, or "
                "train the text-free baseline on the photos alone: --set preset=elic model=elic-small k_j=0"
            )
    try:
        train_set = build_train_dataset(cfg)
    except EmptyDatasetError as e:
        raise with_small_images_hint(e, validating=False, batch_size=cfg.batch_size) from None
    try:
        val_set = build_val_dataset(cfg) if validation else None
    except EmptyDatasetError as e:
        raise with_small_images_hint(e, validating=True) from None
    return train_set, val_set


def with_small_images_hint(e: EmptyDatasetError, validating: bool, batch_size: int = 1) -> EmptyDatasetError:
    """``e`` with, where photos were dropped as smaller than the crop (``crop``, or ``val.crop``
    when ``validating``), how to train or validate on them: upscale them, or a smaller crop that
    keeps the largest of them (for training with a ``batch_size`` over 1, saying that a batch
    needs that many, or a smaller batch_size). For validation the smaller crop comes first:
    ``data.small_images`` upscales the training photos under ``crop`` too. A validation set's
    error starts ``val.root: `` (with or without a hint)."""
    where = "val.root: " if validating else ""
    if not e.too_small:
        return EmptyDatasetError(f"{where}{e}") if validating else e
    fits = e.largest_small_side // CROP_MULTIPLE * CROP_MULTIPLE
    crop_key, verb = ("val.crop", "validate") if validating else ("crop", "train")
    smaller = (f"a smaller {crop_key}: {crop_key}={fits} keeps those of {fits} px and more"
               if fits >= CROP_MULTIPLE else "")
    if smaller and not validating and batch_size > 1:
        smaller += f" (a batch needs {batch_size} of them, or a smaller --set batch_size=N)"
    upscale = ("--set data.small_images=upscale (each upscaled to cover the crop"
               + ("; it upscales the training photos under crop too)" if validating else ")"))
    ways = [smaller, upscale] if validating else [upscale, smaller]
    hint = f"; {verb} on them with " + ", or ".join(w for w in ways if w)
    return EmptyDatasetError(f"{where}{e}{hint}", e.too_small, e.largest_small_side)


class Trainer:
    """One training run. Build with a config (checked first, :meth:`TrainConfig.validate`:
    a wrong value is a :class:`ConfigError` before anything is written in ``out_dir``), then
    call :meth:`fit`.

    From its start to the end of :meth:`fit` (or :meth:`close`), the run holds ``out_dir``
    (:class:`~taco.locks.FolderLock`, on rank 0 for a torchrun job): another run into it is
    refused at its start (:class:`~taco.locks.FolderInUse`), before it reads or writes there.

    Its messages say how to continue the run in the caller's words: ``go_on``, after a signal
    stopped it (``... saved in runs/x: go on with GO_ON``), at its time limit (``done: time limit
    8m reached; ...; go on with GO_ON``) and at each checkpoint on the way (``checkpoint @ step
    1000 saved in runs/x (go on from it with GO_ON)``), and ``resume_with``, the argument that
    continues the run in ``out_dir`` (``runs/x already holds a run (...); pass RESUME_WITH to
    continue it``; the other refusals of a run folder and the stops' ways on, too). By default
    Python's, ``train(cfg, resume='runs/x')`` and ``resume='runs/x'``; ``taco train`` passes its
    own (``taco train --resume runs/x``, ``--resume``). Its lines on stderr (the summary, notes,
    a signal's ``stopping after this step``) start ``taco train:`` where ``resume_with`` is the
    command line's flag, ``train:`` from Python."""

    def __init__(self, cfg: TrainConfig, resume: str | Path | None = None, *,
                 notes: Sequence[str] = (), go_on: str | None = None,
                 resume_with: str | None = None) -> None:
        self.cfg = cfg.validate()  # a config built in Python: said before out_dir is touched
        self.notes = list(notes)  # said before the run's summary line (e.g. what init_from gave)
        #: How to continue the run after a signal stopped it (default: train() resuming its folder).
        self.go_on = go_on or f"train(cfg, resume={str(cfg.out_dir)!r})"
        #: The argument that continues the run held in out_dir (refused without it).
        self.resume_with = resume_with or f"resume={str(cfg.out_dir)!r}"
        #: What its lines on stderr start with: ``taco train`` (a flag, ``--resume``, says the
        #: command line is the caller), else ``train`` (called from Python).
        self.says = "train" if python_words(self.resume_with) else "taco train"
        self.budget = TimeBudget.from_config(cfg)  # counts the set-up (decoding, encoding) too
        self._start_step = 0  # the step fit starts (or resumes) at: the shared stop checks
        self._fit_start = 0.0  # when fit's first step began (time.perf_counter): the time left
        self._saved_step: int | None = None  # the step of the last complete save (state and checkpoint)
        self.env = dist_env_from_environ()
        self.device = resolve_device(cfg.device, self.env)
        init_distributed(self.env, self.device)
        self.out_dir = Path(cfg.out_dir)
        # before anything in out_dir is read: two runs there would write over each other's files
        self._lock: FolderLock | None = together(
            lambda: hold_folder(self.out_dir, "taco train") if self.env.is_main else None,
            self.env, self.device, f"take {self.out_dir} for the run",
        )  # fmt: skip
        #: the stop signals that came during the set-up (a Ctrl-C whose KeyboardInterrupt
        #: third-party code swallowed still stops the run, before its first step)
        self._set_up_signals: list[int] = []
        try:
            with grad_enabled(), noting_stop_signals(self._set_up_signals):
                self._set_up(cfg, resume)  # the model, loss, optimisers: whatever the grad mode
        except BaseException:
            self.close()
            raise

    def _set_up(self, cfg: TrainConfig, resume: str | Path | None) -> None:
        """The rest of :meth:`__init__`, ``out_dir`` held: where the run starts, its data,
        model, text inputs and optimisers."""
        self.resume_path, self.resume_note = resume_source(
            self.out_dir, resume, resume_with=self.resume_with)
        meta = None if self.resume_path is None else load_train_state_meta(self.resume_path)
        # a finished run resumed (a sweep's --resume) logs nothing: its log may be read-only
        finished = meta is not None and run_finished(meta["progress"], cfg.epochs, cfg.max_steps)
        self.log = RunLog(self.out_dir, self.env.is_main, cfg.progress, self._write_failed,
                          appends=not finished)
        if meta is not None and self.resume_path is not None:  # its state's weights would
            # replace init_from's: other weights refused; the same pass
            check_resumed_init_from(cfg.init_from, meta.get("config") or {}, self.resume_path.parent,
                                    record=meta.get("init_from"))
        # a data folder that is not there (or is a file) first: the user's own mistake, said
        # before a text encoder is looked for (checks the names only)
        check_data_folders(cfg)
        # what needs files from elsewhere (the text encoder, CLIP and LPIPS for the loss) next:
        # a missing one is said in seconds, before the data's headers are read
        check_text_encoder(cfg)
        self.loss_fn = TacoLoss(cfg.lmbda, cfg.k_p, cfg.k_j, cfg.beta, clip=cfg.clip_model,
                                lpips_input=cfg.lpips_input)
        # then the photos and captions: a wrong folder is said before minutes of set-up
        self.dataset, self.val_dataset = training_data(cfg, self.env.is_main)
        self.train_set = training_set(r.file for r in self.dataset.records)  # what a state records
        #: whether the run validates: every rank waits for rank 0's validations (only rank 0
        #: holds the validation set)
        self.validates = cfg.val.enabled
        if cfg.k_j > 0 and self.env.is_main and not any(dataset_captions(self.dataset)):
            warn_at_caller(
                f"every training caption is empty ({cfg.data.root} has no captions file): the "
                f"joint loss (k_j={cfg.k_j:g}) contrasts each image with the same empty caption; "
                "give the photos captions (taco caption DIR) or train with k_j=0",
                TacoWarning,
            )

        # resumed: the state's weights, init_from neither looked up nor loaded (it may be gone)
        self.model = build_training_model(cfg, resume=self.resume_path, meta=meta).to(self.device)
        training_layout(self.model, cfg)  # channels_last before Adam makes (or loads) its moments
        self.model.train()
        warm_steps = getattr(self.model, "metadata", {}).get("init_from", {}).get("trained_steps_total", 0)
        self.seed = stream_seed(cfg.seed, warm_steps)
        if meta is not None:  # resumed: the saved run's own, whatever its source did since (a
            # state from before they were saved has neither: derived as at the run's start)
            saved_seed, saved_init = meta.get("stream_seed"), meta.get("init_from")
            self.seed = self.seed if saved_seed is None else saved_seed
            if saved_init is not None:
                self.model.metadata = {**getattr(self.model, "metadata", {}), "init_from": saved_init}
        self.dataset.seed = self.seed  # its crops, captions and flips
        # variable rate: the quality (and λ) of each step, a function of (seed, step)
        self.qualities = (QualitySchedule(self.model.qualities, self.seed)
                          if self.model.qualities is not None else None)
        self.loss_fn.to(self.device)
        if cfg.k_j > 0 and cfg.batch_size < 2 and self.env.is_main:
            warn_at_caller("k_j > 0 with batch_size 1 (per process): the contrastive part of the "
                           "joint loss is taken within each process's batch and is 0 with one image; "
                           "give each process at least 2 images", TacoWarning)

        workers = loader_workers(cfg.workers)
        if cfg.data_on_device:  # minutes for a large set: said before, so a log shows it
            self.log.say(f"{self.says}: decoding {count(len(self.dataset.records), 'image')} "
                         f"onto {self.device} (data_on_device) ...")
        self.resident = (
            ResidentImages.decode(self.dataset, cfg.crop, self.device,
                                  hflip=0.5 if cfg.data.hflip else 0.0, workers=workers or None)
            if cfg.data_on_device else None
        )  # fmt: skip
        self.sampler = ResumableSampler(self.resident or self.dataset, self.env, self.seed)  # type: ignore[arg-type]
        self.steps_per_epoch = len(self.sampler) // cfg.batch_size
        if self.steps_per_epoch == 0:
            raise ConfigError(
                f"{len(self.sampler.dataset)} training images are fewer than one batch per "  # type: ignore[arg-type]
                f"process ({self.env.world_size} x {cfg.batch_size}): add images, or "
                f"--set batch_size=N (at most {len(self.sampler)} here)"
            )
        self.loader = None if self.resident is not None else self._data_loader(workers)
        if self.loader is not None and workers:
            # their workers, kept across epochs, end at fit's end (close); a process that drew
            # batches() without either ends them at its exit, before multiprocessing's exit
            # waits for them (for ever: they leave its SIGTERM to the run, worker_signals)
            atexit.register(_close_at_exit, weakref.ref(self))
        captions = dataset_captions(self.dataset) + dataset_captions(self.val_dataset)
        self.text_encoder, self.caption_table = text_inputs(
            self.model, cfg, captions, self.device, self.dataset, self.val_dataset,
            progress=cfg.progress and self.env.is_main,  # a bar on a terminal, rank 0's
            say=lambda line: self.log.say(f"{self.says}: {line}"),  # an hour for COCO on a CPU
        )  # fmt: skip

        self.main_params, self.aux_params = split_parameters(self.model)
        if not self.main_params:
            raise ConfigError("nothing to train: every parameter is frozen")
        fused = True if cfg.fused_adam else None  # None: torch's default (foreach)
        self.optimizer = torch.optim.Adam(self.main_params.values(), lr=cfg.lr, fused=fused)
        self.aux_optimizer = (
            torch.optim.Adam(self.aux_params.values(), lr=cfg.aux_lr, fused=fused)
            if self.aux_params else None
        )  # fmt: skip
        self.progress = TrainProgress()
        # Each rank draws its own training noise; the model was built from cfg.seed everywhere.
        # The process's global generators, left so after the run (train's docstring says so).
        torch.manual_seed(self.seed + self.env.rank)
        np.random.seed(self.seed + self.env.rank)
        random.seed(self.seed + self.env.rank)  # its state is saved and restored too
        if self.resume_path is not None:
            self.progress = read_state(
                self.resume_path, cfg, self.model, self._optimizers(), self.env,
                self.steps_per_epoch, self.device, seed=self.seed,
                train_set=self.train_set,
            )  # fmt: skip
        self.net = training_net(self.model, cfg, self.env, self.device)

    def _data_loader(self, workers: int) -> DataLoader:
        """The training set's DataLoader, with ``workers`` processes (none started yet)."""
        return DataLoader(
            self.dataset,
            batch_size=self.cfg.batch_size,
            # each index with the dataset's epoch: persistent workers draw every epoch's
            # samples (spawned ones are not started again each epoch: seconds per epoch on
            # macOS/Windows)
            sampler=EpochIndices(self.sampler, self.dataset),
            num_workers=workers,
            persistent_workers=workers > 0,
            collate_fn=collate,
            pin_memory=self.device.type == "cuda",
            drop_last=True,
            # a private generator: creating an iterator must not draw from the global RNG,
            # or a resumed run would see other training noise than an uninterrupted one
            generator=torch.Generator(),
            worker_init_fn=worker_signals if workers else None,
        )  # fmt: skip

    # ----------------------------------------------------------------- text

    def _text(self, captions: list[str]) -> TextTokens | None:
        if self.caption_table is not None:
            return self.caption_table.lookup(captions)
        if self.text_encoder is None:
            return None
        return self.text_encoder.encode(captions).to(self.device)

    # ----------------------------------------------------------------- public

    @property
    def total_steps(self) -> int:
        total = self.cfg.epochs * self.steps_per_epoch
        return total if self.cfg.max_steps is None else min(total, self.cfg.max_steps)

    def _epochs_note(self) -> str | None:
        """What to say when ``max_steps`` is given but ``epochs`` end the run before it (e.g. 50
        epochs of 4 photos are 50 steps, before --max-steps 200); None otherwise."""
        cfg, per_epoch = self.cfg, self.steps_per_epoch
        by_epochs = cfg.epochs * per_epoch
        if cfg.max_steps is None or by_epochs >= cfg.max_steps:
            return None
        return (f"{count(cfg.epochs, 'epoch')} of {count(per_epoch, 'step')} "
                f"{'ends' if cfg.epochs == 1 else 'end'} the run at step "
                f"{by_epochs}, before max_steps={cfg.max_steps} (--max-steps); to train "
                f"{cfg.max_steps} steps, raise epochs (--set epochs={-(-cfg.max_steps // per_epoch)})")

    def batches(self) -> Iterator[Batch]:
        """The rest of the current epoch's batches, from ``progress`` on (DataLoader or device).
        A generator taken before :meth:`close` raises :class:`TrainerClosed` when drawn from
        after it (close ended the DataLoader workers it read from): call ``batches()`` again."""
        p, cfg = self.progress, self.cfg
        self.sampler.set_epoch(p.epoch)
        self.dataset.set_epoch(p.epoch)
        self.sampler.start = p.batch_in_epoch * cfg.batch_size
        if self.resident is None:
            loader = self.loader
            assert loader is not None
            for batch in loader:
                yield batch
                if self.loader is not loader:
                    raise TrainerClosed("this batches() generator was taken before "
                                        "Trainer.close(), which ended its DataLoader workers: "
                                        "call batches() again for the rest of the epoch")
            return
        order = list(self.sampler)
        for k in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
            step = p.step  # the batch for step p.step + 1, whatever happened before
            yield self.resident.batch(order[k : k + cfg.batch_size], step, self.seed, self.env.rank)

    def fit(self) -> TrainResult:
        """Train until ``epochs``, ``max_steps`` or ``time_limit``; write the final checkpoint
        and state. Stopped by a signal (Ctrl-C, SIGTERM, SIGHUP: :class:`StopSignals`), it
        writes them after the step in hand, then raises :class:`~taco.errors.Interrupted`
        (:class:`~taco.distributed.StoppedTogether`) saying where it stopped and how to go on
        (under torchrun: on rank 0; the other ranks raise
        :class:`~taco.distributed.SilentInterrupted`, with the same signal, and :func:`train`
        lets no rank leave the process group, and torchrun stop the job, before rank 0 is on
        its way out too). Then, or on any error, it lets ``out_dir`` go (:meth:`close`)."""
        try:
            with grad_enabled():  # trains inside a caller's no_grad() or inference_mode() too
                return self._fit()
        finally:
            self.close()

    def close(self) -> None:
        """Let ``out_dir`` go, so that another run may write there, and end the DataLoader's
        workers, which are kept across epochs (:meth:`fit` does both at its end, however it
        ends; a Trainer that is not fitted holds ``out_dir`` until this, or until it is
        collected). :meth:`batches` still works after it, starting workers again; a
        ``batches()`` generator taken before it raises :class:`TrainerClosed` when drawn from."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        loader = getattr(self, "loader", None)  # None too when __init__ failed before it
        if loader is not None and loader.persistent_workers:
            # left to Python's exit, the workers would be waited for for ever: they leave its
            # SIGTERM to the run (worker_signals). torch ends them when the loader's iterator is
            # collected, but a batches() generator still held (not run to its end) holds it
            # too: ended here, by torch's own shutdown, and a fresh loader for later batches()
            iterator = getattr(loader, "_iterator", None)
            if iterator is not None and hasattr(iterator, "_shutdown_workers"):
                iterator._shutdown_workers()
            self.loader = self._data_loader(loader.num_workers)

    def _already_finished(self) -> TrainResult:
        """A finished run resumed (a sweep's --resume, a repeated command): nothing is written
        but, in the run's own folder, a checkpoint its state is ahead of (a run stopped between
        the two writes); resumed into another folder, that folder gets nothing. Said in a line."""
        p = self.progress
        run = self.out_dir if self.resume_path is None else self.resume_path.parent
        own = run.resolve() == self.out_dir.resolve()
        wrote = False
        if self.env.is_main:
            clear_leftovers(self.out_dir)
            if own and self._checkpoint_step() != p.step:
                self._write_model()
                wrote = True
        done = (f"wrote its checkpoint of step {p.step}, which a stop had left behind"
                if wrote else "nothing to do")
        self.log.say(f"{self.says}: {run} already finished at step {p.step} "
                     f"(raise max_steps or epochs to train on); {done}")
        return self._result({}, "done")

    def _fit(self) -> TrainResult:
        cfg, p = self.cfg, self.progress
        if p.step > 0 and (p.step >= self.total_steps or p.epoch >= cfg.epochs):
            return self._already_finished()
        budget = self.budget
        self._start_step = p.step
        with StopSignals(announce=self.env.is_main, says=self.says) as stop:
            if self._set_up_signals:
                stop.take(self._set_up_signals[0])
            self._refuse_first_step(stop)
            stopped: str = "done"
            signum: int | None = None
            bar = None
            window: list[dict[str, Tensor]] = []
            unchecked: list[tuple[int, int, dict[str, Tensor]]] = []  # (step, epoch, parts)
            last: dict[str, float] = {}
            try:
                self._open_log()
                bar = self.log.progress_bar(self.total_steps, p.step)
                stop.bar = bar  # its announcement goes below a drawn bar, a log gets no blank line
                t_window, t_start, wall0 = time.perf_counter(), time.perf_counter(), p.wall_time_s
                self._fit_start = t_start
                validated = p.step  # the step of the last validation
                t_step = time.perf_counter()  # a step's time counts drawing its batch
                while p.epoch < cfg.epochs and p.step < self.total_steps and stopped == "done":
                    for batch in self.batches():
                        self._set_lr()
                        parts = self.train_step(batch)
                        window.append(parts)
                        unchecked.append((p.step + 1, p.epoch, parts))
                        self._count_step()
                        p.wall_time_s = wall0 + time.perf_counter() - t_start
                        budget.note_step(time.perf_counter() - t_step)
                        if bar is not None:
                            bar.update(1)
                        if p.step % cfg.log_interval == 0 or p.step == self.total_steps:
                            self._check_finite(unchecked)
                            last = self._log_train(window, time.perf_counter() - t_window, bar)
                            window, t_window = [], time.perf_counter()
                        if p.step >= self.total_steps:
                            break  # the final checkpoint, then the final validation
                        t_pause = time.perf_counter()
                        if self._save_and_validate(unchecked):
                            validated = p.step
                        t_window += time.perf_counter() - t_pause  # img/s: training steps alone
                        # decided before the next batch is drawn (its random crops), so that a
                        # run resumed from where this one stops draws what an uninterrupted one would
                        stopped, signum = self._stop_reason(budget, stop)
                        if stopped != "done":
                            break
                        t_step = time.perf_counter()
                self._check_finite(unchecked)
                if window and stopped != "done":  # the last, partial log interval
                    last = self._log_train(window, time.perf_counter() - t_window, bar)
                final = p.step >= self.total_steps
                if final or self._saved_step != p.step:  # a stop at a checkpoint step: written
                    self._save_together(final=final)
                if (self.validates and validated != p.step
                        and stopped != "interrupted"):  # asked to stop: not a validation more
                    self._validate_together()
            except BaseException:
                if p.step == self._start_step:  # ended before its first step (its first batch
                    # unreadable, out of memory): nothing of this run's stays, as when the first
                    # step's check stops it (_refuse_first_step), so the same command runs again
                    self.log.discard()
                raise
            finally:
                if bar is not None:
                    bar.close()
                self.log.close()
        if stopped == "interrupted":
            raise self._interrupted(
                signum,
                f" at step {p.step} ({p.step / self.steps_per_epoch:.2f} epochs); the model and "
                f"state are saved in {self.out_dir}: go on with {self.go_on}",
            )
        why = f"time limit {cfg.time_limit} reached; " if stopped == "time_limit" else ""
        self.log.say(
            f"done: {why}{count(p.step, 'step')} ({p.step / self.steps_per_epoch:.2f} epochs) in "
            f"{p.wall_time_s:.0f} s; model -> {self.out_dir / CHECKPOINT_FILE}"
            + (f"; go on with {self.go_on}" if stopped == "time_limit" else "")
        )
        return self._result(last, stopped)

    def _refuse_first_step(self, stop: StopSignals) -> None:
        """The first step's stop check, before anything in out_dir is written or a batch drawn:
        a signal already received raises :class:`~taco.errors.Interrupted`, a spent
        ``time_limit`` :class:`NoStepInTimeLimit`, and the folder stays as it was found. Under
        torchrun every rank decides together here, wherever the run starts, so that all of them
        refuse (or none). Later checks follow each step (:meth:`_stop_reason`)."""
        stopped, signum = self._stop_reason(self.budget, stop, first=True)
        if stopped == "interrupted":
            raise self._interrupted(signum, f" before its first step; {self._kept()}")
        if stopped == "time_limit":
            step = self.progress.step
            kept = (f"; the checkpoint and state in {self.out_dir} are as they were "
                    f"(step {step})" if step else "; no checkpoint written")
            raise NoStepInTimeLimit(
                f"no step fitted in the time limit {self.cfg.time_limit}: the set-up took "
                f"{self.budget.elapsed():.0f} s (data, model, text encoder){kept}; give a "
                "longer --time-limit"
            )

    def _open_log(self) -> None:
        """Start writing in out_dir (rank 0): clear a stopped write's leftovers, open the run
        log (config.yaml, paths absolute, so --resume RUN works from anywhere), then say the
        notes and the summary line."""
        if self.env.is_main:
            clear_leftovers(self.out_dir)
        self.log.open(dump_config(self.cfg, absolute=True), self.progress.step)
        for note in [self.resume_note, *self.notes, self._epochs_note(), frozen_base_note(self.cfg)]:
            if note:
                self.log.say(f"{self.says}: note: {note}")
        self.log.say(self._summary())

    def _set_lr(self) -> None:
        """The main optimiser's learning rate for the step ``progress`` is about to take."""
        lr = lr_at(self.cfg, self.progress.epoch, self.progress.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _count_step(self) -> None:
        """Count the step just taken in ``progress``; epochs count completed passes."""
        p = self.progress
        p.step += 1
        p.batch_in_epoch += 1
        if p.batch_in_epoch == self.steps_per_epoch:
            p.epoch, p.batch_in_epoch = p.epoch + 1, 0

    def _save_and_validate(self, unchecked: list[tuple[int, int, dict[str, Tensor]]]) -> bool:
        """After a step that is not the last: the checkpoint at a ``ckpt_interval`` step, then
        the validation at a ``val.interval`` step (the checkpoint first: a validation that fails
        leaves it written), each after checking the ``unchecked`` steps were finite. Returns
        whether it validated."""
        step, cfg = self.progress.step, self.cfg
        if step % cfg.ckpt_interval == 0:
            self._check_finite(unchecked)
            self.budget.note_save(self._save_together())
            # a log's mark of what a run killed later (SIGKILL, out of memory) goes on from
            self.log.say(f"checkpoint @ step {step} saved in {self.out_dir} (go on from it with {self.go_on})")
        if self.validates and step % cfg.val.interval == 0:
            self._check_finite(unchecked)
            self.budget.note_validation(self._validate_together())
            return True
        return False

    def _check_replicas(self) -> None:
        """Raise when the DDP replicas' parameters differ; record in ``progress`` that they agree."""
        in_sync = replicas_in_sync(list(self.model.parameters()), self.env)
        if not in_sync:
            raise RuntimeError("DDP replicas diverged: parameters differ between ranks")
        self.progress.extra["replicas_in_sync"] = in_sync

    def _result(self, last: dict[str, float], stopped: str) -> TrainResult:
        """The :class:`TrainResult` of the run as ``progress`` now stands."""
        p = self.progress
        return TrainResult(self.out_dir / CHECKPOINT_FILE, self.out_dir / STATE_FILE, p.step,
                           p.epoch, p.wall_time_s, last, stopped)

    def _stop_reason(self, budget: TimeBudget, stop: StopSignals,
                     first: bool = False) -> tuple[str, int | None]:
        """Whether to stop before the next step: ("interrupted", the signal) when a signal
        asked to, ("time_limit", None) when the budget is spent, ("done", None) to go on.

        With several processes decided together (one all-reduce, which waits for the device),
        so that every rank stops at the same step and names the signal one of them received:
        before the ``first`` step, then at the shared checks only (every ``log_interval``-th
        step, and the run's steps 1, 2, 4, 8, ...: :func:`~taco.train.schedule.is_shared_check`,
        :func:`~taco.train.schedule.spent_at_shared_check`).
        There the budget must cover the steps up to the next shared check, with the checkpoint
        writes and validations due before it, and then the end of the run: the run stops at the
        last check before the time limit, not up to an interval past it."""
        signum = stop.signum
        if not self.env.distributed:
            spent = budget.spent()
        elif first:
            signum, spent = shared_stop(signum, budget.spent(), self.device)
        else:
            spent_now = spent_at_shared_check(budget, self.cfg, self.progress.step,
                                              self._start_step, self.total_steps, self.validates)
            if spent_now is None:
                return "done", None
            signum, spent = shared_stop(signum, spent_now, self.device)
        if signum is not None:
            return "interrupted", signum
        return ("time_limit" if spent else "done"), None

    def _interrupted(self, signum: int | None, progress: str) -> Interrupted:
        """The :class:`~taco.errors.Interrupted` that ends a run stopped by ``signum``: rank 0's
        says where the job stopped, the other ranks' exit with the same status, silently. Every
        rank raises one (a shared stop: :meth:`_stop_reason`), so they leave the process group
        together (:func:`~taco.distributed.leaving_process_group`)."""
        kind = StoppedTogether if self.env.is_main else SilentInterrupted
        return kind(signum or signal.SIGTERM, progress)

    # ----------------------------------------------------------------- one step

    @grad_enabled()
    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        """One optimisation step on a :class:`taco.data.Batch`; returns the loss parts (plus
        ``aux_loss``, ``psnr`` and ``grad_norm``) as detached device tensors, without waiting
        for the device. Used by :meth:`fit` and by the benchmarks; with autograd on whatever
        the caller's mode (:func:`grad_enabled`)."""
        cfg = self.cfg
        x = batch.images.to(self.device, non_blocking=True)
        if x.is_inference():  # a batch drawn inside the caller's inference_mode(): not one
            x = x.clone()  # that autograd may save for the backward
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        text = self._text(batch.captions)
        quality = lmbda = None
        if self.qualities is not None:  # variable rate: this step's quality and its λ
            step = self.progress.step
            quality, lmbda = self.qualities.quality(step), self.qualities.lmbda(step)
        if text is None:
            out = self.net(x, quality=quality)
        else:
            out = self.net(x, text.tokens, text.mask, quality=quality)
        parts = self.loss_fn(out, x, batch.captions, lmbda=lmbda)
        aux = self.model.aux_loss() if self.aux_optimizer is not None else None
        self.optimizer.zero_grad(set_to_none=True)
        if self.aux_optimizer is not None:
            self.aux_optimizer.zero_grad(set_to_none=True)
        # One backward for both: the aux loss reaches only the quantiles (CompressAI detaches
        # the density parameters in it), and DDP sees a single backward per forward.
        (parts["loss"] + aux if aux is not None else parts["loss"]).backward()
        zero = parts["loss"].detach().new_zeros(())
        norm = (
            torch.nn.utils.clip_grad_norm_(self.main_params.values(), cfg.clip_grad)
            if cfg.clip_grad > 0 else zero
        )  # fmt: skip
        self.optimizer.step()
        if self.aux_optimizer is not None:
            self.aux_optimizer.step()
        record = {k: v.detach() for k, v in parts.items()}
        record["aux_loss"] = aux.detach() if aux is not None else zero
        record["psnr"] = metrics.psnr(x, out["x_hat"].detach().float()).mean().to(zero)
        record["grad_norm"] = norm.detach().to(zero)
        return record

    def _check_finite(self, unchecked: list[tuple[int, int, dict[str, Tensor]]]) -> None:
        """Raise NonFiniteLossError naming the first step since the last check whose loss or
        gradient norm is not finite (one device sync for all of them; all ranks agree)."""
        if not unchecked:
            return
        values = torch.stack([torch.stack([r["loss"], r["grad_norm"]]) for _, _, r in unchecked])
        finite = bool(torch.isfinite(values).all())
        if all_true(finite, self.env, self.device):
            unchecked.clear()
            return
        for step, epoch, parts in unchecked:
            what = ("loss" if not torch.isfinite(parts["loss"])
                    else "gradient norm" if not torch.isfinite(parts["grad_norm"]) else None)  # fmt: skip
            if what is not None:
                shown = ", ".join(f"{k}={float(v):.4g}" for k, v in parts.items())
                raise NonFiniteLossError(
                    f"non-finite {what} at step {step} (epoch {epoch}): {shown}. Stopping; "
                    f"{self._kept()}. Try a lower lr, clip_grad > 0 or bf16=false."
                )
        raise NonFiniteLossError(
            f"non-finite loss on another process by step {unchecked[-1][0]}. Stopping; "
            f"{self._kept()}. Try a lower lr, clip_grad > 0 or bf16=false."
        )

    def _kept(self, todo: str = "") -> str:
        """What a stopped run leaves to go on from: the checkpoint (the model) and the step
        ``--resume`` continues from, which is its training state's (the state is written first: a
        failed checkpoint leaves it a step behind); or, no state saved yet (the first one
        failed, or none was due), that the run starts again. With ``todo`` (``free some
        space``): what to do first, then how to go on. In the caller's words (``resume_with``:
        ``--resume``, or from Python ``resume='runs/x'``)."""
        first = f"{todo} and " if todo else ""
        own = self.out_dir / STATE_FILE
        state = own if state_exists(own) or self.resume_path is None else self.resume_path
        step = state_step(state)
        if step is None:  # a new run in a run's folder is refused: --resume, or its weights
            if held_files(self.out_dir) != CHECKPOINT_FILE:
                return f"no resumable state yet: {first}run again with {self.resume_with} (from step 0)"
            return (f"no resumable state yet, only the model ({self.out_dir / CHECKPOINT_FILE}): "
                    f"{first}train on from it with "
                    f"{init_from_command(self.out_dir, 'NEWDIR', python=self.says == 'train')}")
        saved = self.out_dir / CHECKPOINT_FILE
        model_step = self._checkpoint_step()
        if model_step is None:  # resumed from another folder, no checkpoint written here yet
            kept = f"the training state is kept: {state} (step {step})"
        elif model_step == step:
            kept = f"the last good checkpoint is kept: {saved} (step {step})"
        else:
            kept = (f"the last good checkpoint is kept: {saved} (step {model_step}; {self.resume_with} "
                    f"continues from step {step})")
        return kept + (f"; {first}continue with {self.resume_with}" if todo else "")

    def _checkpoint_step(self) -> int | None:
        """The step of the checkpoint in out_dir; None where there is none (or none that reads)."""
        try:
            return read_checkpoint_header(self.out_dir / CHECKPOINT_FILE)["metadata"]["trained_steps"]
        except (CheckpointError, KeyError, TypeError):
            return None

    def _write_failed(self, path: Path, error: OSError) -> OutputWriteError:
        """A one-line error for a file that could not be written (full disk, permissions...)."""
        reason = error.strerror or str(error)
        todo = "free some space" if error.errno == errno.ENOSPC else "fix this"
        return OutputWriteError(
            f"cannot write {path}: {reason} (at step {self.progress.step}). Stopping; "
            f"{self._kept(todo)}.",
            error.errno,
        )

    # ----------------------------------------------------------------- logging

    def _summary(self) -> str:
        cfg, m = self.cfg, self.model
        n_train = sum(p.numel() for p in self.main_params.values())
        n_all = sum(p.numel() for p in m.parameters())
        text = m.config.text_encoder["name"] if m.uses_text else "none"
        if self.caption_table is not None:
            text += f" ({len(self.caption_table)} captions encoded once)"
        start = f", resuming at step {self.progress.step}" if self.progress.step else ""
        data = count(len(self.sampler.dataset), "image")  # type: ignore[arg-type]
        if self.resident is not None:
            data += f" ({self.resident.nbytes / 2**20:.0f} MiB on {self.device})"
        options = [k for k in ("bf16", "channels_last", "compile", "fused_adam") if getattr(cfg, k)]
        return (
            f"{self.says}: preset {cfg.preset}, model {cfg.resolved_model()} "
            f"({n_train / 1e6:.2f} M of {n_all / 1e6:.2f} M parameters train), text {text}, "
            f"{self._lambdas()} k_p={cfg.k_p:g} k_j={self.loss_fn.k_j:g} β={cfg.beta:g}; "
            f"{data}, {count(self.steps_per_epoch, 'step')}/epoch x "
            f"{count(self.env.world_size, 'process', 'processes')} x batch {cfg.batch_size} on {self.device}"
            + (f" [{', '.join(options)}]" if options else "")
            + (f"; init from {cfg.init_from}" if cfg.init_from else "")
            + (f", lr warm-up {count(cfg.warmup_steps, 'step')}" if cfg.warmup_steps else "")
            + (f"; time limit {cfg.time_limit}" if cfg.time_limit else "")
            + f"; {count(self.total_steps, 'step')}{start} -> {self.out_dir}"
        )

    def _lambdas(self) -> str:
        if self.qualities is None:
            return f"λ={self.cfg.lmbda:g}"
        lambdas = ", ".join(f"{v:g}" for v in self.qualities.lambdas)
        return f"variable rate, λ drawn per step from qualities 1..{self.qualities.num_qualities} ({lambdas})"

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
            self.log.write(record)
            if bar is None or bar.disable:  # no bar drawn (progress: false; stderr a log file or
                # a pipe): a line instead, so a log shows the run going on, and for how long yet
                self.log.say(f"step {p.step}/{self.total_steps}: {train_postfix(values, record['img_per_s'])}; "
                             f"{step_times(p.wall_time_s, self._time_left())}")
            else:
                bar.set_postfix_str(train_postfix(values, record["img_per_s"]), refresh=False)
        return values

    def _time_left(self) -> float | None:
        """The seconds the run has left, estimated at the pace of this run's steps so far (their
        checkpoints and validations included), and at most what its ``time_limit`` leaves; None
        before its first step and after its last (the final checkpoint and validation to come)."""
        done = self.progress.step - self._start_step
        if done <= 0 or self.progress.step >= self.total_steps:
            return None
        left = (self.total_steps - self.progress.step) * (time.perf_counter() - self._fit_start) / done
        if self.budget.seconds is not None:
            left = min(left, max(0.0, self.budget.seconds - self.budget.elapsed()))
        return left

    def _validate_together(self) -> float:
        """:meth:`_validate` on rank 0, which under torchrun every rank waits for
        (:func:`together`): where it fails (out of memory, a broken photo), the others say so in
        one line instead of gloo's traceback at their next collective. -> seconds it took (0 on
        the other ranks)."""
        return together(self._validate if self.val_dataset is not None else lambda: 0.0,
                        self.env, self.device, "validate")

    def _validate(self) -> float:
        """Validate (rank 0), log the record; -> seconds it took."""
        assert self.val_dataset is not None
        record = validate(
            self.model, self.val_dataset, self.loss_fn, self._text, self.text_encoder,
            self.device, self.cfg.batch_size, self.cfg.val.compress_images,
        )  # fmt: skip
        record = {"kind": "val", "step": self.progress.step, **record}
        self.log.write(record)
        shown = " ".join(
            f"{k} {record[k]:.4f}" for k in ("loss", "bpp", "psnr", "lpips", "real_bpp", "real_psnr")
            if k in record
        )  # fmt: skip
        if self.qualities is not None:  # each quality's point: bpp, PSNR (coded if measured)
            real = "real_bpp" in record
            shown += "; " + " | ".join(
                f"q{q} {record[f'q{q}/' + ('real_bpp' if real else 'bpp')]:.3f} bpp "
                f"{record[f'q{q}/' + ('real_psnr' if real else 'psnr')]:.2f} dB"
                for q in range(1, self.qualities.num_qualities + 1)
            )  # fmt: skip
        self.log.say(f"val @ step {self.progress.step}: {shown}")
        if "real_coding_error" in record:  # the run goes on: its checkpoint is written already
            warn_at_caller(f"validation at step {self.progress.step} could not code its images, "
                           f"{record['real_coding_error']}; real_bpp and real_psnr are NaN, "
                           "training goes on", TacoWarning)
        return float(record["seconds"])

    # ----------------------------------------------------------------- checkpoints

    def _optimizers(self) -> dict[str, torch.optim.Optimizer | None]:
        return {"optim": self.optimizer, "aux_optim": self.aux_optimizer}

    def _save_together(self, final: bool = False) -> float:
        """The replicas' check (:meth:`_check_replicas`, recorded in what is saved), then
        :meth:`_save` on every rank, which under torchrun all wait until rank 0 has written
        (:func:`together`): where it could not, the others say so in one line instead
        of failing at the next collective; and after a signal they leave no sooner than rank 0
        has written, since torchrun stops the whole job (SIGTERM) as soon as one process exits
        with a failure status. A save of a step not final writes what the final save of a run
        stopped at that step would: that stop writes no second one (``_saved_step``)."""
        self._check_replicas()
        seconds = together(lambda: self._save(final=final), self.env, self.device,
                           "write the checkpoint")
        self._saved_step = self.progress.step
        return seconds

    def _save(self, final: bool = False) -> float:
        """Training state, then model checkpoint (rank 0 writes; every rank takes part in
        gathers); -> seconds it took."""
        t0 = time.perf_counter()
        rng = {"torch": gather_rows(torch.get_rng_state(), self.env, self.device)}
        if self.device.type == "cuda":
            rng["cuda"] = gather_rows(torch.cuda.get_rng_state(self.device), self.env, self.device)
        if not self.env.is_main:
            return time.perf_counter() - t0
        # the entropy tables built once, before the state, which holds them too (a resumed run's
        # state equals an unbroken one's); the checkpoint written after it takes them as they are
        self.model.update(force=True)
        invalidate_fingerprint(self.model)
        try:
            meta = state_meta(self.cfg, self.progress, self.env, self.steps_per_epoch, final,
                              stream_seed=self.seed,
                              init_from=getattr(self.model, "metadata", {}).get("init_from"),
                              train_set=self.train_set)
            write_state(self.out_dir, self.model, self._optimizers(), rng, meta)  # type: ignore[arg-type]
        except OSError as e:
            raise self._write_failed(self.out_dir / STATE_FILE, e) from None
        self._write_model(update_tables=False)
        return time.perf_counter() - t0

    def _write_model(self, update_tables: bool = True) -> None:
        """The checkpoint (rank 0), after the state, which holds the same weights in float32: a
        run stopped between the two resumes from the state and writes the checkpoint again.
        ``update_tables=False``: :meth:`_save` has just built the entropy tables (for the
        state), and the checkpoint takes them as they are."""
        try:
            meta = training_metadata(
                self.cfg, self.progress, self.model, self.loss_fn, self.env, self.device,
                self.steps_per_epoch, len(self.sampler.dataset),  # type: ignore[arg-type]
            )  # fmt: skip
            write_checkpoint(self.model, self.out_dir, meta, update_tables=update_tables)
        except OSError as e:
            raise self._write_failed(self.out_dir / CHECKPOINT_FILE, e) from None


def _close_at_exit(trainer: weakref.ref[Trainer]) -> None:
    """At the exit of a process that still holds ``trainer``: :meth:`Trainer.close`."""
    held = trainer()
    if held is not None:
        held.close()


def train(cfg: TrainConfig, resume: str | Path | None = None, *,
          notes: Sequence[str] = (), go_on: str | None = None,
          resume_with: str | None = None) -> TrainResult:
    """Run one training job (see :class:`Trainer`; ``notes`` are said before its summary
    line; ``go_on`` and ``resume_with`` word how to continue it, by default as Python:
    ``train(cfg, resume='runs/x')``); leaves the process group on return. ``cfg`` is checked first
    (:meth:`TrainConfig.validate`). The process's global generators, Python's ``random``,
    NumPy's and torch's, are seeded with ``seed`` plus the rank and left so (a caller that
    wants its own streams back saves and restores their states). It trains with autograd on
    whatever the caller's grad mode (inside ``torch.no_grad()`` or ``torch.inference_mode()``,
    after ``torch.set_grad_enabled(False)``: :func:`grad_enabled`) and leaves that mode as it was."""
    with leaving_process_group():
        return Trainer(cfg, resume, notes=notes, go_on=go_on, resume_with=resume_with).fit()


def lambda_sweep(
    cfg: TrainConfig, lambdas: tuple[float, ...] | None = None, resume: bool = False, *,
    notes: Sequence[str] = (), go_on: str = "the same lambda_sweep call with resume=True",
    resume_with: str = "resume=True",
) -> list[TrainResult]:
    """Train one model per λ (default: the paper's six), one after the other, each in
    ``out_dir/lambda-<λ>`` (which each holds while it runs: :class:`Trainer`); with ``resume``,
    runs that have a state continue, finished ones are skipped by their own max_steps/epochs, and
    one stopped before its first state starts again from step 0 (a folder holding only a
    checkpoint is refused, as :class:`Trainer` refuses it). A config whose runs would be one
    model (variable-rate; a frozen base from one ``init_from``) is a :class:`ConfigError` before
    the first run (:func:`~taco.train.config.check_lambda_sweep`). ``go_on`` and ``resume_with``
    word how to continue the sweep (:class:`Trainer`), by default as Python."""
    from ..recipe import LAMBDAS

    check_lambda_sweep(cfg.validate())  # six runs that would be one model: before the first
    results = []
    with leaving_process_group():
        for lmbda in lambdas or LAMBDAS:
            out = Path(cfg.out_dir) / f"lambda-{lmbda:g}"
            run_cfg = dataclasses.replace(
                cfg, lmbda=lmbda, out_dir=str(out),
                model_id=f"{cfg.model_id}-lambda{lmbda:g}" if cfg.model_id else None,
            )  # fmt: skip
            results.append(Trainer(  # --resume: a λ stopped before its first state starts again
                run_cfg, out if resume and out.is_dir() else None, notes=notes,
                go_on=go_on, resume_with=resume_with,
            ).fit())  # fmt: skip
    return results
