"""``taco train`` / ``python -m taco.train``: a config file, ``--set`` overrides, and go.

    taco train configs/taco-photos.yaml --set max_steps=100 k_j=0
    torchrun --nproc_per_node=2 -m taco.train configs/taco-coco.yaml
    taco train configs/taco-coco.yaml --resume            # continue out_dir's run
    taco train --resume runs/x --max-steps 2000           # continue runs/x (its config.yaml)
    taco train configs/taco-coco.yaml --lambda-sweep      # the paper's six rate points
    taco train configs/taco-photos.yaml --text-injection tgic   # ablation: TGIC's attention
    taco train configs/taco-photos.yaml --freeze-base --set init_from=runs/elic/checkpoint.safetensors
    taco train configs/taco-photos.yaml --fast --time-limit 8m --init-from taco-minilm-small-q4
    taco train configs/taco-photos.yaml --embed-captions emb.safetensors   # for text_embeddings
    taco train configs/taco-photos.yaml --embed-captions emb.safetensors --force   # write over it
"""

from __future__ import annotations

import argparse
import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cli.common import (
    COMMAND_HELP,
    RawDescriptionHelpFormatter,
    add_device_option,
    path_arg,
    positive_int,
)
from ..fileobjects import same_folder
from ..messages import shell_word, to_stderr
from ..models.config import TEXT_INJECTIONS

if TYPE_CHECKING:
    from .config import TrainConfig

DESCRIPTION = (
    "Train TACO (or the ELIC baseline) from a YAML, JSON or TOML config whose defaults are the paper's "
    "recipe. Runs on one process, or on many under torchrun (DDP)."
)

#: ``taco train --help``'s closing words: a recipe that needs no config file, no checkout and no
#: network (what a pip-installed taco has).
EPILOG = """\
without a config file (a pip install has no configs/): every key by --set, and
nothing to download. PHOTOS holds your photos and their captions: a
captions.jsonl (`taco caption PHOTOS` writes one with a captioning model) or a
sidecar PHOTO.txt beside each photo:

  taco train --set data.root=PHOTOS model=taco-minilm-small k_j=0 -o runs/mine
  taco train --resume runs/mine   # after a stop: on from its last checkpoint
  taco compress photo.jpg --model runs/mine   # use it

That is the paper's schedule (50 epochs of 256x256 crops): ~2,000 steps for 150
photos, many hours on a CPU. For a first try add --time-limit 30m (a clean stop
with a checkpoint; --resume goes on) or --max-steps N.

model=taco-minilm-*: the MiniLM text encoder, installed with taco (the default
model, taco, reads captions with CLIP). model=taco-minilm-small trains the
authors' entropy-model layout (3.51 M parameters), not the CompressAI one of the
shipped taco-minilm-small-q4 (2.92 M; --init-from taco-minilm-small-q4 keeps
that). k_j=0: no CLIP term in the loss (it needs openai/clip-vit-base-patch32 on
disk: clip_model=DIR or TACO_CLIP_PATH).
Photos without captions: --set preset=elic model=elic-small k_j=0 (the
text-free baseline). Every key and its default: taco train --print-config."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", type=path_arg, help="config file (.yaml/.yml/.json/.toml); default: all defaults")
    p.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                   metavar="KEY=VALUE",
                   help="override config keys (dotted for sections: data.root=DIR val.interval=500)")
    p.add_argument("--resume", nargs="?", const="", default=None, metavar="PATH",
                   help="continue a run: its folder or a file of it (train_state.safetensors, "
                   "checkpoint.safetensors, config.yaml; no PATH: the config's out_dir, or the folder of "
                   "a run's own config.yaml given, moved or copied with it). The run "
                   "goes on in that folder (--out-dir DIR: in DIR, which must hold no other run); "
                   "without a config file, the run's own config.yaml is read, --set applies on top")
    p.add_argument("--lambda-sweep", action="store_true",
                   help="train the paper's six λ one after the other, in out_dir/lambda-<λ> "
                   "(a single-rate model; a frozen base from one --init-from is refused: it "
                   "fixes the rate)")
    p.add_argument("--text-injection", choices=TEXT_INJECTIONS,
                   help="how a TACO model's encoder takes the text: the paper's adapter or TGIC's "
                   "image-text attention (same as --set model_overrides.text_injection=...)")
    p.add_argument("--freeze-base", action="store_true",
                   help="train only the text modules on a frozen codec, the one --init-from "
                   "gives (e.g. elic-small-q4); without it, the model's untrained random weights "
                   "(a note says so) (same as --set preset=taco-frozen-base)")
    p.add_argument("-o", "--out-dir", "--output", dest="out_dir", type=path_arg, metavar="DIR",
                   help="the run's folder, as -o/--output of the other commands (out_dir, taken "
                   "as written, not read as YAML as --set values are, and applied after --set)")
    p.add_argument("--max-steps", type=positive_int, metavar="N",
                   help="stop after at most N steps (the epochs may end the run first: a note "
                   "at the start says so; same as --set max_steps=N)")
    add_device_option(p, default=None, torchrun=True, note="same as --set device=DEVICE (a config file's "
                      "device, when it gives one, is the default)")
    p.add_argument("--init-from", metavar="MODEL", type=path_arg,
                   help="start from these weights (checkpoint, run folder or built-in trained name, "
                   "e.g. elic-small-q4) with "
                   "a fresh optimiser and a 100-step lr warm-up (init_from=MODEL, taken as written, "
                   "and warmup_steps=100; give warmup_steps to change it: a run's own config.yaml's "
                   "is not taken); model and lmbda, unless given, are the checkpoint's; with --resume, "
                   "only the run's own weights, which resuming does not need (others are refused: a "
                   "warm start is a new run)")
    p.add_argument("--time-limit", metavar="DURATION",
                   help="stop cleanly, with a final checkpoint, within this wall-clock budget "
                   "counted from the start of the set-up (8m, 90s, 1h30m; time_limit, taken as "
                   "written); if not one step fits: exit status 3, nothing written (a "
                   "folder the run made is removed, a resumed run's files stay as they were)")
    p.add_argument("--bf16", action="store_true",
                   help="bf16 autocast for the transforms (the rate stays float32)")
    p.add_argument("--channels-last", action="store_true", help="channels_last memory format")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--fused-adam", action="store_true", help="torch's fused Adam kernels")
    p.add_argument("--data-on-device", action="store_true",
                   help="decode the training set once into device memory, crop there")
    p.add_argument("--fast", action="store_true",
                   help="the GPU recipe: --data-on-device --fused-adam --bf16 --channels-last")
    p.add_argument("--embed-captions", metavar="FILE", type=path_arg,
                   help="write the token embeddings of the config's training and validation "
                   "captions to FILE (for text_embeddings: FILE on a machine without the text "
                   "encoder) and exit; an existing FILE is refused unless --force")
    p.add_argument("-f", "--force", action="store_true",
                   help="with --embed-captions: overwrite FILE if it exists (a run's folder is "
                   "never overwritten: a new run refuses one that holds a run's files)")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved configuration (YAML) and exit")


def _flag_values(args: argparse.Namespace) -> dict[str, Any]:
    """The config values the option flags stand for (dotted key: value), applied after --set as
    they are, not read as YAML: ``-o 'my runs #1'`` is that folder, ``-o yes`` the folder yes."""
    out: dict[str, Any] = {}
    if getattr(args, "freeze_base", False):
        out["preset"] = "taco-frozen-base"
    if getattr(args, "text_injection", None) is not None:
        out["model_overrides.text_injection"] = args.text_injection
    for key in ("out_dir", "max_steps", "device", "init_from", "time_limit"):
        value = getattr(args, key, None)
        if value is not None:
            out[key] = value
    fast = getattr(args, "fast", False)
    for flag in ("bf16", "channels_last", "compile", "fused_adam", "data_on_device"):
        if getattr(args, flag, False) or (fast and flag in FAST):
            out[flag] = True
    return out


#: What --fast switches on (the GPU recipe; compile is separate: it pays only on long runs).
FAST = ("data_on_device", "fused_adam", "bf16", "channels_last")


def _given_keys(args: argparse.Namespace) -> set[str]:
    """The top-level config keys the command line sets (--set items and option flags)."""
    return {item.partition("=")[0].strip().split(".")[0]
            for item in [*args.overrides, *_flag_values(args)]}


def resumed_run(args: argparse.Namespace) -> Path | None:
    """The folder of the run ``--resume PATH`` names (a leading ``~`` expanded, as the config's
    out_dir is: ``--resume '~/run1'``): PATH, or the folder of the run file PATH
    names (its state or checkpoint; its config.yaml or log.jsonl beside the other or a state);
    None without --resume or without PATH (the config's out_dir is the run). Another file is a
    ConfigError: the run would have been written over it (a hand-written config.yaml too)."""
    from ..shards import CHECKPOINT_FILE, TRAIN_STATE_FILE as STATE_FILE  # no torch
    from .config import CONFIG_SUFFIXES, ConfigError
    from .run_log import CONFIG_FILE, LOG_FILE

    if not getattr(args, "resume", None):
        return None
    from .state import state_exists  # imports torch: only for --resume
    path = Path(os.path.expanduser(args.resume))  # as home_paths does for out_dir: '~/run1' too
    if path.is_dir():
        return path
    if path.name.startswith((STATE_FILE, CHECKPOINT_FILE)):
        return path.parent
    run_files = (CONFIG_FILE, LOG_FILE)
    if path.name in run_files and (state_exists(path.parent / STATE_FILE)
                                   or all((path.parent / name).is_file() for name in run_files)):
        return path.parent
    if path.exists():
        what = (f"a config beside no run: to start a run from it, give it without --resume "
                f"(taco train {shell_word(path)})" if path.suffix.lower() in CONFIG_SUFFIXES
                else "not one of a run's files")
        raise ConfigError(
            f"--resume takes a run folder or a file of it ({STATE_FILE}, {CHECKPOINT_FILE}, "
            f"{CONFIG_FILE}); {path} is {what}"
        )
    return path


def run_config_folder(path: str | os.PathLike[str] | None) -> tuple[Path, str] | None:
    """(the folder, the ``out_dir`` it records) of a ``config.yaml`` that sits beside a run's
    log.jsonl, checkpoint or training state and records an ``out_dir`` (taco writes it there,
    absolute): a run's own config, in its folder or moved (copied) with it, where the recorded
    ``out_dir`` names the folder it was written in; None for another file, or one that does not
    read (read again, and any problem said, where the config is resolved)."""
    from ..shards import CHECKPOINT_FILE, TRAIN_STATE_FILE as STATE_FILE, find  # no torch
    from .config import ConfigError, read_config_file
    from .run_log import CONFIG_FILE, LOG_FILE

    if path is None or Path(path).name != CONFIG_FILE:
        return None
    folder = Path(path).parent
    if not ((folder / LOG_FILE).is_file() or any(find(folder / name) is not None
                                                 for name in (CHECKPOINT_FILE, STATE_FILE))):
        return None
    try:
        out_dir = read_config_file(Path(path)).get("out_dir")
    except (ConfigError, OSError):
        return None
    return (folder, out_dir) if isinstance(out_dir, str) else None


def run_saved_config(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is a run's own ``config.yaml`` (:func:`run_config_folder`: beside that
    run's files, in the folder it records as ``out_dir`` or moved or copied with them, the rule
    ``--resume`` goes by too): every key at the value that run resolved, defaults too, so none
    of them was given for a new run that reads it (``warmup_steps: 0`` of a run started from
    scratch); a config.yaml of the user's own (beside no run's files, or recording no
    ``out_dir``), or one that does not read, is not."""
    return run_config_folder(path) is not None


def config_run(args: argparse.Namespace, notes: list[str] | None) -> Path | None:
    """``taco train RUN/config.yaml --resume`` (no PATH), where that file is a run's own config
    (:func:`run_config_folder`) which records another ``out_dir`` than its folder (the run was
    moved or copied since): the run to continue is the file's folder, not the recorded one
    (said in ``notes``); None where the config's ``out_dir`` is the run, as for any config.
    With an ``out_dir`` given (``-o``, ``--set out_dir``) other than that folder, which run is
    meant is not clear: a ConfigError naming both and the command for each."""
    from .config import ConfigError, apply_overrides

    if args.resume != "" or not args.config or args.lambda_sweep:
        return None
    found = run_config_folder(args.config)
    if found is None:
        return None
    folder, recorded = found
    out = (apply_overrides({}, args.overrides, _flag_values(args)).get("out_dir")
           if "out_dir" in _given_keys(args) else None)
    if out is not None:
        if same_folder(os.path.expanduser(str(out)), os.path.expanduser(folder)):
            return None  # the out_dir given is the config's folder: that run
        raise ConfigError(
            f"{args.config} is the config of the run in {folder}, and the out_dir given is {out}: "
            f"to continue the run in {folder} there, give --resume {shell_word(folder)} --out-dir "
            f"{shell_word(out)}; to continue the run in {out}, give --resume {shell_word(out)}"
        )
    if same_folder(os.path.expanduser(recorded), os.path.expanduser(folder)):
        return None
    if notes is not None:
        notes.append(f"{args.config} records out_dir {recorded} (the run was moved or copied "
                     f"since): resuming the run in its folder, {folder}")
    return folder


def run_config_values(run: Path) -> tuple[dict[str, Any], Path | None]:
    """What a run was started with, and the file that says it: its ``config.yaml``, else the
    config its training state saved; nothing (the defaults) and None for a folder that holds
    neither."""
    from ..shards import TRAIN_STATE_FILE as STATE_FILE  # no torch
    from .config import read_config_file
    from .run_log import CONFIG_FILE
    from .state import load_train_state_meta, state_exists

    if (run / CONFIG_FILE).is_file():
        return read_config_file(run / CONFIG_FILE), run / CONFIG_FILE
    if state_exists(run / STATE_FILE):
        return dict(load_train_state_meta(run / STATE_FILE).get("config") or {}), run / STATE_FILE
    return {}, None


def resolve_config(args: argparse.Namespace, notes: list[str] | None = None) -> TrainConfig:
    """Defaults <- config file <- --set items (YAML values) <- option flags (their values as
    given: ``-o 'my runs #1'`` is that folder), validated.

    ``--resume`` without a config file starts from the run's own config (its ``config.yaml``,
    :func:`run_config_values`) instead of the defaults; ``--resume PATH`` continues that run in
    its own folder (``out_dir`` is PATH unless --out-dir or --set out_dir says otherwise); the
    run ``--resume`` alone continues is out_dir's, ``~`` expanded as a new run's out_dir is.
    With ``init_from``, the model and λ nothing gives are the checkpoint's
    (:func:`~taco.train.config.warm_start_values`, as :func:`~taco.train.config.load_config`
    gives them); without a preset, a text-free model
    is trained with preset elic (:func:`~taco.train.config.preset_from_model`); ``notes`` gets
    what was taken or inferred so, and a line when an ``lmbda`` given for this run (``--set``,
    a config file) goes unused by a variable-rate model. A run's own config.yaml given as the
    config (:func:`run_saved_config`) gives no ``warmup_steps`` to ``--init-from``, whose warm
    start warms up over :data:`~taco.train.config.INIT_WARMUP_STEPS` unless this run's
    ``--set`` or config file says otherwise, nor an ``lmbda`` that note is about; ``CONFIG
    --resume`` of a warm-started run keeps that run's ``warmup_steps`` unless given. An error about a key that the config file (or the resumed
    run's) gave starts with that file's path (:func:`~taco.train.config.file_named`)."""
    from ..cli.files import refuse_stdin
    from .config import (
        ConfigError,
        apply_overrides,
        config_from_dict,
        file_named,
        read_config_file,
        run_qualities,
        settings_from_run,
        typed_value,
        warm_start_values,
    )

    refuse_stdin([args.config], "train")
    base = read_config_file(args.config) if args.config else {}
    source, file_values = (Path(args.config) if args.config else None), dict(base)
    given = _given_keys(args)
    run_file = args.resume is None and run_saved_config(args.config)  # gives every key, as resolved
    if run_file and getattr(args, "init_from", None):
        base.pop("warmup_steps", None)  # that run's (0 from scratch): not given (warm_start_warmup)
    lmbda_given = "lmbda" in given or ("lmbda" in base and args.config is not None and not run_file)
    run = resumed_run(args) or config_run(args, notes)
    if run is not None and not run.exists():
        from .state import TrainStateError

        raise TrainStateError(f"--resume: {args.resume} does not exist")
    if run is not None and "out_dir" not in given:
        base["out_dir"] = str(run)
    if args.resume is not None and not args.config:
        if run is None:  # --resume alone: the run in out_dir (--out-dir, --set or the default)
            run = out_folder(apply_overrides({}, args.overrides, _flag_values(args)).get("out_dir"))
        saved, source = run_config_values(run)
        file_values = saved
        if not saved and not args.overrides:  # every key would be a default
            from ..shards import CHECKPOINT_FILE, TRAIN_STATE_FILE as STATE_FILE, find  # no torch
            from .run_log import CONFIG_FILE

            if find(run / CHECKPOINT_FILE) is not None:  # a model without its run: --init-from
                from .checkpoints import no_state_to_resume
                from .state import TrainStateError

                raise TrainStateError(no_state_to_resume(run))
            raise ConfigError(
                f"--resume: nothing to resume in {run}: no {CONFIG_FILE}, no {STATE_FILE} (not a "
                "taco train run); to start a run there, give its config without --resume "
                f"(taco train CONFIG --out-dir {shell_word(run)})"
            )
        base = {**saved, **({"out_dir": str(run)} if "out_dir" not in given else {})}
    values = apply_overrides(base, args.overrides)
    preset = values.get("preset")
    if getattr(args, "freeze_base", False) and preset not in (None, "taco", "taco-frozen-base"):
        raise ConfigError(
            f"--freeze-base trains the text modules of a TACO model on a frozen codec; it "
            f"contradicts preset {preset!r} (from the config or --set)"
        )
    flags = _flag_values(args)
    warm_start = getattr(args, "init_from", None) or values.get("init_from")  # the flag, --set, a file
    values = apply_overrides(values, [], flags)
    if warm_start and "warmup_steps" not in values:  # no flag sets it
        values["warmup_steps"] = warm_start_warmup(args, values, run)
    resumed = None  # the config a resumed run's state saved: what its warm start gave
    if args.resume is not None and values.get("init_from"):
        resumed = check_resumed_init(args, values, run, notes)
    try:
        if values.get("init_from"):
            if resumed is None:  # typed, looked up (a typo refused before torch loads), settings
                values, taken = warm_start_values(values, lmbda=not args.lambda_sweep)
            else:  # the state holds every weight: init_from is not needed, nor looked up
                # init_from: 2024 is the folder "2024"; true or [a] is refused
                values = typed_value(values, "init_from")
                values, taken = settings_from_run(values, resumed, lmbda=not args.lambda_sweep)
            if notes is not None:
                notes.extend(taken)
        cfg = config_from_dict(values, notes)
    except ConfigError as e:
        if source is None:
            raise
        cli = [*args.overrides, *flags, *(["out_dir"] if run is not None else [])]
        raise file_named(e, source, file_values, cli) from None
    if lmbda_given and notes is not None:
        qualities = run_qualities(cfg.to_dict())
        if isinstance(qualities, list | tuple):
            lambdas = ", ".join(f"{v:g}" for v in qualities)
            notes.append(f"lmbda {cfg.lmbda:g} is unused: a variable-rate run trains each step "
                         f"with the λ of the quality drawn for it ({lambdas})")
        elif args.lambda_sweep:
            from ..recipe import LAMBDAS

            lambdas = ", ".join(f"{v:g}" for v in LAMBDAS)
            notes.append(f"lmbda {cfg.lmbda:g} is unused: --lambda-sweep trains one run per λ "
                         f"of the paper's six ({lambdas})")
    return cfg


def out_folder(out_dir: Any) -> Path:
    """The folder of the run a config's ``out_dir`` (None: not given) names, ``~`` expanded as
    :func:`~taco.train.config.home_paths` does: the default's where None. An ``out_dir`` that
    is not a path (null given, ``''``) is refused when the config is validated; ``''`` is the
    current folder until then."""
    from .config import TrainConfig

    return Path(os.path.expanduser(str(out_dir if out_dir is not None else TrainConfig.out_dir)))


def warm_start_warmup(args: argparse.Namespace, values: dict[str, Any], run: Path | None) -> Any:
    """The ``warmup_steps`` of a warm start (``init_from``: ``--init-from``, ``--set``, a config
    file) that neither ``--set`` nor the config file gives (a run's own config.yaml gives none
    to ``--init-from``: :func:`resolve_config`): :data:`~taco.train.config.INIT_WARMUP_STEPS`,
    Adam starting afresh; with ``--resume``, the resumed run's own (``run``, else the one in
    ``values``' ``out_dir``), whatever it is, so that its lr schedule goes on as it started, and
    the warm-up where that run has no config or one that does not read (said where the trainer
    reads it)."""
    from .config import INIT_WARMUP_STEPS, ConfigError

    if args.resume is None:
        return INIT_WARMUP_STEPS
    folder = run if run is not None else out_folder(values.get("out_dir"))
    try:
        return run_config_values(folder)[0].get("warmup_steps", INIT_WARMUP_STEPS)
    except (ConfigError, OSError, ValueError):
        return INIT_WARMUP_STEPS


def check_resumed_init(args: argparse.Namespace, values: dict[str, Any], run: Path | None,
                       notes: list[str] | None = None) -> dict[str, Any] | None:
    """``--resume`` with an ``init_from`` (``--init-from``, ``--set``, the config file or the
    run's own config.yaml): where the run has a state to go on from, refused before torch when
    it names other weights than the run started from
    (:func:`taco.train.config.check_resumed_init_from`); the same weights by another name (a
    copy of the checkpoint, the file of a built-in that taco no longer ships) are replaced in
    ``values`` by the run's saved ``init_from``, with a line in ``notes``. Returns the config
    the run's state saved (the model and λ its warm start gave: its ``init_from`` is then
    neither looked up nor loaded, the state holding every weight); None for a run stopped
    before its first state, which starts again from step 0, from those weights."""
    from ..shards import TRAIN_STATE_FILE as STATE_FILE
    from .config import check_resumed_init_from
    from .state import load_train_state_meta, state_exists

    if run is None:  # --resume alone with a config file: the run in its out_dir
        run = out_folder(values.get("out_dir"))
    if not state_exists(run / STATE_FILE):
        return None
    meta = load_train_state_meta(run / STATE_FILE)
    saved = dict(meta.get("config") or {})
    given = "--init-from" if getattr(args, "init_from", None) else "init_from"
    if check_resumed_init_from(values["init_from"], saved, run, given, meta.get("init_from")):
        if notes is not None:
            notes.append(f"{given} {values['init_from']} holds the weights {run} was started from "
                         f"({saved['init_from']}); the run goes on from its training state")
        values["init_from"] = saved["init_from"]
    return saved


def check_embed_output(args: argparse.Namespace) -> None:
    """``--embed-captions FILE``: refuse an existing FILE (a checkpoint, a config..., or a
    symbolic link to a missing file, which the write would go through) unless ``--force``,
    before the config is read and the captions encoded; ``--force`` alone."""
    from ..cli.common import CLIError
    from ..messages import shown_path

    path = getattr(args, "embed_captions", None)
    if path is None:
        if getattr(args, "force", False):
            raise CLIError("--force goes with --embed-captions FILE (it overwrites FILE); a run "
                           "never overwrites another: give another -o DIR, or --resume")
        return
    if Path(path).is_dir():
        raise CLIError(f"--embed-captions {shown_path(path)} is a folder; give a file name")
    if os.path.lexists(path) and not getattr(args, "force", False):  # a link to a missing file too
        raise CLIError(f"{shown_path(path)} exists; pass --force to overwrite it")


def recorded_folder_hint(args: argparse.Namespace, cfg: TrainConfig, error: str) -> str:
    """For a resumed run's ``data.root`` (``val.root``) that is not there (``error``, from
    :func:`~taco.train.config.check_data_folders`) and that the run's own config gave (nothing
    on the command line did): `` (the run's data.root, recorded in RUN/config.yaml; photos
    moved? add --set data.root=DIR)``; else nothing (a config of the user's own names it)."""
    from ..messages import shown_path

    key = "val.root" if error.startswith("val.root:") else "data.root"
    given = {item.partition("=")[0].strip() for item in args.overrides}
    if args.resume is None or given & {key, key.split(".")[0]}:
        return ""
    if args.config:
        source: Path | None = Path(args.config) if run_config_folder(args.config) else None
    else:
        try:
            source = run_config_values(resumed_run(args) or Path(cfg.out_dir))[1]
        except (OSError, ValueError):
            return ""
    if source is None:
        return ""
    return (f" (the run's {key}, recorded in {shown_path(source)}; photos moved? add --set "
            f"{key}=DIR)")


def run(args: argparse.Namespace) -> int:
    """The ``taco train`` subcommand: resolve the config and train. Its errors (ConfigError & co.:
    TacoErrors) reach :func:`taco.cli.main`, which says each in one line (exit status 2)."""
    from ..cli.files import check_folder, refuse_stdout, report_to
    from ..shards import TRAIN_STATE_FILE
    from .config import check_data_folders, check_lambda_sweep, dump_config
    from .run_log import check_run_files, run_finished, saved_progress

    refuse_stdout(args.out_dir, "train", "a run folder", "runs/my-run")
    check_embed_output(args)
    notes: list[str] = []
    cfg = resolve_config(args, notes)
    if args.lambda_sweep:
        check_lambda_sweep(cfg)
    if args.print_config:
        report_to()(dump_config(cfg).removesuffix("\n"))  # a full stdout named as <stdout>
        return 0
    if args.embed_captions:
        from .caption_embeddings import embed_captions

        table = embed_captions(cfg, args.embed_captions, say=lambda line: to_stderr(f"taco train: {line}"))
        to_stderr(f"{len(table)} captions ({table.encoder['name']}, {tuple(table.tokens.shape[1:])} "
                  f"tokens each) -> {args.embed_captions}")
        return 0
    # a file on the way to out_dir, a folder that takes no files: said as taco compress says
    # it, before torch loads (the run's lock would say it only after)
    check_folder(Path(cfg.out_dir), create=True)
    if not args.lambda_sweep:  # each λ's folder is checked where its run starts (RunLog)
        # a log it cannot append to: said before torch; a finished run resumed appends nothing
        finished = args.resume is not None and run_finished(
            saved_progress(Path(cfg.out_dir) / TRAIN_STATE_FILE), cfg.epochs, cfg.max_steps)
        check_run_files(Path(cfg.out_dir), appends=not finished)
    try:
        check_data_folders(cfg)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"{e}{recorded_folder_hint(args, cfg, str(e))}") from None
    from .trainer import (
        NonFiniteLossError,
        NoStepInTimeLimit,
        OutputWriteError,
        lambda_sweep,
        train,
    )

    resume = None if args.resume is None else (resumed_run(args) or cfg.out_dir)
    try:
        if args.lambda_sweep:
            lambda_sweep(cfg, resume=args.resume is not None, notes=notes, resume_with="--resume",
                         go_on="the same taco train --lambda-sweep command with --resume")
        else:  # how to go on, in the command line's words (the library's are Python's)
            train(cfg, resume=resume, notes=notes, resume_with="--resume",
                  go_on=f"taco train --resume {shell_word(cfg.out_dir)}")
    except (NonFiniteLossError, NoStepInTimeLimit, OutputWriteError) as e:
        from ..distributed import dist_env_from_environ

        # no step fitted: every rank of a torchrun job decided it together; rank 0 alone says it
        if not isinstance(e, NoStepInTimeLimit) or dist_env_from_environ().is_main:
            to_stderr(f"taco train: stopped: {e}")
        return 3
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``taco train`` to the ``taco`` command line (see taco.cli.COMMAND_MODULES)."""
    p = subparsers.add_parser("train", help=COMMAND_HELP["train"],
                              description=textwrap.fill(DESCRIPTION, 79), epilog=EPILOG,
                              formatter_class=RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)
