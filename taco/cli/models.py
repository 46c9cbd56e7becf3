"""``taco models``: the trained models that ship with taco and the architectures it builds."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..messages import count, one_line, shown_path, to_stderr
from .common import COMMAND_HELP, CLIError, path_arg
from .files import report_to


def register(sub: Any) -> None:
    """Add ``taco models`` to the ``taco`` command line (see :data:`taco.cli.COMMAND_MODULES`)."""
    ls = sub.add_parser("models", help=COMMAND_HELP["models"],
                        description="List the trained models that ship with taco and the "
                        "architectures it can build (parameters, rate, file size), or show "
                        "the named ones, or checkpoint files, in full (a checkpoint's training "
                        "record too). Nothing is loaded but the checkpoints' headers.")
    ls.add_argument("names", nargs="*", metavar="NAME", type=path_arg,
                    help="show these models in full: names, or checkpoint files (.safetensors)")
    ls.add_argument("--json", action="store_true", help="one JSON object per model, each with the same "
                    "keys (null where one does not apply: a built-in's sha256, a checkpoint's training)")
    ls.set_defaults(func=cmd_models)


#: The keys of every ``taco models --json`` line, in this order: those
#: :func:`taco.models.describe_model` gives only some models (a file's, a built-in's sha256, a
#: checkpoint's training record) are null on the others' lines, so that each line has them all.
JSON_KEYS = ("name", "default", "trained", "architecture", "text_encoder", "parameters", "qualities",
             "lmbda", "config", "file", "file_bytes", "sha256", "trained_on", "description",
             "model_id", "training", "shadowed_checkpoint")

_TEXT_NAMES = {"clip": "CLIP", "clip-tiny": "tiny CLIP", "minilm": "MiniLM"}
#: Each architecture's entropy-model layouts (docs/official.md): the authors' code has a TACO
#: and an ELIC (after JiangWeibeta/ELIC), and ``taco import-checkpoint`` imports either's
#: checkpoints into the reference layout. A backbone added since has its own latent codec, and
#: ``layout`` (ELIC's field) means nothing to it.
_LAYOUT_NAMES = {
    ("taco", "reference"): "the authors' layout (effl-lab/TACO; their TACO checkpoints import)",
    ("elic", "reference"): "the authors' layout (effl-lab/TACO's ELIC, after JiangWeibeta/ELIC; "
                           "their ELIC checkpoints import)",
    ("taco", "compressai"): "CompressAI's ELIC layout (the first built-ins keep it)",
    ("elic", "compressai"): "CompressAI's ELIC layout (the first built-ins keep it)",
}


def entropy_model_name(architecture: str, layout: str) -> str:
    """What ``taco models NAME`` calls the entropy model of ``architecture`` in ``layout``: where
    the layout comes from for taco's TACO and ELIC, else the backbone's own latent codec."""
    return _LAYOUT_NAMES.get((architecture, layout), f"{architecture}'s own latent codec")


def _text_folder(info: dict[str, Any]) -> str | None:
    """The folder a model's config records for its text encoder (its ``path``: a model trained
    with ``text_encoder: {name: minilm, path: DIR}``, any BERT, or with a CLIP folder), else None."""
    spec = info["config"].get("text_encoder")
    path = spec.get("path") if isinstance(spec, dict) else None
    return str(path) if path else None


def _text_encoder_line(info: dict[str, Any]) -> str | None:
    """``taco models NAME``'s line on a text encoder read from a folder the config records: the
    folder (or the Hugging Face Hub id a CLIP's path names), and what reads it (None for the
    packaged MiniLM, a CLIP without a folder, no text)."""
    folder = _text_folder(info)
    if folder is None:
        return None
    if info["text_encoder"] == "clip":
        from ..text.hf import is_hub_id

        what = ("a Hugging Face Hub id (downloaded from huggingface.co on first use unless cached)"
                if is_hub_id(folder) else "a CLIP folder")
        return f"{folder} ({what}; TACO_CLIP_PATH, taco compress --clip-path DIR, is used over it)"
    return (f"{folder} (a BERT folder read as {info['text_encoder']}; unpinned: the model's fingerprint "
            "covers its path, not its weights)")


def _model_kind(info: dict[str, Any]) -> str:
    """``TACO + MiniLM``, ``TACO (TGIC) + CLIP``, ``ELIC``, ``film-hp + tiny CLIP``: one
    model's kind, for a table and the model in full; a backbone added since (docs/models.md)
    by its architecture's name, with the text encoder it reads. A ``minilm`` read from a folder
    the config records (any BERT: ``text_encoder: {name: minilm, path: DIR}``) is ``BERT
    folder``, not the packaged MiniLM (``taco models NAME`` names the folder)."""
    encoder = info["text_encoder"]
    shown = "BERT folder" if encoder == "minilm" and _text_folder(info) else _TEXT_NAMES.get(encoder, encoder)
    text = f" + {shown}" if encoder else ""
    if info["architecture"] == "elic":
        return "ELIC"
    if info["architecture"] != "taco":
        return f"{info['architecture']}{text}"
    tgic = " (TGIC)" if info["config"].get("text_injection") == "tgic" else ""
    return f"TACO{tgic}{text}"


def _width(config: dict[str, Any]) -> str:
    """``N=192, M=320, groups 16/16/32/64/192``: the widths of a model, ELIC's y channel groups
    for taco's own architectures only (a registered backbone's config carries them at ELIC's
    defaults, unread: docs/models.md, "Adding a backbone")."""
    from ..models.config import BUILTIN_ARCHITECTURES

    width = f"N={config['N']}, M={config['M']}"
    if config["architecture"] in BUILTIN_ARCHITECTURES:
        width += f", groups {'/'.join(map(str, config['groups']))}"
    return width


def _model_rate(info: dict[str, Any]) -> str:
    if info["qualities"]:
        return f"{len(info['qualities'])} qualities"
    return f"λ {info['lmbda']:g}" if info["lmbda"] is not None else "single rate"


def _training_line(t: dict[str, Any]) -> str:
    """What a checkpoint's training wrote into it, in one line."""
    total, own = t.get("trained_steps_total"), t.get("trained_steps")
    warm = isinstance(total, int) and isinstance(own, int) and total > own  # after --init-from
    parts = [count(total, "step") if isinstance(total, int) else None,
             f"this run {own:,} of them" if warm else None,
             f"{t['epochs']:.1f} epochs" + (" (this run)" if warm else "")
             if isinstance(t.get("epochs"), (int, float)) else None,
             f"{t['wall_time_s']:.0f} s" if isinstance(t.get("wall_time_s"), (int, float)) else None,
             f"on {t['device']} x {t.get('world_size', 1)}" if "device" in t else None,
             f"batch {t['global_batch']}" if "global_batch" in t else None]
    data = t.get("train_data")
    if isinstance(data, dict) and data.get("root"):
        images = data.get("images")
        parts.append(f"data {data['root']}" + (f" ({count(images, 'image')})" if isinstance(images, int) else ""))
    return ", ".join(p for p in parts if p)


def cmd_models(args: argparse.Namespace) -> int:
    import textwrap

    from ..models import describe_model, list_models
    from ..models.config import PluginError
    from ..models.registry import shadow_note
    from ..resolve import DEFAULT_MODEL

    names = args.names or list_models()
    infos = []
    try:
        for name in names:
            try:
                infos.append(describe_model(name))
            except PluginError as exc:
                if args.names:
                    raise
                # the whole list: a registered config its builder refuses is one line, not the end
                to_stderr(f"taco models: {name}: left out: {one_line(str(exc), 400)}")
    except KeyError as exc:  # a path: no such file, and the close ones; a name: the models
        from ..models.registry import unknown_model_message

        raise CLIError(unknown_model_message(str(exc.args[0]))) from None
    say = report_to()  # a line that cannot be printed (>/dev/full) names <stdout>, as taco info's
    if args.json:
        for info in infos:
            say(json.dumps({**dict.fromkeys(JSON_KEYS), **info, "default": info["name"] == DEFAULT_MODEL}))
        return 0
    if args.names:  # each one in full
        for i, info in enumerate(infos):
            training = info.get("training")
            lines = {"name": info["name"] + (" (the default)" if info["name"] == DEFAULT_MODEL else ""),
                     "model id": info.get("model_id"),
                     "trained": ("yes (a checkpoint file)" if training is not None else
                                 "yes (ships with taco)" if info["trained"] else
                                 "no: random seed-0 weights until trained (taco train --set model=NAME)"),
                     "training": _training_line(training) if training else None,
                     "model": _model_kind(info), "text encoder": _text_encoder_line(info),
                     "rate": _model_rate(info),
                     "qualities (λ)": ", ".join(f"{q}: {lmbda:g}" for q, lmbda in
                                                enumerate(info["qualities"] or [], 1)) or None,
                     "parameters": f"{info['parameters']:,}",
                     "width": _width(info["config"]),
                     # shown where not the default, elic-2023 (every taco model's; docs/official.md)
                     "param widths": (None if info["config"].get("param_widths", "elic-2023") == "elic-2023"
                                      else info["config"]["param_widths"]),
                     "options": ", ".join(f"{k}={v!r}" for k, v in info["config"].get("options", {}).items()) or None,
                     "entropy model": entropy_model_name(info["architecture"], info["config"].get("layout")),
                     "file": info.get("file"),
                     "file size": f"{info['file_bytes'] / 1e6:.1f} MB" if info.get("file_bytes") else None,
                     "sha256": info.get("sha256"), "trained on": info.get("trained_on"),
                     "note": (shadow_note(info["name"], info["shadowed_checkpoint"])
                              if info.get("shadowed_checkpoint") else None)}
            # one printable line per value: a checkpoint's record is text from a file; its name and
            # file as every message names a file (one_line's space for a line break: another name)
            say(("\n" if i else "") + "\n".join(
                f"{k:>14}: {shown_path(v) if k in ('name', 'file') else one_line(str(v), 400)}"
                for k, v in lines.items() if v))
            if info.get("description"):
                say(textwrap.fill(one_line(info["description"], 2000), 96, initial_indent=" " * 16,
                                  subsequent_indent=" " * 16))
        return 0
    width = max(len(i["name"]) for i in infos) + 2
    kind_width = max(len(_model_kind(i)) for i in infos)
    for trained, title in ((True, "Trained models (ship with taco: --model NAME):"),
                           (False, "Architectures (random seed-0 weights until trained: "
                                   "taco train --set model=NAME):")):
        group = [i for i in infos if i["trained"] == trained]
        if not group:
            continue
        say(title)
        for info in group:
            mark = "*" if info["name"] == DEFAULT_MODEL else " "
            size = f"  {info['file_bytes'] / 1e6:5.1f} MB" if info.get("file_bytes") else ""
            say(f"  {info['name']:<{width}}{mark} {_model_kind(info):<{kind_width}}  {_model_rate(info):<12} "
                f"{info['parameters'] / 1e6:6.2f} M parameters{size}")
    say("* the default. taco models NAME: one model in full.")
    return 0
