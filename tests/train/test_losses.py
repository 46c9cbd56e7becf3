"""taco.losses: every term named, with the right signs, scales and gradients; off means unloaded."""

from __future__ import annotations

import math

import pytest
import torch

from taco import metrics
from taco.losses import (
    CLIP_LOGIT_SCALE,
    LAMBDAS,
    LOSS_KEYS,
    ClipTowers,
    RateDistortionLoss,
    TacoLoss,
    bpp_from_likelihoods,
    clip_contrastive_loss,
    tiny_clip_model,
)
from taco.metrics import MetricUnavailable

CAPTIONS = ["a cat on a sofa", "a red car", "the sea at dusk", "a bowl of fruit"]


@pytest.fixture(scope="module")
def towers() -> ClipTowers:
    return ClipTowers.load("tiny")


def _fake_output(x: torch.Tensor, offset: float = 0.1) -> dict:
    b, _, h, w = x.shape
    return {
        "x_hat": (x + offset).requires_grad_(),
        "likelihoods": {
            "y": torch.full((b, 8, h // 16, w // 16), 0.5),  # 1 bit per element
            "z": torch.full((b, 4, h // 64, w // 64), 0.25),  # 2 bits per element
        },
    }


def test_paper_constants():
    assert LAMBDAS == pytest.approx(tuple(v * 1e-4 for v in (4, 8, 16, 40, 90, 150)))
    assert CLIP_LOGIT_SCALE == pytest.approx(1 / 0.07, rel=1e-4)
    loss = TacoLoss(k_j=0)
    assert (loss.lmbda, loss.k_p, loss.beta) == (0.0016, 3.5, 40.0)
    assert TacoLoss.__init__.__defaults__[:4] == (0.0016, 3.5, 0.0025, 40.0)  # type: ignore[index]


def test_rate_distortion_exact_values():
    x = torch.rand(2, 3, 64, 64) * 0.8
    parts = RateDistortionLoss(lmbda=0.004)(_fake_output(x), x)
    assert list(parts) == list(LOSS_KEYS)
    assert parts["bpp_y"].item() == pytest.approx(8 * 4 * 4 / (64 * 64))
    assert parts["bpp_z"].item() == pytest.approx(2 * 4 * 1 * 1 / (64 * 64))
    assert parts["bpp"].item() == pytest.approx(parts["bpp_y"].item() + parts["bpp_z"].item())
    assert parts["mse"].item() == pytest.approx(0.01, rel=1e-4)
    assert parts["mse_term"].item() == pytest.approx(0.004 * 255**2 * 0.01, rel=1e-4)
    for key in ("lpips", "lpips_term", "clip_con", "clip_img", "joint_term"):
        assert parts[key].item() == 0.0
    assert parts["loss"].item() == pytest.approx(parts["bpp"].item() + parts["mse_term"].item())


def test_bpp_refuses_likelihoods_without_y_or_not_tensors():
    for bad in ({}, {"z": torch.ones(1)}, [torch.ones(1)]):
        with pytest.raises(ValueError, match="expected likelihoods for 'y'"):
            bpp_from_likelihoods(bad, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"must be tensors, not for \['w'\]"):
        bpp_from_likelihoods({"y": torch.ones(1), "w": 0.5}, 1)  # type: ignore[dict-item]


class _ThreeLatents(torch.nn.Module):
    """A codec-like toy with a second hyper level: likelihoods for y, z and w, each from its
    own parameter, as a backbone with a third coded latent hands them to the loss."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = torch.nn.ParameterDict(
            {k: torch.nn.Parameter(torch.zeros(())) for k in ("y", "z", "w")})
        self.shapes = {"y": (8, 4, 4), "z": (4, 1, 1), "w": (2, 1, 1)}

    def forward(self, x: torch.Tensor) -> dict:
        b = x.shape[0]
        return {
            "x_hat": x * (1 + self.logits["y"]),
            "likelihoods": {k: torch.sigmoid(self.logits[k]).expand(b, *shape)
                            for k, shape in self.shapes.items()},
        }


def test_rate_sums_every_latent_and_trains_them_all():
    model = _ThreeLatents()
    x = torch.rand(2, 3, 64, 64)
    parts = RateDistortionLoss(lmbda=0.004)(model(x), x)
    # each sigmoid(0) = 0.5 is one bit per element
    expected = {k: 2 * math.prod(shape) / (2 * 64 * 64) for k, shape in model.shapes.items()}
    for key, bpp in expected.items():
        assert parts[f"bpp_{key}"].item() == pytest.approx(bpp)
    assert parts["bpp"].item() == pytest.approx(sum(expected.values()))
    assert list(parts) == [*LOSS_KEYS[:4], "bpp_w", *LOSS_KEYS[4:]]
    assert parts["loss"].item() == pytest.approx(parts["bpp"].item() + parts["mse_term"].item())
    parts["loss"].backward()
    for key, p in model.logits.items():
        assert p.grad is not None and p.grad.item() < 0, key  # a likelier symbol costs fewer bits


def test_taco_loss_terms_signs_and_gradients(tiny_taco, towers):
    from taco.codec import encode_text

    model = tiny_taco
    model.train()
    try:
        x = torch.rand(4, 3, 64, 64)
        out = model(x, encode_text(model, CAPTIONS))
        loss = TacoLoss(lmbda=0.0016, clip=towers)
        parts = loss(out, x, CAPTIONS)
        assert list(parts) == list(LOSS_KEYS)
        assert all(v.dim() == 0 and torch.isfinite(v) for v in parts.values())
        for key in ("bpp_y", "bpp_z", "mse", "lpips", "clip_con", "clip_img"):
            assert parts[key].item() > 0, key
        assert parts["lpips_term"].item() == pytest.approx(3.5 * parts["lpips"].item())
        joint = 0.0025 * (parts["clip_con"].item() + 40.0 * parts["clip_img"].item())
        assert parts["joint_term"].item() == pytest.approx(joint, rel=1e-5)
        total = sum(parts[k].item() for k in ("bpp", "mse_term", "lpips_term", "joint_term"))
        assert parts["loss"].item() == pytest.approx(total, rel=1e-5)
        # LPIPS is taken on [-1, 1] inputs, i.e. exactly taco.metrics.lpips
        expected = metrics.lpips(x, out["x_hat"].detach()).mean().item()
        assert parts["lpips"].item() == pytest.approx(expected, rel=1e-5)

        model.zero_grad()
        parts["loss"].backward()
        for prefix in ("g_a.base.", "g_a.adapter.", "g_s.", "latent_codec."):
            grads = [p.grad for n, p in model.named_parameters() if n.startswith(prefix)]
            assert any(g is not None and g.abs().sum() > 0 for g in grads), prefix
        assert all(p.grad is None for p in towers.parameters())  # CLIP stays frozen
    finally:
        model.zero_grad()
        model.eval()


def test_each_term_pulls_x_hat_towards_its_target(towers):
    """Gradient of each distortion term w.r.t. x_hat points away from a worse reconstruction."""
    torch.manual_seed(0)
    x = torch.rand(4, 3, 64, 64)
    x_hat = (x + 0.2 * torch.randn_like(x)).clamp(0, 1).requires_grad_()
    out = {"x_hat": x_hat, "likelihoods": {"y": torch.full((4, 8, 4, 4), 0.5)}}
    parts = TacoLoss(clip=towers)(out, x, CAPTIONS)
    for key in ("mse_term", "lpips_term", "joint_term"):
        (grad,) = torch.autograd.grad(parts[key], x_hat, retain_graph=True)
        step = (x_hat - 1e-2 * grad / grad.norm()).detach()
        after = TacoLoss(clip=towers)({**out, "x_hat": step}, x, CAPTIONS)[key]
        assert after.item() < parts[key].item(), key


def test_identical_images_have_no_distortion(towers):
    x = torch.rand(2, 3, 64, 64)
    out = {"x_hat": x.clone(), "likelihoods": {"y": torch.full((2, 8, 4, 4), 0.5)}}
    parts = TacoLoss(clip=towers)(out, x, CAPTIONS[:2])
    assert parts["mse"].item() == 0.0
    assert parts["lpips"].item() == pytest.approx(0.0, abs=1e-6)
    assert parts["clip_img"].item() == pytest.approx(0.0, abs=1e-5)


def test_contrastive_loss_fixed_temperature():
    emb = torch.eye(4, dtype=torch.float64)  # (B, D): orthonormal, pair i matches only i
    expected = math.log(1 + 3 * math.exp(-CLIP_LOGIT_SCALE))
    assert clip_contrastive_loss(emb, emb).item() == pytest.approx(expected, rel=1e-4)
    shuffled = clip_contrastive_loss(emb, emb[[1, 2, 3, 0]]).item()
    assert shuffled == pytest.approx(CLIP_LOGIT_SCALE + expected, rel=1e-4)
    assert clip_contrastive_loss(emb[:1], emb[1:2]).item() == 0.0  # B = 1: nothing to contrast


def test_beta_term_is_one_norm_over_the_batch(towers):
    x, x_hat = torch.rand(3, 3, 64, 64), torch.rand(3, 3, 64, 64)
    con, img = towers.joint_parts(x, x_hat, CAPTIONS[:3])
    a, b = towers.image_embeddings(x), towers.image_embeddings(x_hat)
    assert img.item() == pytest.approx(torch.linalg.norm(a - b).item(), rel=1e-5)  # Frobenius
    per_image_mean = (a - b).norm(dim=1).mean().item()
    assert img.item() != pytest.approx(per_image_mean, rel=1e-3)
    assert torch.allclose(a.norm(dim=1), torch.ones(3), atol=1e-5)  # L2-normalised embeddings


def test_switched_off_terms_never_load_their_models(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("loaded a model that is switched off")

    monkeypatch.setattr(metrics, "lpips_model", refuse)
    monkeypatch.setattr(ClipTowers, "load", classmethod(lambda cls, *a, **k: refuse()))
    loss = TacoLoss(k_p=0, k_j=0)
    assert loss.clip is None
    x = torch.rand(2, 3, 64, 64)
    parts = loss(_fake_output(x), x)  # no captions needed either
    assert parts["lpips"].item() == 0 and parts["joint_term"].item() == 0
    with pytest.raises(AssertionError, match="switched off"):
        TacoLoss(k_p=0, k_j=0.0025)
    with pytest.raises(AssertionError, match="switched off"):
        TacoLoss(k_p=3.5, k_j=0)(_fake_output(x), x)


def test_missing_clip_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TACO_CLIP_PATH", str(tmp_path / "no-such-folder"))
    with pytest.raises(MetricUnavailable, match="k_j=0"):
        TacoLoss()
    with pytest.raises(MetricUnavailable, match="has no config.json"):
        ClipTowers.load(tmp_path)  # a folder without CLIP files


def test_clip_from_a_local_folder(tmp_path):
    from taco.text.clip import clip_tokenizer_class
    from taco.text.clip_vocab import clip_bpe_folder

    model = tiny_clip_model(seed=3)
    model.save_pretrained(tmp_path)
    tokenizer = clip_tokenizer_class().from_pretrained(clip_bpe_folder())
    tokenizer.save_pretrained(tmp_path)
    loaded = ClipTowers.load(tmp_path)
    reference = ClipTowers(model, tokenizer)
    x = torch.rand(2, 3, 48, 40)
    assert torch.allclose(loaded.image_embeddings(x), reference.image_embeddings(x), atol=1e-6)
    assert torch.allclose(
        loaded.text_embeddings(CAPTIONS[:2]), reference.text_embeddings(CAPTIONS[:2]), atol=1e-6
    )


def test_joint_term_needs_captions(towers):
    x = torch.rand(2, 3, 64, 64)
    with pytest.raises(ValueError, match="caption"):
        TacoLoss(clip=towers)(_fake_output(x), x)


@pytest.mark.parametrize("bad", [dict(lmbda=0), dict(k_p=-1), dict(beta=float("nan"))])
def test_bad_weights_are_refused(bad):
    with pytest.raises(ValueError):
        TacoLoss(**{"k_j": 0, **bad})


def test_lpips_term_follows_lpips_input():
    """``lpips_input="official"`` is effl-lab/TACO's loss: LPIPS of the [0, 1] images unscaled."""
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    out = _fake_output(x, offset=0.05)
    parts = {c: TacoLoss(k_p=3.5, k_j=0, lpips_input=c)(out, x) for c in metrics.LPIPS_INPUTS}
    for c, p in parts.items():
        expected = metrics.lpips(x, out["x_hat"].detach(), c).mean()
        assert p["lpips"].item() == pytest.approx(expected.item(), rel=1e-6), c
        assert p["lpips_term"].item() == pytest.approx(3.5 * expected.item(), rel=1e-6), c
    assert parts["official"]["lpips"] < parts["standard"]["lpips"]
    assert TacoLoss(k_j=0).lpips_input == "standard"
    with pytest.raises(ValueError, match="lpips_input must be one of standard, official"):
        TacoLoss(k_j=0, lpips_input="0-1")


def test_the_contrastive_term_is_of_x_hat_and_trains_it(towers):
    """L_con scores the reconstruction's embedding against the captions' (paper Eq. 6/7), and its
    gradient reaches x̂ (scoring the original, computed without gradient, would train nothing)."""
    torch.manual_seed(1)
    x = torch.rand(3, 3, 64, 64)
    x_hat = torch.rand(3, 3, 64, 64, requires_grad=True)
    con, _ = towers.joint_parts(x, x_hat, CAPTIONS[:3])
    expected = clip_contrastive_loss(towers.image_embeddings(x_hat), towers.text_embeddings(CAPTIONS[:3]))
    assert con.item() == pytest.approx(expected.item(), rel=1e-5)
    assert con.item() != pytest.approx(
        clip_contrastive_loss(towers.image_embeddings(x), towers.text_embeddings(CAPTIONS[:3])).item(),
        rel=1e-4)
    (grad,) = torch.autograd.grad(con, x_hat)
    assert grad.abs().sum().item() > 0


def test_text_embeddings_are_normalised_and_survive_a_full_cache():
    """The caption cache starts again when full, and a batch mixing cached and new captions still
    gets every embedding (it raised KeyError for the cached ones after the clear: a crash ~65,536
    distinct captions into a COCO run); the values equal those of a cache that never fills."""
    small, big = ClipTowers.load("tiny"), ClipTowers.load("tiny")
    small.max_cached_captions = 3
    small.text_embeddings(["a", "b"])
    got = small.text_embeddings(["a", "c", "d"])  # 2 + 2 new > 3: cleared
    want = big.text_embeddings(["a", "c", "d"])
    assert torch.allclose(got, want, atol=1e-6)
    assert torch.allclose(got.norm(dim=1), torch.ones(3), atol=1e-5)
    assert len(small._text_cache) <= 3


def test_the_joint_losss_text_tower_reads_the_encoders_38_tokens(towers):
    """The authors' loss embeds f_T(c) from the same 38 CLIP tokens the text encoder reads (their
    train.py tokenizes once, max_length=38); taco's read up to 77, so a long caption's f_T
    depended on words the encoder never saw."""
    from taco.text.base import DEFAULT_MAX_TOKENS

    words = ["cat"] * (DEFAULT_MAX_TOKENS + 10)
    same_start = " ".join(words)
    other_end = " ".join(words[: DEFAULT_MAX_TOKENS] + ["car"] * 10)
    short = " ".join(words[:5])
    assert len(towers.tokenizer(same_start)["input_ids"]) > DEFAULT_MAX_TOKENS
    a, b, c = towers.text_embeddings([same_start, other_end, short])
    assert torch.equal(a, b) and not torch.equal(a, c)


# RateDistortionLoss refuses a model forward that is not a mapping holding x_hat and likelihoods
@pytest.mark.parametrize("out", [
    {"x_hat": None},  # no likelihoods
    ("x_hat", "likelihoods"),  # not a mapping at all
])
def test_the_loss_refuses_a_forward_without_x_hat_and_likelihoods(out):
    import torch

    from taco.errors import TacoValueError
    from taco.losses import RateDistortionLoss

    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(TacoValueError, match="expected the model's forward to return"):
        RateDistortionLoss()(out if not isinstance(out, dict) else {**out, "x_hat": x}, x)
