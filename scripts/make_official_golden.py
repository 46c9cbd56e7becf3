"""Make the golden files of tests/official with the TACO authors' own code (effl-lab/TACO).

    mkdir -p /tmp/official
    git -C /work/.mirror/effl-lab+TACO/repo archive HEAD models modules utils | tar -x -C /tmp/official
    python scripts/make_official_golden.py /tmp/official tests/data/official

    python scripts/make_official_golden.py /tmp/official --paper-size   # measure, write nothing

This script contains none of their code: it puts their checkout (given on the command line, kept
outside this repository: their code has no licence) on ``sys.path``, builds their ``TACO`` model
class, moves every weight off its initial value with a seed, and runs their forward in eval mode.
Their code needs ``compressai`` and ``einops`` (``pip install einops``).

Golden mode writes:

- ``taco-tiny.pth.tar``: their model's state dict wrapped as their ``train.py`` saves it
  (``epoch``, ``state_dict`` with DDP's ``module.`` prefixes, ``optimizer``, ``aux_optimizer``,
  ``lr_scheduler``, ``best_*`` values and paths; entropy tables not built);
- ``taco-tiny-io.safetensors``: the input batch ``x`` (uint8, (B, 3, H, W)), the text embeddings
  ``text`` (B, 38, 32: the width of taco's ``clip-tiny``), and their eval-mode outputs ``x_hat``,
  ``y_likelihoods``, ``z_likelihoods``.

At this tiny width (N=8, M=16, groups 4/4/8) their channel-context networks, whose hidden widths
224 and 128 are fixed in their code, would be most of the file; the generator replaces each one's
``fushion`` by a stack of the same form (5x5 convs, ReLUs) 16 and 16 wide. taco reads these widths
from the tensor shapes. ``--paper-size`` uses their model unchanged (N=192, M=320, CLIP width 512)
and prints max |x_hat difference| and the relative difference of the total rate against taco's
import of the same weights, on one random 256x256 batch.
"""

from __future__ import annotations

import argparse
import collections
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
TEXT_TOKENS = 38  # CLIP captions, padded / truncated (paper)


def their_taco(checkout: Path, N: int, M: int, groups: list[int], text_dim: int):  # noqa: ANN201
    """Their TACO class, built from their config fields (N, M, slice_num, slice_ch, quant)."""
    sys.path.insert(0, str(checkout))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from models.taco import TACO  # their code

    config = types.SimpleNamespace(N=N, M=M, slice_num=len(groups), slice_ch=groups, quant="ste")
    return TACO(config, text_embedding_dim=text_dim)


def narrow_channel_context(model: torch.nn.Module, hidden: tuple[int, int]) -> None:
    """Each channel context: 5x5 convs in -> hidden[0] -> hidden[1] -> out with ReLUs."""
    nn = torch.nn
    for ctx in model.channel_context:
        if ctx is None:
            continue
        first, last = ctx.fushion[0], ctx.fushion[4]
        ctx.fushion = nn.Sequential(
            nn.Conv2d(first.in_channels, hidden[0], 5, padding=2), nn.ReLU(),
            nn.Conv2d(hidden[0], hidden[1], 5, padding=2), nn.ReLU(),
            nn.Conv2d(hidden[1], last.out_channels, 5, padding=2),
        )


def perturb(model: torch.nn.Module, seed: int) -> None:
    """Move every parameter off its initialisation: + 0.3 x its spread x N(0, 1); gammas (zero at
    initialisation) become N(0, 0.5), so the text changes the latents."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("gamma"):
                p.copy_(0.5 * noise)
            elif name.endswith("quantiles"):
                p.add_(0.1 * noise)  # keeps lower < median < upper
            else:
                spread = float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.1
                p.add_(0.3 * spread * noise)


def train_py_checkpoint(model: torch.nn.Module, epoch: int = 49) -> dict:
    """What their train.py's ``save_checkpoint`` writes for a DDP-wrapped model."""
    params = dict(model.named_parameters())
    main = [p for n, p in params.items() if not n.endswith(".quantiles")]
    aux = [p for n, p in params.items() if n.endswith(".quantiles")]
    optimizer = torch.optim.Adam(main, lr=1e-4)
    aux_optimizer = torch.optim.Adam(aux, lr=1e-3)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[45, 48], gamma=0.1)
    assert isinstance(scheduler.state_dict()["milestones"], collections.Counter)
    best = "./checkpoints/best_lpips_model_PSNR_27.1_MS_SSIM_0.95_BPP_0.2_LPIPS_0.03_epoch_50.pth.tar"
    return {
        "epoch": epoch,
        "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "aux_optimizer": aux_optimizer.state_dict(),
        "lr_scheduler": scheduler.state_dict(),
        "best_psnr": 27.1, "best_ms_ssim": 0.95, "best_bpp": 0.2, "best_lpips": 0.03,
        "recent_saved_model_path": "./checkpoints/recent_model.pth.tar",
        "best_psnr_model_path": best, "best_ms_ssim_model_path": best,
        "best_bpp_model_path": best, "best_lpips_model_path": best,
    }


def inputs(seed: int, batch: int, size: tuple[int, int], text_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (batch, 3, *size), generator=g, dtype=torch.uint8)
    text = torch.randn(batch, TEXT_TOKENS, text_dim, generator=g)
    return x, text


@torch.no_grad()
def their_forward(model: torch.nn.Module, x: torch.Tensor, text: torch.Tensor) -> dict[str, torch.Tensor]:
    out = model.eval()(x.float() / 255, text)
    return {"x_hat": out["x_hat"], "y_likelihoods": out["likelihoods"]["y_likelihoods"],
            "z_likelihoods": out["likelihoods"]["z_likelihoods"]}


def make_golden(checkout: Path, out_dir: Path, seed: int) -> None:
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    model = their_taco(checkout, N=8, M=16, groups=[4, 4, 8], text_dim=32)
    narrow_channel_context(model, (16, 16))
    perturb(model, seed)
    x, text = inputs(seed + 1, batch=2, size=(64, 64), text_dim=32)
    outputs = their_forward(model, x, text)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(train_py_checkpoint(model), out_dir / "taco-tiny.pth.tar")
    tensors = {"x": x, "text": text, **{k: v.contiguous() for k, v in outputs.items()}}
    io_file = out_dir / "taco-tiny-io.safetensors"
    save_file(tensors, str(io_file), metadata={"made_by": "scripts/make_official_golden.py", "seed": str(seed)})
    io_file.chmod(0o644)  # safetensors writes 0600; the committed file is 0644
    for f in sorted(out_dir.iterdir()):
        print(f"{f}: {f.stat().st_size:,} bytes")


def compare_paper_size(checkout: Path, seed: int, size: int) -> None:
    """Their TACO at N=192, M=320 vs taco's import of the same weights, on one random batch."""
    import tempfile

    sys.path.insert(0, str(REPO))
    from taco.official.checkpoint import import_checkpoint
    from taco.text.base import TextTokens

    torch.manual_seed(seed)
    model = their_taco(checkout, N=192, M=320, groups=[16, 16, 32, 64, 192], text_dim=512)
    print(f"their TACO: {sum(p.numel() for p in model.parameters()):,} parameters")
    perturb(model, seed)
    x, text = inputs(seed + 1, batch=1, size=(size, size), text_dim=512)
    theirs = their_forward(model, x, text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "paper.pth.tar"
        torch.save(train_py_checkpoint(model), path)
        ours = import_checkpoint(path, text_encoder="clip")
    print(f"taco's import: {sum(p.numel() for p in ours.parameters()):,} parameters")
    with torch.no_grad():
        out = ours(x.float() / 255, TextTokens(text, torch.ones(text.shape[:2], dtype=torch.bool)))
    dx = (out["x_hat"] - theirs["x_hat"]).abs().max().item()
    def bits(y: torch.Tensor, z: torch.Tensor) -> float:
        return float(-torch.log2(y.double()).sum() - torch.log2(z.double()).sum())
    ours_bits = bits(out["likelihoods"]["y"], out["likelihoods"]["z"])
    their_bits = bits(theirs["y_likelihoods"], theirs["z_likelihoods"])
    print(f"{size}x{size}, seed {seed}: max |x_hat difference| {dx:.3e}; total rate theirs "
          f"{their_bits:.1f} bits, taco {ours_bits:.1f} bits, relative difference "
          f"{abs(ours_bits - their_bits) / their_bits:.3e}; "
          f"max |y likelihood difference| "
          f"{(out['likelihoods']['y'] - theirs['y_likelihoods']).abs().max().item():.3e}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkout", type=Path, help="a copy of effl-lab/TACO (models/, modules/, utils/)")
    p.add_argument("out_dir", type=Path, nargs="?", default=REPO / "tests" / "data" / "official")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--paper-size", action="store_true",
                   help="compare at N=192, M=320 against taco's import instead (writes nothing)")
    p.add_argument("--size", type=int, default=256, help="image side for --paper-size")
    args = p.parse_args()
    np.random.seed(args.seed)
    if args.paper_size:
        compare_paper_size(args.checkout.resolve(), args.seed, args.size)
    else:
        make_golden(args.checkout.resolve(), args.out_dir, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
