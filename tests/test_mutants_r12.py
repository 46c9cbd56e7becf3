"""Mutation round 12 (session 38's new code): what the s38 tests left open in save_checkpoint's
rebuild on copies, check_has_data, the g_s and coded-shape checks and locale_hint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import taco
from taco.codec import check_synthesis_shape, coded_shape_form
from taco.errors import BackboneError
from taco.models import ELIC, create_model, save_checkpoint
from taco.models.checkpoint import check_has_data

GAUSSIAN_TABLES = ("_offset", "_quantized_cdf", "_cdf_length", "scale_table")


def never_built(model: ELIC) -> ELIC:
    """``model`` with its Gaussian conditional's tables empty, as a fresh CompressAI module has
    them before its first update."""
    gc = model.latent_codec.gaussian_conditional
    for name in GAUSSIAN_TABLES:
        setattr(gc, name, getattr(gc, name).new_empty(0))
    return model


@pytest.mark.parametrize("compact", [False, True, "auto"])
def test_tables_never_built_are_no_stale_tables(tmp_path: Path, compact: bool | str) -> None:
    """Empty tables were never built: no file was coded with them, so no warning; the file
    holds (or, compact, digests and rebuilds) the tables built from the weights, and loads."""
    model = never_built(create_model("elic-tiny", seed=0))
    path = tmp_path / "m.safetensors"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TacoWarning about out-of-date tables fails
        save_checkpoint(model, path, compact_tables=compact)
    loaded = taco.load(str(path))
    assert loaded.latent_codec.gaussian_conditional.scale_table.numel() == 64
    # the caller's model is left as it was
    assert all(getattr(model.latent_codec.gaussian_conditional, n).numel() == 0 for n in GAUSSIAN_TABLES)


def test_an_update_set_on_the_instance_does_not_touch_the_callers_tables(tmp_path: Path) -> None:
    """The rebuild runs the class's update on the copy: an update set on the instance (a spy or
    wrapper naming the model) would rebuild the caller's own tables."""
    model = create_model("elic-tiny", seed=0)
    with torch.no_grad():
        model.latent_codec.entropy_bottleneck.quantiles.add_(0.5)  # weights changed: tables out of date
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.update = lambda *a, **k: ELIC.update(model, *a, **k)  # names the model, not the copy
    with pytest.warns(taco.TacoWarning, match="out of date"):
        save_checkpoint(model, tmp_path / "m.safetensors")
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_weights_partly_on_the_meta_device_are_refused(tmp_path: Path) -> None:
    """A submodule moved to the meta device (parameters, no buffers of its own) has no data
    either: refused, before any work."""
    model = create_model("elic-tiny", seed=0)
    model.g_s.to("meta")
    assert not any(b.is_meta for b in model.buffers())
    with pytest.raises(TypeError, match="meta device"):
        check_has_data(model)
    with pytest.raises(TypeError, match="save_checkpoint: the model's weights are on the meta device"):
        save_checkpoint(model, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


class Wide:
    """What check_synthesis_shape reads of a model: its class name and latent_scale."""

    latent_scale = 16


def test_the_up_sampling_factor_is_said_of_a_wide_tile() -> None:
    """rows 0..2 x cols 0..4 (2 x 4 latents) synthesised at 32 per latent: 'by 32', read from
    each side's own size."""
    x = torch.zeros(1, 3, 64, 128)
    with pytest.raises(BackboneError, match=r"synthesises 4x2 latent positions into shape "
                       r"\(1, 3, 64, 128\) \(it up-samples by 32\)"):
        check_synthesis_shape(Wide(), x, 1, slice(0, 2), slice(0, 4))
    check_synthesis_shape(Wide(), torch.zeros(1, 3, 32, 64), 1, slice(0, 2), slice(0, 4))  # right: no error


@pytest.mark.parametrize("bad", [torch.tensor(8.0), torch.tensor(8.5), 8.0, True])
def test_a_coded_shape_of_floats_or_bools_is_not_the_form(bad: object) -> None:
    """A shape is integers (0-d integer tensors included): a float tensor (8.5 would be read as
    8) or a bool is not one."""
    good = {"y": [(8, 4, 4), (torch.tensor(8), 4, 4)], "hyper": (2, 2)}
    assert coded_shape_form(good)
    assert not coded_shape_form({"y": [(bad, 4, 4)], "hyper": (2, 2)})
    assert not coded_shape_form({"y": [(8, 4, 4)], "hyper": (bad, 2)})


def test_locale_hint_only_for_bytes_that_are_utf8() -> None:
    """Under LC_ALL=C (ascii, no UTF-8 mode) a name holding UTF-8 bytes gets the hint; one
    holding bytes that are not UTF-8 under any locale gets none (setting UTF-8 would not help)."""
    code = ("import os; from taco.messages import locale_hint; "
            "print(repr(locale_hint(os.fsdecode(b'caf\\xc3\\xa9'))), repr(locale_hint(os.fsdecode(b'\\xffx'))))")
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    utf8, other = done.stdout.strip().rsplit(" ", 1)
    assert "the locale's encoding is ascii" in utf8 and "PYTHONUTF8=1" in utf8, utf8
    assert other == "''", done.stdout


def test_a_built_in_that_cannot_load_keeps_the_leave_it_out_advice(sample_image, monkeypatch) -> None:  # noqa: ANN001
    """Where the built-in's own weights cannot be loaded to compare (not installed, changed),
    nothing says other weights made the file: the advice stays 'leave the model out'. The
    built-in's fingerprint is loaded once per process, not once per refusal."""
    import taco.models
    from taco import resolve
    from taco.models import CheckpointError, load_builtin

    model = load_builtin("elic-small-q3")
    data = taco.compress(sample_image.crop((0, 0, 64, 48)), None, model)
    other = load_builtin("elic-small-q4")
    monkeypatch.setattr(resolve, "BUILTIN_FINGERPRINTS", {})
    calls = []

    def unloadable(name: str) -> ELIC:
        calls.append(name)
        raise CheckpointError(f"{name}: not installed (test)")

    monkeypatch.setattr(taco.models, "load_builtin", unloadable)
    with pytest.raises(taco.TacoFormatError, match="leave the model out") as e:
        taco.decompress(data, other)
    assert "other weights of" not in str(e.value)
    # loadable: loaded once for two refusals
    monkeypatch.setattr(taco.models, "load_builtin", lambda name: calls.append(name) or load_builtin(name))
    calls.clear()
    for _ in range(2):
        with pytest.raises(taco.TacoFormatError, match="leave the model out"):
            taco.decompress(data, other)
    assert calls == ["elic-small-q3"]


def test_a_utf8_dataset_folder_under_an_ascii_locale_says_which_setting_reads_it(tmp_path: Path) -> None:
    """taco evaluate of a folder named été under LC_ALL=C: refused up front (the results files
    are UTF-8), with the setting that reads the name as UTF-8."""
    (tmp_path / "été").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run([sys.executable, "-m", "taco", "evaluate", "été", "-m", "elic-tiny", "--fid", "off",
                           "--cmmd-clip", "off", "-o", "out"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "the folder's path holds a lone surrogate" in done.stderr, done.stderr
    assert "the locale's encoding is ascii" in done.stderr and "PYTHONUTF8=1" in done.stderr


def test_a_utf16_json_file_and_captions_file_are_said_to_be_utf16(tmp_path: Path) -> None:
    """PowerShell 5's > writes UTF-16 LE with a byte-order mark: said so, not 'not UTF-8 text'
    (byte 0xff at ...)."""
    from taco.captions_file import CaptionsFileError, read_captions_file
    from taco.jsonfiles import UTF16_TEXT, read_json

    for encoding in ("utf-16", "utf-16-be"):
        text = '{"image": "a.png", "captions": ["a cat"]}\n'
        data = ("\ufeff" + text).encode(encoding)
        assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
        (tmp_path / "r.json").write_bytes(data)
        with pytest.raises(ValueError, match=re.escape(UTF16_TEXT)):
            read_json(tmp_path / "r.json", 10_000)
        (tmp_path / "captions.jsonl").write_bytes(data)
        with pytest.raises(CaptionsFileError, match=re.escape(UTF16_TEXT)):
            read_captions_file(tmp_path / "captions.jsonl")
