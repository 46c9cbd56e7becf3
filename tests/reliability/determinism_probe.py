"""Encode and decode under one CPU configuration, for the cross-configuration tests.

    python tests/reliability/determinism_probe.py --threads 2 --mkldnn 1 --channels-last 0 \
        --out DIR [--decode-from DIR] [--float32-path] [--device cuda]

For each case (model x image) it writes ``DIR/CASE.taco`` (the bytes this configuration
encodes), decodes it (``DIR/CASE.self.yhat.npy``: the entropy-decoded latents, ``.pixels.npy``:
the uint8 pixels), decodes the same case from ``--decode-from`` if given (``DIR/CASE.yhat.npy``,
``DIR/CASE.pixels.npy``), and prints one JSON line with the timings.

    python tests/reliability/determinism_probe.py --benchmark elic --size 768x512 --threads 1

times the float64 coding path against the float32 one (and g_a, g_s) in one process. ``--float32-path`` codes with the model's own float32 latent codec
(CompressAI's path, what taco did before ``taco.codec.coding_codec``) to show what goes wrong.
Run as a separate process per configuration: thread count and oneDNN are process-wide.

Cases: ``elic-tiny`` and ``taco-tiny`` (seed 0) as built, and ``elic-tiny-spread`` /
``elic-small-spread``: the same architectures with the scale outputs of the parameter networks
scaled up so that the scales spread over the whole scale table, as a trained model's do (a
random model's scales all sit below the table's first entry, where no index can flip).
``elic-tiny-chunked``: elic-tiny-spread on the photo at 1024x768 (two rANS chunks, format 3)
with small memory limits (:data:`LIMITS`), so that its float64 convolutions run in bands and its
synthesis in tiles, as a big photo's do. A built-in trained model's name or a checkpoint file
codes the photo resized to 768x512 (``--cases`` takes the case names above, the built-in
names (``taco.models.PRETRAINED``) and existing ``.safetensors`` / ``.index.json`` (sharded)
checkpoint files; a case's files are named by its file name's stem). Pixels come from taco's own
synthesis (``taco.codec.synthesize``, tiled when the image is big).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import warnings
from pathlib import Path

from taco.samples import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "skimage-chelsea.png"
CAPTION = "Close up of a tabby cat with green eyes looking to the side."
CASES = {  # name: (architecture, spread scales, image size or None for the full photo)
    "elic-tiny": ("elic-tiny", False, None),
    "taco-tiny": ("taco-tiny", False, None),
    "elic-tiny-spread": ("elic-tiny", True, None),
    "elic-small-spread": ("elic-small", True, (448, 320)),
    "elic-tiny-chunked": ("elic-tiny", True, (1024, 768)),
}
#: Memory limits lowered for a case (encoder and decoder alike):
#: models.conv_bands.CONV_BAND_BYTES and codec.SYNTHESIS_TILE_BUDGET (tiles of 16 latents).
LIMITS = {"elic-tiny-chunked": {"CONV_BAND_BYTES": 1 << 18,
                                "SYNTHESIS_TILE_BUDGET": 16 * (16 * (16 + 18)) ** 2}}


@contextlib.contextmanager
def limits(name: str):  # noqa: ANN201
    """The case's lowered memory limits inside, the defaults outside."""
    from taco import codec
    from taco.models import conv_bands

    values = LIMITS.get(name, {})
    modules = {"CONV_BAND_BYTES": conv_bands, "SYNTHESIS_TILE_BUDGET": codec}
    saved = {k: getattr(modules[k], k) for k in values}
    for k, v in values.items():
        setattr(modules[k], k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(modules[k], k, v)


def torch_no_grad(fn):  # noqa: ANN001, ANN201
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        import torch

        with torch.no_grad():
            return fn(*args, **kwargs)
    return wrapper


def spread_scales(model) -> None:  # noqa: ANN001
    """Scale outputs x300 + 4 in every parameter network: scales spread over 0.11 .. 20."""
    import torch

    codec = model.latent_codec
    if model.layout == "reference":
        networks = [*codec.anchor_parameters, *codec.nonanchor_parameters]
    else:
        networks = [cb.entropy_parameters for cb in codec.latent_codec["y"].latent_codec.values()]
    with torch.no_grad():
        for net in networks:
            last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
            c = last.out_channels // 2  # chunks ("scales", "means")
            last.weight[:c] *= 300.0
            last.bias[:c] = last.bias[:c] * 300.0 + 4.0
    model.update(force=True)


#: The file suffixes of a checkpoint --cases takes (a single file, a sharded one's index).
CHECKPOINT_SUFFIXES = (".safetensors", ".index.json")


def is_trained(name: str) -> bool:
    """A built-in trained model's name or a checkpoint file's path (coded at 768x512)."""
    from taco.models.registry import PRETRAINED  # no torch: --cases is checked before it loads

    return name in PRETRAINED or name.endswith(CHECKPOINT_SUFFIXES)


def unknown_cases(names: list[str]) -> list[str]:
    """The names that are no case, no built-in trained model and no existing checkpoint file."""
    from taco.models.registry import PRETRAINED

    return [n for n in names if n not in CASES and n not in PRETRAINED
            and not (n.endswith(CHECKPOINT_SUFFIXES) and Path(n).is_file())]


def build(name: str):  # noqa: ANN201
    from taco.models import create_model, load

    if is_trained(name):  # trained: the photo at 768x512
        CASES[name] = ("", False, (768, 512))
        return load(name)
    arch, spread, _ = CASES[name]
    model = create_model(arch, seed=0)
    if spread:
        spread_scales(model)
    return model


@torch_no_grad
def decode(model, data: bytes, size: tuple[int, int], float32_path: bool, device: str):  # noqa: ANN001, ANN201
    """-> (y_hat, x_hat cropped to ``size``): through taco's coder and synthesis, or the model's
    float32 coder."""
    import torch

    from taco.bitstream import unpack
    from taco.codec import coding_codec, synthesize
    from taco.models import PAD_MULTIPLE

    w, h = size
    ph, pw = -(-h // PAD_MULTIPLE) * PAD_MULTIPLE, -(-w // PAD_MULTIPLE) * PAD_MULTIPLE
    if float32_path:  # our own length-prefixed strings, decoded by CompressAI's float32 codec
        strings, pos = [], 0
        while pos < len(data):
            n = int.from_bytes(data[pos : pos + 4], "big")
            strings.append([data[pos + 4 : pos + 4 + n]])
            pos += 4 + n
        y_hat = model.latent_codec.decompress(strings, model.latent_shapes(ph, pw))["y_hat"]
    else:  # taco's path: the chunked stream, decoded with the float64 codec, tiled synthesis
        from taco.models import fast_codec

        y_hat = fast_codec.decompress_latent(coding_codec(model), [[unpack(data).payload]],
                                             model.latent_shapes(ph, pw))["y_hat"]
        x_hat = torch.empty(1, 3, h, w)
        synthesize(model, y_hat, h, w, x_hat)
        return y_hat, x_hat
    return y_hat, model.g_s(y_hat.to(device)).clamp_(0, 1)[..., :h, :w]


def benchmark(name: str, size: str, repeats: int) -> None:
    """Median seconds of g_a, g_s, and the float32 / float64 latent coding, interleaved."""
    import statistics

    import torch
    from PIL import Image

    from taco.codec import coding_codec, pad_to_multiple
    from taco.images import image_to_tensor
    from taco.models import create_model

    model = create_model(name, seed=0)
    if model.uses_text:
        raise SystemExit("benchmark an ELIC architecture: the coding path is the same")
    w, h = map(int, size.split("x"))
    x = pad_to_multiple(image_to_tensor(Image.open(SAMPLE).convert("RGB").resize((w, h))))
    t0 = time.perf_counter()
    f64 = coding_codec(model)
    build_s = time.perf_counter() - t0
    times: dict[str, list[float]] = {}

    @contextlib.contextmanager
    def timed(key: str):  # noqa: ANN202
        t = time.perf_counter()
        yield
        times.setdefault(key, []).append(time.perf_counter() - t)

    with torch.no_grad():
        for _ in range(repeats):
            with timed("g_a"):
                y = model.g_a(x)
            with timed("encode_latent_f32"):
                e32 = model.latent_codec.compress(y)
            with timed("encode_latent_f64"):
                e64 = f64.compress(y)
            with timed("decode_latent_f32"):
                model.latent_codec.decompress(e32["strings"], e32["shape"])
            with timed("decode_latent_f64"):
                y_hat = f64.decompress(e64["strings"], e64["shape"])["y_hat"]
            with timed("g_s"):
                model.g_s(y_hat)
    med = {k: round(statistics.median(v), 3) for k, v in times.items()}
    dec32 = med["decode_latent_f32"] + med["g_s"]
    dec64 = med["decode_latent_f64"] + med["g_s"]
    enc32 = med["g_a"] + med["encode_latent_f32"]
    enc64 = med["g_a"] + med["encode_latent_f64"]
    print(json.dumps({"model": name, "size": size, "threads": torch.get_num_threads(),
                      "repeats": repeats, "median_s": med, "coding_codec_build_s": round(build_s, 3),
                      "encode_f64_over_f32": round(enc64 / enc32, 3),
                      "decode_f64_over_f32": round(dec64 / dec32, 3)}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--mkldnn", type=int, default=1)
    p.add_argument("--channels-last", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", help="folder for the .taco files, decodes and report (required "
                   "unless --benchmark)")
    p.add_argument("--decode-from")
    p.add_argument("--decode-only", action="store_true",
                   help="only decode --decode-from's files (no encoder, so no text encoder needed)")
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"comma-separated, of {', '.join(CASES)} (default: all), a built-in "
                   "trained model's name or an existing .safetensors / .index.json checkpoint "
                   "file (these code the photo at 768x512)")
    p.add_argument("--float32-path", action="store_true")
    p.add_argument("--benchmark", metavar="MODEL")
    p.add_argument("--size", default="768x512")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    if not args.benchmark and not args.out:
        p.error("--out FOLDER is required (unless --benchmark)")
    unknown = unknown_cases(args.cases.split(","))
    if unknown:
        from taco.models.registry import PRETRAINED

        p.error(f"--cases: unknown {', '.join(unknown)}; the cases are: {', '.join(CASES)}, "
                f"the built-in models {', '.join(PRETRAINED)}, or an existing checkpoint file "
                f"({' or '.join(CHECKPOINT_SUFFIXES)})")

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = bool(args.mkldnn)
    from PIL import Image

    import taco
    from taco.codec import encode_text, pad_to_multiple
    from taco.images import image_to_tensor, tensor_to_image

    if args.benchmark:
        benchmark(args.benchmark, args.size, args.repeats)
        return
    warnings.simplefilter("ignore")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    photo = Image.open(SAMPLE).convert("RGB")
    timings: dict[str, dict[str, float]] = {}
    for name in args.cases.split(","):
        model = build(name)
        tag = Path(name).stem  # the file name for the case
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        model = model.to(args.device)
        size = CASES[name][2]
        image = photo.resize(size) if size else photo
        caption = CAPTION if model.uses_text else None
        with limits(name):
            t0 = time.perf_counter()
            if args.decode_only:
                data = b""
            elif args.float32_path:
                x = pad_to_multiple(image_to_tensor(image).to(args.device))
                text = encode_text(model, [caption or ""])
                with torch.no_grad():
                    enc = model.compress(x, text) if model.uses_text else model.compress(x)
                data = b"".join(len(s[0]).to_bytes(4, "big") + s[0] for s in enc["strings"])
            else:
                data = taco.compress(image, caption, model)
            timings[tag] = {"encode_s": round(time.perf_counter() - t0, 3)}
            sources = {}
            if not args.decode_only:
                (out / f"{tag}.taco").write_bytes(data)
                sources["self."] = data
            if args.decode_from:
                sources[""] = (Path(args.decode_from) / f"{tag}.taco").read_bytes()
                if args.decode_only:  # compare() reads the bytes decoded from here
                    (out / f"{tag}.taco").write_bytes(sources[""])
            for prefix, src in sources.items():
                t0 = time.perf_counter()
                y_hat, x_hat = decode(model, src, image.size, args.float32_path, args.device)
                timings[tag][f"{prefix}decode_s"] = round(time.perf_counter() - t0, 3)
                np.save(out / f"{tag}.{prefix}yhat.npy", y_hat.float().cpu().numpy(), allow_pickle=False)
                pixels = np.asarray(tensor_to_image(x_hat.cpu()))
                np.save(out / f"{tag}.{prefix}pixels.npy", pixels, allow_pickle=False)
    print(json.dumps({"threads": args.threads, "mkldnn": args.mkldnn,
                      "channels_last": args.channels_last, "device": args.device,
                      "float32_path": args.float32_path, "timings": timings}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
