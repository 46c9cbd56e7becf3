"""``taco bench``: encode/decode latency of TACO, ELIC and CompressAI's ELIC, same images, same process.

Paper Table 2 / §4.4 Q3 reports TACO 78.60 ms vs ELIC 71.35 ms encode on an RTX 3090 and puts the
gap on the CLIP step. This measures, per image:

- **taco**: TACO with its text encoder, encode with a cold caption (cache cleared before each run)
  and with a cached one, with the caption encoded alongside g_a
  (:func:`taco.codec.analysis_with_text_overlap`) and, for reference, sequentially; decode.
- **taco-clip-b** (unless ``--no-clip-b``): TACO's backbone with CLIP's adapter and a
  CLIP-B-sized text encoder (random weights), encode cold and cached.
- **elic**: the same backbone without text (``--taco-model`` and ``--elic-model`` must have the
  same N, M and groups), through taco's entropy-coding path (:mod:`taco.models.fast_codec`,
  float64 codec) and, as "elic-float32-codec", with the model's own float32 latent codec.
- **compressai-elic**: CompressAI's ``Elic2022Official`` with its own ``compress``/``decompress``,
  the outside anchor.

Encode is split into text encoding / g_a / hyper (h_a, z coding, h_s) / entropy coding (the y
groups with their context networks; one "latent coding" stage for a latent codec that codes
itself in one call: :func:`taco.models.fast_codec.codes_by_branch`); decode into entropy decoding (z and y, with h_s and the
context networks) / g_s. Each stage and each end-to-end call is timed on its own, with
``torch.cuda.synchronize()`` before and after on a GPU. Systems are interleaved inside every run
so that a machine that gets busier slows all of them alike; the headline numbers are ratios of
medians. Weights are random (weights do not change the cost of the transforms; the entropy coder's
cost depends a little on the symbol statistics). No CI test looks at an absolute time.

Modules, each for one part: :mod:`.latency` (the systems timed stage by stage, the ratios),
:mod:`.timing` (clocks, samples), :mod:`.peak_memory` (peak memory in a fresh process),
:mod:`.profiling` (where the entropy-coding time goes), :mod:`.report` (tables),
:mod:`.systems` (CompressAI's ELIC, a CLIP-B-sized text encoder), :mod:`.inputs` (the images),
:mod:`.cli` (``taco bench``).
"""
