"""The multiple an image is padded to before coding (64) is defined once, beside the ``.taco``
header's padding-scheme code (:data:`taco.bitstream.container.PAD_MULTIPLES`): it was written by
hand in ``max_file_bytes`` and the bench's ``--memory`` checks beside ``taco.models.PAD_MULTIPLE``,
so a change to one would have left the others checking another size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import taco
from taco.bitstream import container
from taco.bitstream.container import PAD_MULTIPLES, PAD_REPLICATE_64, max_file_bytes, padded_size
from taco.models.config import PAD_MULTIPLE

PACKAGE = Path(taco.__file__).resolve().parent


def test_the_models_multiple_is_the_header_schemes():
    assert PAD_MULTIPLES == {PAD_REPLICATE_64: 64} and PAD_MULTIPLE == 64 == PAD_MULTIPLES[PAD_REPLICATE_64]
    assert container.TacoHeader("m", b"\0" * 8, 1, 1, "RGB").padding == PAD_REPLICATE_64


@pytest.mark.parametrize(("size", "padded"), [((1, 1), (64, 64)), ((64, 65), (64, 128)),
                                              ((500, 129), (512, 192)), ((32768, 1), (32768, 64))])
def test_padded_size_rounds_each_side_up(size, padded):
    assert padded_size(*size) == padded_size(*size, PAD_REPLICATE_64) == padded


def test_max_file_bytes_reads_the_padded_size():
    height, width = padded_size(500, 129)
    assert max_file_bytes(24, 500, 129) == 24 + height * width * container.MAX_PAYLOAD_BITS_PER_PIXEL // 8
    assert max_file_bytes(0, 512, 512) == 2 << 20  # 2 MiB, as its docstring says


def test_codec_pads_with_the_one_definition():
    from taco import codec

    assert codec.padded_size is padded_size


def test_no_module_writes_the_multiple_by_hand():
    """No ``% 64``, ``// 64`` or ``* 64`` padding arithmetic outside the one definition."""
    by_hand = re.compile(r"(?<!\*)(%|//|\*(?!\*))\s*64\b(?!\s*(<<|\*\*))")  # not 2**64, 64 << 20
    found = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if by_hand.search(line.split("#")[0])]
    assert found == []
