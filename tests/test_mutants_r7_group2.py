"""Bounds of the checks on hostile files and checkpoints (mutation round 7a, group 2: survivors in
taco/bitstream/container.py, taco/bitstream/rans.py, taco/models/checkpoint.py and
taco/official/checkpoint.py). Each test pins one side of a check that a mutant moved or dropped:
the entropy-coder tables a checkpoint may give (P5-P7), the latents the rANS encoder takes (R12),
the rANS strings and streams a .taco file may hold (R1-R4, R8), finite weights (P10), .taco
headers and file sizes (C4, C10, C14) and what an authors' checkpoint may hold (O2-O4, O7, O8).
"""

from __future__ import annotations

import re
import sys
import zlib
from pathlib import Path

import pytest
import torch
from compressai.entropy_models import EntropyBottleneck

import taco
from taco.bitstream import TacoFormatError
from taco.bitstream.container import TacoHeader, max_file_bytes, model_id_problem, pack
from taco.bitstream.rans import (
    CHUNK_SYMBOLS,
    MAX_SYMBOL,
    SymbolRangeError,
    check_rans_string,
    check_string_length,
    check_symbols,
    max_string_bytes,
    rans_overread_bound,
    split_stream,
)
from taco.errors import TacoValueError
from taco.models import CheckpointError, create_model
from taco.models.checkpoint import check_entropy_tables, check_finite, non_finite
from taco.models.config import MAX_GROUPS
from taco.official import import_checkpoint

GOLDEN = Path(__file__).resolve().parent / "data" / "official" / "taco-tiny.pth.tar"
MALFORMED = r"entropy-coder tables \(.*entropy_bottleneck\) are malformed"


# --------------------------------------------------------------------------- entropy-coder tables


def bottleneck() -> tuple[torch.nn.Module, EntropyBottleneck]:
    model = create_model("elic-tiny", seed=0)
    model.update(force=True)
    check_entropy_tables(model)  # a model's own tables pass
    return model, next(m for m in model.modules() if isinstance(m, EntropyBottleneck))


@pytest.mark.parametrize("below", [1, 1 << 30])
def test_an_offset_below_minus_cdf_length_minus_3_is_refused(below):  # P5
    model, eb = bottleneck()
    lowest = -(int(eb._cdf_length[0]) - 3)
    with torch.no_grad():
        eb._offset[0] = lowest
    check_entropy_tables(model)  # the lowest CompressAI's update makes
    with torch.no_grad():
        eb._offset[0] = lowest - below
    with pytest.raises(CheckpointError, match=MALFORMED):
        check_entropy_tables(model)


def test_a_cdf_that_does_not_start_at_0_is_refused():  # P6
    model, eb = bottleneck()
    with torch.no_grad():
        eb._quantized_cdf[0, 0] = 1
    with pytest.raises(CheckpointError, match=MALFORMED):
        check_entropy_tables(model)


def test_a_cdf_with_a_zero_frequency_symbol_is_refused():  # P7
    model, eb = bottleneck()
    with torch.no_grad():
        eb._quantized_cdf[0, 2] = eb._quantized_cdf[0, 1]
    with pytest.raises(CheckpointError, match=MALFORMED):
        check_entropy_tables(model)


# --------------------------------------------------------------------------- rANS strings


@pytest.mark.parametrize("sign", [1, -1])
def test_symbols_beyond_max_symbol_either_way_are_refused(sign):  # R12
    check_symbols(torch.tensor([0, sign * MAX_SYMBOL], dtype=torch.int32))
    for beyond in (MAX_SYMBOL + 1, 1 << 28):
        shown = re.escape(f"a latent symbol of {sign * beyond:g} is beyond")
        with pytest.raises(SymbolRangeError, match=shown):
            check_symbols(torch.tensor([0, sign * beyond], dtype=torch.int32))


def state(value: int, nbytes: int = 8) -> bytes:
    """A rANS string of ``nbytes`` starting with the state ``value`` (two native 32-bit words)."""
    words = (value & 0xFFFFFFFF).to_bytes(4, sys.byteorder) + (value >> 32).to_bytes(4, sys.byteorder)
    return words[:nbytes] + b"\0" * (nbytes - 8)


def test_a_rans_string_of_4_bytes_is_refused():  # R1
    check_rans_string(state(1 << 31))
    with pytest.raises(TacoFormatError, match=r"string of 4 bytes \(rANS strings are multiples of 4 "
                                              r"bytes, at least 8\)"):
        check_rans_string(state(1 << 31, 4))


@pytest.mark.parametrize("value", [1 << 30, (1 << 31) - 1])
def test_an_initial_state_below_2_to_31_is_refused(value):  # R2
    with pytest.raises(TacoFormatError, match="starts with an invalid rANS state"):
        check_rans_string(state(value))


@pytest.mark.parametrize(("symbols", "nbytes"), [(1, 8), (6, 8), (65536, 8), (65536, 425_992),
                                                 (1 << 20, 1 << 12)])
def test_the_overread_bound_is_at_least_the_documented_one(symbols, nbytes):  # R3
    # rans_overread_bound's docstring: <= 3.04 + 34.5 S + 15 W words, W = num_bytes / 4
    documented = 4 * (3.04 + 34.5 * symbols + 15 * nbytes / 4)
    assert rans_overread_bound(symbols, nbytes) >= documented
    assert rans_overread_bound(65536, 8) == 9_175_184


def test_a_string_longer_than_the_encoder_writes_is_refused():  # R4
    assert max_string_bytes(100) == 4 * (100 * 52 // 32) + 8 == 656
    check_string_length(656, 100, "a chunk")
    for nbytes in (660, 664):
        with pytest.raises(TacoFormatError, match=rf"a chunk is {nbytes} bytes, longer than the 656"):
            check_string_length(nbytes, 100, "a chunk")


def test_a_stream_too_short_for_its_chunks_names_the_bytes_needed():  # R8
    n = 3  # chunks: 9 n - 1 = 26 bytes at least (two 1-byte lengths, three 8-byte strings)
    with pytest.raises(TacoFormatError, match=r"in 3 rANS chunks \(of 65,536\), at least 26 bytes; "
                                              r"the stream has 25"):
        split_stream(b"\x02" + b"\0" * 24, n * CHUNK_SYMBOLS)


# --------------------------------------------------------------------------- finite weights


def test_finite_weights_whose_sum_overflows_are_finite():  # P10
    big = {"g_s.0.weight": torch.full((4,), 3e38)}  # float32 sum: inf
    assert not bool(big["g_s.0.weight"].sum().isfinite())
    assert non_finite(big) == []
    check_finite(big)
    bad = {"g_s.0.weight": torch.tensor([3e38, 3e38, float("inf"), 1.0])}
    assert non_finite(bad) == ["g_s.0.weight"]
    with pytest.raises(CheckpointError, match="tensor g_s.0.weight holds NaN or infinite values"):
        check_finite(bad)


# --------------------------------------------------------------------------- .taco headers


def test_a_model_id_of_256_bytes_is_refused():  # C4
    assert model_id_problem("a" * 255) is None
    assert model_id_problem("a" * 256) == "it is longer than 255 bytes"
    assert model_id_problem("é" * 128) == "it is longer than 255 bytes"  # 256 UTF-8 bytes
    pack(TacoHeader("a" * 255, b"\0" * 8, 64, 64, "RGB"), b"\0" * 8)
    with pytest.raises(TacoValueError, match="longer than 255 bytes"):
        pack(TacoHeader("a" * 256, b"\0" * 8, 64, 64, "RGB"), b"\0" * 8)


def test_a_padding_code_of_8_is_refused():  # C10
    pack(TacoHeader("taco-minilm", b"\0" * 8, 64, 64, "RGB", padding=7), b"\0" * 8)
    with pytest.raises(TacoValueError, match="padding code 8 does not fit in 3 bits"):
        pack(TacoHeader("taco-minilm", b"\0" * 8, 64, 64, "RGB", padding=8), b"\0" * 8)


def test_a_file_one_byte_over_the_bound_is_refused_by_its_size(tmp_path):  # C14
    good = pack(TacoHeader("taco-minilm", b"\0" * 8, 64, 64, "RGB"), b"\0" * 8)
    most = max_file_bytes(len(good) - 8, 64, 64)
    head = good[: len(good) - 8 - 4]  # the header without its CRC
    payload = b"\0" * (most + 1 - len(head) - 4)
    path = tmp_path / "long.taco"
    path.write_bytes(head + zlib.crc32(payload, zlib.crc32(head)).to_bytes(4, "big") + payload)
    assert path.stat().st_size == most + 1
    with pytest.raises(TacoFormatError, match=rf"{most + 1:,} bytes, more than a file of a 64x64 "
                                              rf"image can have \({most:,}:"):
        taco.info(path)


# --------------------------------------------------------------------------- authors' checkpoints


def golden() -> dict:
    return torch.load(GOLDEN, weights_only=True)


@pytest.fixture(scope="module")
def imported_with_text(tmp_path_factory):
    obj = golden()
    obj["best_note"] = "n" * 199 + "!"  # 200 characters: kept whole
    obj["best_long"] = "l" * 200 + "!"  # 201: cut
    path = tmp_path_factory.mktemp("o") / "text.pth.tar"
    torch.save(obj, path)
    return import_checkpoint(path, "clip-tiny")


def test_a_value_of_source_text_chars_is_kept_whole(imported_with_text):  # O2
    assert imported_with_text.metadata["source_best_note"] == "n" * 199 + "!"
    assert imported_with_text.metadata["source_best_long"] == "l" * 199 + "…"


def test_best_path_entries_are_not_copied(imported_with_text):  # O3
    metadata = imported_with_text.metadata
    assert golden()["best_psnr_model_path"]  # the golden file has them
    assert metadata["source_best_psnr"] == 27.1
    assert not [k for k in metadata if k.endswith("_path")]


def test_one_group_over_max_groups_is_refused_as_such(tmp_path):  # O4
    obj = golden()
    obj["state_dict"][f"module.local_context.{MAX_GROUPS}.weight"] = torch.zeros(8, 1, 5, 5)
    path = tmp_path / "wide.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=rf"local_context\.{MAX_GROUPS}\.\*: {MAX_GROUPS + 1} "
                                              rf"channel groups, over the {MAX_GROUPS} of any taco"):
        import_checkpoint(path, "clip-tiny")


def test_an_integer_tensor_for_a_float_weight_is_refused(tmp_path):  # O7
    obj = golden()
    key = "module.h_a.reduction.0.weight"
    obj["state_dict"][key] = obj["state_dict"][key].round().to(torch.int32)
    path = tmp_path / "int.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=r"h_a\.0\.weight is torch\.int32 \(expected a real "
                                              r"floating-point tensor\)"):
        import_checkpoint(path, "clip-tiny")


def test_a_tensor_repeating_its_storage_is_refused(tmp_path):  # O8
    obj = golden()
    key = "module.h_a.reduction.0.weight"
    shape = obj["state_dict"][key].shape
    obj["state_dict"][key] = torch.zeros(1).expand(shape)  # stride 0: one value, saved as such
    path = tmp_path / "view.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=rf"tensor '{key}' is a view of {shape.numel():,} "
                                              r"values over storage of 4 bytes"):
        import_checkpoint(path, "clip-tiny")
