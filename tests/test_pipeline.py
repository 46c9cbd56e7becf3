"""The fast entropy-coding path and the encoder pipeline give exactly the bytes of the plain path."""

from __future__ import annotations

import warnings

import pytest
import torch
from compressai.entropy_models import EntropyBottleneck, EntropyModel
from PIL import Image

import taco
from taco.bitstream import rans
from taco.codec import coding_codec, compress_image, decompress_tensor, pad_to_multiple
from taco.images import image_to_tensor
from taco.models import create_model, fast_codec
from taco.models.entropy import scale_indexes
from taco.pipeline import compress_batch, encode_with_text_overlap
from taco.text import build_text_encoder
from taco.text.base import TextEncoder

CAPTIONS = ["Close up of a tabby cat with green eyes looking to the side.", "", "a cup"]


def _x(image: Image.Image, w: int = 192, h: int = 128) -> torch.Tensor:
    return pad_to_multiple(image_to_tensor(image.crop((0, 0, w, h))))


def _fresh_encoder(model) -> TextEncoder:
    """A new encoder instance: an empty caption cache, so every caption is encoded cold."""
    spec = dict(model.config.text_encoder)
    return build_text_encoder(spec.pop("name"), **spec)


def _sequential_strings(model, x, caption):
    """The plain path: caption encoded first (cold), g_a (``model.analysis``), then the latent
    codec taco.codec codes with (whose symbols are CompressAI's: tested above)."""
    with torch.no_grad():
        text = _fresh_encoder(model).encode([caption]) if model.uses_text else None
        y = model.analysis(x, text) if model.uses_text else model.analysis(x)
        out = fast_codec.compress_latent(coding_codec(model), y.cpu())
        assert torch.equal(out["y_hat"], coding_codec(model).compress(y.cpu())["y_hat"])
        return out["strings"]


def _compressai_elic():
    from compressai.models import Elic2022Official

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Elic2022Official(N=16, M=32, groups=[8, 8, 16]).eval()
    model.update(force=True)
    return model


# --------------------------------------------------------------------------- fast_codec


@pytest.mark.parametrize("which", ["elic-tiny", "compressai", "coding-codec"])
def test_fast_codec_symbols_and_latents_equal_compressai(which, sample_image):
    """CompressAI's symbols and y_hat, coded as one stream per image instead of 11 strings
    (the CompressAI layout; the reference layout codes itself, tests/models/test_entropy.py)."""
    tiny_elic = create_model("elic-tiny", seed=0, layout="compressai")
    model = _compressai_elic() if which == "compressai" else tiny_elic
    # "coding-codec": the float64 copy taco.codec codes with, fed float32 latents
    codec = coding_codec(model) if which == "coding-codec" else model.latent_codec
    x = torch.cat([_x(sample_image), _x(sample_image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))])
    with torch.no_grad():
        y = model.g_a(x)
        ref = codec.compress(y)
        new = fast_codec.compress_latent(codec, y)
        assert len(new["strings"]) == 1 and len(new["strings"][0]) == 2  # one stream per image
        assert new["strings"][0][0] != new["strings"][0][1]
        assert torch.equal(new["y_hat"], ref["y_hat"])
        assert [tuple(s) for s in new["shape"]["y"]] == [tuple(s) for s in ref["shape"]["y"]]
        assert tuple(new["shape"]["hyper"]) == tuple(ref["shape"]["hyper"])
        # the same symbols in the same order as CompressAI's 11 strings, in one stream
        assert new["strings"][0] == _one_stream_from_compressai_strings(codec, ref)
        dec_ref = codec.decompress(ref["strings"], ref["shape"])["y_hat"]
        dec_new = fast_codec.decompress_latent(codec, new["strings"], new["shape"])
    assert torch.equal(dec_new["y_hat"], dec_ref)
    assert torch.equal(dec_new["y_hat"], ref["y_hat"])
    # one stream holds what the 11 strings held, less their 11 separate terminations
    for i in range(2):
        assert len(new["strings"][0][i]) < sum(len(s[i]) for s in ref["strings"])


def _one_stream_from_compressai_strings(codec, ref):
    """Decode CompressAI's 11 strings, recording the symbols and CDF indexes of each coder call,
    then code them in that order (z, then every y pass) into one BufferedRansEncoder per image."""
    from compressai import ans

    class Recorder:
        def __init__(self, em, inner):
            self.em, self.inner, self.name = em, inner, inner.name

        def decode_with_indexes(self, string, indexes, *tables):
            out = self.inner.decode_with_indexes(string, indexes, *tables)
            calls.append((self.em, out, list(indexes)))
            return out

    calls = []  # one per (part, image): EntropyModel.decompress loops over the batch
    ems = [m for m in codec.modules() if isinstance(m, EntropyModel)]
    for em in ems:
        em.entropy_coder = Recorder(em, em.entropy_coder)
    try:
        codec.decompress(ref["strings"], ref["shape"])
    finally:
        for em in ems:
            em.entropy_coder = em.entropy_coder.inner
    n = len(ref["strings"][0])
    assert len(calls) == n * len(ref["strings"])
    streams = []
    for b in range(n):
        enc = ans.BufferedRansEncoder()
        assert isinstance(calls[b][0], EntropyBottleneck)  # z first, as in taco's stream
        for em, symbols, indexes in calls[b::n]:
            t = rans.coder_tables(em)
            enc.encode_with_indexes(symbols, indexes, t.cdfs, t.lengths, t.offsets)
        streams.append(enc.flush())
    return streams


def test_fast_codec_model_round_trip_matches_model_methods(tiny_taco, sample_image):
    x = _x(sample_image)
    text = _fresh_encoder(tiny_taco).encode(CAPTIONS[:1])
    codec = tiny_taco.latent_codec
    with torch.no_grad():
        ref = codec.compress(tiny_taco.analysis(x, text))  # CompressAI's own methods
        out = fast_codec.compress(tiny_taco, x, text)
        a = fast_codec.decompress(tiny_taco, out["strings"], out["shape"])["x_hat"]
        b = tiny_taco.g_s(codec.decompress(ref["strings"], ref["shape"])["y_hat"]).clamp(0, 1)
    assert torch.equal(a, b)


def test_scale_indexes_equal_build_indexes(tiny_elic):
    gc = tiny_elic.latent_codec.gaussian_conditional
    table = gc.scale_table
    scales = torch.cat([
        torch.rand(1000) * 300,  # beyond both ends of the table
        torch.rand(1000) * 0.2,
        table, torch.nextafter(table, torch.tensor(0.0)), torch.nextafter(table, torch.tensor(1e9)),
        torch.tensor([0.0, -1.0, 1e30]),
    ]).reshape(1, 1, 1, -1)
    assert torch.equal(scale_indexes(gc, scales), gc.build_indexes(scales))


def test_table_cache_follows_the_buffers():
    model = create_model("elic-tiny", seed=3)
    eb = model.latent_codec.entropy_bottleneck
    first = rans.coder_tables(eb)
    assert rans.coder_tables(eb) is first  # reused while the buffers are unchanged
    with torch.no_grad():
        eb.quantiles[:, 0, 2] += 5  # wider range -> new (longer) tables on update
    model.update(force=True)
    second = rans.coder_tables(eb)
    assert second is not first and second.cdfs != first.cdfs
    with torch.no_grad():
        eb._quantized_cdf[0, 1] += 1  # written in place (as load_state_dict does): rebuilt
    third = rans.coder_tables(eb)
    assert third is not second and third.cdfs[0][1] == second.cdfs[0][1] + 1


def test_fast_codec_refuses_other_codecs():
    from compressai.latent_codecs import GaussianConditionalLatentCodec

    codec = GaussianConditionalLatentCodec()
    assert not fast_codec.supports(codec)
    with pytest.raises(TypeError, match="which taco cannot code"):
        fast_codec.compress_latent(codec, torch.zeros(1, 4, 4, 4))


# --------------------------------------------------------------------------- text overlap


@pytest.mark.parametrize("caption", CAPTIONS)
def test_overlap_gives_the_bytes_of_the_sequential_path(tiny_taco, sample_image, caption):
    x = _x(sample_image)
    sequential = _sequential_strings(tiny_taco, x, caption)
    cold = encode_with_text_overlap(tiny_taco, x, caption, _fresh_encoder(tiny_taco))
    assert cold["strings"] == sequential
    enc = _fresh_encoder(tiny_taco)
    enc.encode([caption])
    cached = encode_with_text_overlap(tiny_taco, x, caption, enc)
    assert cached["strings"] == sequential
    no_overlap = encode_with_text_overlap(tiny_taco, x, caption, enc, overlap=False)
    assert no_overlap["strings"] == sequential


def test_overlap_with_elic_ignores_text(tiny_elic, sample_image):
    x = _x(sample_image)
    assert encode_with_text_overlap(tiny_elic, x, None)["strings"] == _sequential_strings(
        tiny_elic, x, None)


def test_text_worker_errors_reach_the_caller(tiny_taco, sample_image):
    class Broken(TextEncoder):
        name, dim, max_tokens = "broken", 32, 38

        def _encode(self, captions):
            raise RuntimeError("text encoder exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        encode_with_text_overlap(tiny_taco, _x(sample_image), "a cat", Broken())
    with pytest.raises(ValueError, match="caption"):
        encode_with_text_overlap(tiny_taco, _x(sample_image), None)


def test_text_width_mismatch_is_refused(tiny_taco, sample_image):
    class Wrong(TextEncoder):
        name, dim, max_tokens = "wrong", 64, 38

        def _encode(self, captions):
            from taco.text.base import TextTokens

            return TextTokens(torch.zeros(len(captions), 38, 64), torch.ones(len(captions), 38, dtype=torch.bool))

    with pytest.raises(ValueError, match="width 64"):
        encode_with_text_overlap(tiny_taco, _x(sample_image), "a cat", Wrong())


# --------------------------------------------------------------------------- batches


def test_compress_batch_equals_one_by_one(tiny_taco, sample_image):
    images = [
        sample_image.crop((0, 0, 130, 100)),
        sample_image.crop((50, 20, 180, 120)),
        sample_image.crop((0, 0, 64, 64)),  # another padded size: starts a new batch
        sample_image.crop((100, 100, 230, 200)),
    ]
    captions = ["a cat", "", "green eyes", "a cat"]
    batched = compress_batch(images, captions, tiny_taco, batch_size=2)
    single = [compress_image(im, c, tiny_taco).data for im, c in zip(images, captions, strict=True)]
    assert [r.data for r in batched] == single
    decoded, _ = decompress_tensor(batched[1].data, tiny_taco)
    assert decoded.shape == (1, 3, 100, 130)
    assert batched[0].header_bytes == len(batched[0].data) - len(
        taco.bitstream.unpack(batched[0].data).payload) == 23  # 130x100: one 1-byte varint (format 3)


def test_compress_batch_elic_and_errors(tiny_elic, tiny_taco, sample_image):
    images = [sample_image.crop((0, 0, 64, 64))] * 3
    told = []
    assert [r.data for r in compress_batch(images, None, tiny_elic, batch_size=2,
                                           progress=lambda *a: told.append(a))] == [
        compress_image(images[0], None, tiny_elic).data] * 3
    assert told == [("images", 2, 3), ("images", 3, 3)]  # taco.progress.Progress, per batch
    with pytest.raises(ValueError, match="captions"):
        compress_batch(images, ["a"], tiny_taco)
    with pytest.raises(ValueError, match="caption per image"):
        compress_batch(images, None, tiny_taco)
    with pytest.raises(ValueError, match="batch_size"):
        compress_batch(images, None, tiny_elic, batch_size=0)


def _no_memory(*args, **kwargs):
    raise RuntimeError("[enforce fail at alloc_cpu.cpp:121] DefaultCPUAllocator: can't allocate "
                       "memory: you tried to allocate 12884901888 bytes. Error code 12")


@pytest.mark.parametrize("stage", ["taco.codec.entropy_code", "taco.pipeline.analysis_with_text_overlap"])
def test_compress_batch_reports_running_out_of_memory_as_compress_does(tiny_elic, sample_image,
                                                                       monkeypatch, stage):
    """An allocation failure in g_a or in entropy coding is one taco.memory.OutOfMemoryError
    naming the images of the batch, as taco.compress reports it (tests/test_codec.py)."""
    from taco.memory import OutOfMemoryError

    images = [sample_image.crop((0, 0, 64, 64))] + [sample_image.crop((0, 0, 130, 100))] * 3
    monkeypatch.setattr(stage, _no_memory)
    with pytest.raises(OutOfMemoryError, match=r"out of memory encoding image 0 \(counting from 0\) "
                       r"in one batch, padded to 64x64: .*12.0 GiB.*batch_size= or stripe_budget="):
        compress_batch(images, None, tiny_elic)
    monkeypatch.undo()
    run = {"taco.codec.entropy_code": taco.codec.entropy_code,
           "taco.pipeline.analysis_with_text_overlap": taco.pipeline.analysis_with_text_overlap}[stage]

    def small_only(model, x, *args, **kwargs):  # x: the images or y; only the 64x64 image's fit
        return run(model, x, *args, **kwargs) if x.shape[-1] in (4, 64) else _no_memory()

    monkeypatch.setattr(stage, small_only)
    with pytest.raises(OutOfMemoryError, match=r"encoding images 1 to 3 \(counting from 0\) in one "
                       r"batch, padded to 192x128: .*12.0 GiB"):
        compress_batch(images, None, tiny_elic)
    monkeypatch.setattr("taco.codec.analysis_with_text_overlap", small_only)
    with pytest.raises(OutOfMemoryError, match=r"encoding a 130x100 image \(13,000 pixels\): .*12.0 GiB"):
        compress_image(images[1], None, tiny_elic)


def test_compress_batch_stripes_as_compress_does(tiny_elic, tiny_taco, sample_image):
    """compress_batch takes compress's stripe_budget (checked the same way) and gives its bytes."""
    image = sample_image.crop((0, 0, 200, 130))
    stripes = 48 * 64 * 64  # a few stripes of this image
    assert [r.data for r in compress_batch([image, image], None, tiny_elic, stripe_budget=stripes)] == [
        compress_image(image, None, tiny_elic, stripe_budget=stripes).data] * 2
    with pytest.raises(ValueError, match="stripe_budget must be positive"):
        compress_batch([image], None, tiny_elic, stripe_budget=0)
    with pytest.raises(ValueError, match=r"caption per image \(use '' for none\); image 1 \(counting "
                       r"from 0\) has none"):
        compress_batch([image, image], ["a cat", None], tiny_taco)
    with pytest.raises(ValueError, match=r"give a caption \(use '' for none\)$"):
        compress_image(image, None, tiny_taco)


@pytest.mark.parametrize("name,overrides", [("taco-tgic-tiny", {}), ("taco-tiny", {"injector_at": "h8"})])
def test_overlap_matches_every_adapter_variant(name, overrides, sample_image):
    model = create_model(name, **overrides)
    x = _x(sample_image, 128, 64)
    out = encode_with_text_overlap(model, x, CAPTIONS[0], _fresh_encoder(model))
    assert out["strings"] == _sequential_strings(model, x, CAPTIONS[0])


def test_compress_batch_of_one_is_compress_and_every_batched_file_decodes(sample_image):
    """What compress_batch guarantees with a trained model: batch_size=1 gives taco.compress's
    bytes, and a bigger batch a valid file per image that decodes to its size. Not byte for byte
    at batch > 1: g_a's float32 convolutions may round a few latents the other way there (a
    768x576 photo at batch 2 differed in 5,871 decoded pixels; see compress_batch)."""
    model = taco.load("taco-minilm-small-q4")
    images = [sample_image.crop((0, 0, 192, 128)), sample_image.crop((40, 30, 232, 158)),
              sample_image.crop((0, 0, 100, 70))]
    captions = ["A tabby cat looking to the side.", "a cat's face", ""]
    one = compress_batch(images, captions, model, batch_size=1)
    assert [r.data for r in one] == [taco.compress(im, c, model) for im, c in zip(images, captions, strict=True)]
    for result, image in zip(compress_batch(images, captions, model, batch_size=3), images, strict=True):
        assert taco.decompress(result.data, model).size == image.size
