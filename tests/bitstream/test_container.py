"""The .taco container (format version 3, and reading version 2): round trip and every
malformed-input case -> TacoFormatError, in words that say what is wrong: a version-2 stream
(no chunks) with bytes appended or cut off is not called a rANS chunk, a file cut inside its
magic bytes is truncated, not "not a .taco file"."""

from __future__ import annotations

import io
import os
import re
import tracemalloc
import zlib

import pytest

import taco
from taco.bitstream import (
    BUILTIN_MODEL_IDS,
    FORMAT_VERSION,
    MAGIC,
    MAX_SIDE,
    TacoFormatError,
    TacoHeader,
    info,
    pack,
    unpack,
)
from taco.bitstream.container import (
    MAX_PAYLOAD_BITS_PER_PIXEL,
    READABLE_VERSIONS,
    max_file_bytes,
    read_taco_stream,
    varint,
)
from taco.cli import main

HEADER = TacoHeader(model_id="taco-tiny", fingerprint=bytes(range(8)), height=300, width=451, mode="RGB")
PAYLOAD = b"abc" + b"\x00\xff" * 40 + b"z" * 300


def test_round_trip():
    data = pack(HEADER, PAYLOAD)
    f = unpack(data)
    assert f.header == HEADER
    assert f.payload == PAYLOAD
    assert data.startswith(MAGIC + bytes([FORMAT_VERSION]))
    assert f.header_bytes + f.payload_bytes == len(data)


def test_info_reads_bytes_and_paths(tmp_path):
    data = pack(HEADER, PAYLOAD)
    path = tmp_path / "x.taco"
    path.write_bytes(data)
    for source in (data, bytearray(data), memoryview(data), path, str(path)):
        f = info(source)
        assert f.header == HEADER and f.payload == PAYLOAD
        assert f.total_bytes == len(data)
        assert f.bpp == 8 * len(data) / (451 * 300)
    path.write_bytes(data[:-1])
    with pytest.raises(TacoFormatError, match="checksum"):
        info(path)
    with pytest.raises(TypeError, match="bytes of a .taco file, its path or a binary file object, not NoneType"):
        info(None)


@pytest.mark.parametrize("model_id", ["", "taco-tiny", "custom", "elic-tiny+custom", "x" * 255, "ünï"])
def test_model_ids_round_trip(model_id):
    header = TacoHeader(model_id, bytes(8), 1, 1, "L")
    assert unpack(pack(header, b"")).header == header


@pytest.mark.parametrize("quality", [0, 1, 7, 255])
def test_quality_round_trips(quality):
    header = TacoHeader("taco-tiny", bytes(8), 5, 6, "RGB", quality=quality)
    data = pack(header, PAYLOAD)
    assert data[6] == quality  # right after the model code
    assert unpack(data).header == header


def test_layout():
    data = pack(HEADER, PAYLOAD)
    code = BUILTIN_MODEL_IDS.index("taco-tiny") + 1
    head = MAGIC + bytes([3, code, 0]) + bytes(range(8)) + varint(300) + varint(451) + bytes([0x20])
    assert data == head + zlib.crc32(head + PAYLOAD).to_bytes(4, "big") + PAYLOAD
    # magic 4 + version 1 + model 1 + quality 1 + fingerprint 8 + sizes 2 + 2 + mode/padding 1 + crc 4
    assert unpack(data).header_bytes == 24
    # a model id outside the table: 0xFF, length, UTF-8
    data = pack(TacoHeader("my-model", bytes(8), 10, 10, "L", quality=9), b"")
    assert data[5:16] == b"\xff\x08my-model\x09" and data[26] == 0x21
    assert unpack(data).header_bytes == 24 + 9 - 2
    assert pack(TacoHeader("", bytes(8), 10, 10, "RGB"), b"")[5] == 0


def version_2(header: TacoHeader, payload: bytes) -> bytes:
    """A file as taco wrote it in format version 2: no quality byte."""
    head = (MAGIC + b"\x02" + bytes([BUILTIN_MODEL_IDS.index(header.model_id) + 1]) + header.fingerprint
            + varint(header.height) + varint(header.width) + bytes([0x20]))
    return head + zlib.crc32(payload, zlib.crc32(head)).to_bytes(4, "big") + payload


def test_version_2_files_are_read():
    assert READABLE_VERSIONS == (2, 3) and FORMAT_VERSION == 3
    f = unpack(version_2(HEADER, PAYLOAD))
    assert f.header == TacoHeader(**{**HEADER.__dict__, "version": 2, "quality": 0})
    assert f.payload == PAYLOAD and f.header_bytes == 23
    # the version byte is covered by the CRC like every other: 2 <-> 3 is an error
    data = bytearray(pack(HEADER, PAYLOAD))
    data[4] = 2
    with pytest.raises(TacoFormatError):
        unpack(bytes(data))


def taco_names() -> set[str]:
    """The trained built-ins and the configs of taco's own architectures: every name taco
    registers itself. A backbone registered by a user (``register_architecture``, docs/models.md
    "Adding a backbone") has an architecture of its own, and its names are stored inline."""
    from taco.models.config import BUILTIN_ARCHITECTURES
    from taco.models.registry import MODEL_CONFIGS, PRETRAINED

    return set(PRETRAINED) | {n for n, c in MODEL_CONFIGS.items() if c.architecture in BUILTIN_ARCHITECTURES}


def test_every_registry_name_has_a_one_byte_code():
    names = taco_names()
    assert {"taco-minilm-small-q4", "elic-tiny", "taco-tgic-tiny", "elic-vr"} <= names
    assert names <= set(BUILTIN_MODEL_IDS)
    assert len(set(BUILTIN_MODEL_IDS)) == len(BUILTIN_MODEL_IDS) <= 254
    # append-only: the codes files already use never move
    assert BUILTIN_MODEL_IDS[:4] == ("taco-minilm-small-q4", "taco-minilm-small-q3",
                                     "elic-small-q4", "elic-small-q3")
    assert BUILTIN_MODEL_IDS.index("elic-tiny") == 14


@pytest.fixture()
def backbone_registered(registry_restored):
    """A backbone registered in process (ELIC under a name of its own, config
    ``inline-backbone-tiny``); the architecture tables are left as they were (tests/conftest.py)."""
    from taco.models import ELIC, register_architecture

    register_architecture("inline-backbone", ELIC, configs={"inline-backbone-tiny": {"N": 16, "M": 24}})
    return "inline-backbone-tiny"


def test_a_registered_backbone_name_is_stored_inline(backbone_registered):
    """The one-byte table is taco's alone: a user's backbone needs no code in it, and the
    registry-wide test above still holds with one registered."""
    assert backbone_registered not in BUILTIN_MODEL_IDS
    test_every_registry_name_has_a_one_byte_code()
    header = TacoHeader(backbone_registered, bytes(8), 10, 10, "RGB")
    assert backbone_registered.encode() in pack(header, b"")
    assert unpack(pack(header, b"")).header.model_id == backbone_registered


@pytest.mark.parametrize("model_id", BUILTIN_MODEL_IDS)
def test_every_builtin_model_code_round_trips(model_id):
    """Each code reads back as its id, the last appended one too (an off-by-one at the table's end
    would make every file of the newest model unreadable)."""
    header = unpack(pack(TacoHeader(model_id, bytes(8), 10, 10, "RGB"), b"")).header
    assert header.model_id == model_id


def test_builtin_model_header_is_at_most_32_bytes(sample_image):
    """A real file: the default built-in model on a crop of a sample photo."""
    import taco
    from taco.codec import compress_image
    from taco.resolve import DEFAULT_MODEL

    model = taco.load(DEFAULT_MODEL)
    res = compress_image(sample_image.crop((0, 0, 200, 150)), "", model)
    f = unpack(res.data)
    assert f.header.model_id == DEFAULT_MODEL
    assert res.header_bytes == f.header_bytes == 24 <= 32
    assert len(res.data) == f.header_bytes + f.payload_bytes


def test_typed_error_is_a_value_error():
    assert issubclass(TacoFormatError, ValueError)


@pytest.mark.parametrize("data,match", [
    (b"", "it is empty: 0 bytes"),
    (b"PNG\x89rest", "wrong magic"),
    (b"TACO", "truncated"),
    (MAGIC + bytes([FORMAT_VERSION + 1]),
     "unsupported .taco format version 4: a file from a newer or forked taco; this taco reads versions 2, 3"),
    (MAGIC + bytes([0]), "unsupported .taco format version 0; this taco reads versions 2, 3"),
])
def test_bad_starts(data, match):
    with pytest.raises(TacoFormatError, match=match):
        unpack(data)


def test_version_1_files_are_refused_with_a_clear_message():
    # a version-1 file as taco's development versions wrote it: id length + id, ..., string count, lengths, crc
    v1 = (MAGIC + b"\x01\x09taco-tiny" + bytes(8) + b"\xac\x02\xc3\x03\x00\x01\x01\x04"
          + zlib.crc32(b"abcd").to_bytes(4, "big") + b"abcd")
    with pytest.raises(TacoFormatError, match=r"format version 1 \(an unreleased development version of taco\).*re-encode"):
        unpack(v1)


def test_truncated_at_every_offset():
    data = pack(HEADER, PAYLOAD)
    for n in range(len(data)):
        with pytest.raises(TacoFormatError):
            unpack(data[:n])


def test_trailing_garbage():
    with pytest.raises(TacoFormatError, match="checksum"):
        unpack(pack(HEADER, PAYLOAD) + b"x")


def _flips_detected(data: bytes) -> list[int]:
    undetected = []
    for i in range(len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            try:
                unpack(bytes(flipped))
            except TacoFormatError:
                continue
            undetected.append(8 * i + bit)
    return undetected


def test_every_single_bit_flip_is_detected():
    """The CRC covers the header too: no flip anywhere parses (CRC-32 catches every 1-bit error)."""
    assert _flips_detected(pack(HEADER, PAYLOAD)) == []
    assert _flips_detected(pack(TacoHeader("my model", bytes(8), 70000 % MAX_SIDE, 3, "I;16"),
                                b"\x01" * 12)) == []


def test_every_single_bit_flip_of_a_real_file_is_detected(tiny_elic, sample_image):
    import taco

    data = taco.compress(sample_image.crop((0, 0, 64, 48)), None, tiny_elic)
    assert _flips_detected(data) == []


def test_corrupt_payload_checksum():
    data = bytearray(pack(HEADER, PAYLOAD))
    data[-1] ^= 0xFF
    with pytest.raises(TacoFormatError, match="checksum"):
        unpack(bytes(data))


def _raw(height: int, width: int, mode_code: int = 0, padding: int = 1, model: bytes = b"\x00") -> bytes:
    """A header with a valid CRC (and an empty payload) whatever its fields say."""
    head = (MAGIC + bytes([FORMAT_VERSION]) + model + b"\x00" + bytes(8) + varint(height) + varint(width)
            + bytes([mode_code | padding << 5]))
    return head + zlib.crc32(head).to_bytes(4, "big")


def test_huge_declared_size_is_refused_before_allocation():
    with pytest.raises(TacoFormatError, match="exceeds"):
        unpack(_raw(MAX_SIDE + 1, 10))
    with pytest.raises(TacoFormatError, match="not a valid varint"):
        unpack(MAGIC + bytes([FORMAT_VERSION, 0, 0]) + bytes(8) + b"\xff" * 6)


def test_zero_size_unknown_mode_unknown_padding_unknown_model_code():
    with pytest.raises(TacoFormatError, match="image size"):
        unpack(_raw(0, 10))
    with pytest.raises(TacoFormatError, match="mode"):
        unpack(_raw(10, 10, mode_code=31))
    for padding in (0, 2, 7):
        with pytest.raises(TacoFormatError, match="padding"):
            unpack(_raw(10, 10, padding=padding))
    for code in (len(BUILTIN_MODEL_IDS) + 1, 0xFE):
        with pytest.raises(TacoFormatError, match="unknown built-in model code"):
            unpack(_raw(10, 10, model=bytes([code])))
    assert unpack(_raw(10, 10)).payload == b""
    assert unpack(_raw(10, 10, model=b"\x01")).header.model_id == BUILTIN_MODEL_IDS[0]


def test_sizes_are_shortest_varints():
    """taco writes every varint in its shortest form; a redundant zero byte is refused (one
    image, one file)."""
    head = MAGIC + bytes([FORMAT_VERSION, 0, 0]) + bytes(8) + b"\x8a\x00" + b"\x0a\x20"
    with pytest.raises(TacoFormatError, match="image height is a varint with a redundant zero byte"):
        unpack(head + zlib.crc32(head).to_bytes(4, "big"))
    assert varint(127) == b"\x7f" and varint(128) == b"\x80\x01" and varint(16384) == b"\x80\x80\x01"
    assert unpack(_raw(128, 16384)).header_bytes == 25  # a side of 16,384 px or more: 3 bytes


def test_an_empty_inline_model_id_is_refused():
    """No model id is code 0; 0xFF with length 0 is nothing taco writes."""
    with pytest.raises(TacoFormatError, match="inline model id of 0 bytes"):
        unpack(_raw(1, 1, model=b"\xff\x00"))
    # a table name written inline (not what taco writes) reads as that name
    assert unpack(_raw(1, 1, model=b"\xff\x09taco-tiny")).header.model_id == "taco-tiny"


def test_the_checksum_is_exposed():
    data = pack(HEADER, PAYLOAD)
    f = unpack(data)
    assert f.crc32 == int.from_bytes(data[f.header_bytes - 4 : f.header_bytes], "big")
    assert f.crc32 == zlib.crc32(data[: f.header_bytes - 4] + PAYLOAD)


def test_bytes_appended_behind_a_recomputed_checksum_are_refused(tiny_elic, sample_image):
    """The CRC guards the end of the file; behind a recomputed one the decoder still refuses
    bytes it does not read (each rANS chunk must re-encode to itself)."""
    import taco

    data = taco.compress(sample_image.crop((0, 0, 64, 48)), None, tiny_elic)
    f = unpack(data)
    head = data[: f.header_bytes - 4]
    for extra in (bytes(4), b"\x01\x02\x03\x04" * 2):
        resealed = head + zlib.crc32(f.payload + extra, zlib.crc32(head)).to_bytes(4, "big")
        with pytest.raises(TacoFormatError, match="rANS chunk 1 of 1 is not what the encoder writes"):
            taco.decompress(resealed + f.payload + extra, tiny_elic)
    assert taco.decompress(data, tiny_elic).size == (64, 48)


def test_non_utf8_model_id():
    with pytest.raises(TacoFormatError, match="UTF-8"):
        unpack(_raw(1, 1, model=b"\xff\x02\xff\xfe"))


@pytest.mark.parametrize("model_id", ["evil\x1b[31mred", "two\nlines", "tab\tbed", "nul\x00"])
def test_unprintable_model_ids_are_refused(model_id):
    """A model id is shown to people (taco info, error lines): no escape codes or line breaks."""
    raw = model_id.encode()
    with pytest.raises(TacoFormatError, match="model id has unprintable characters"):
        unpack(_raw(1, 1, model=b"\xff" + bytes([len(raw)]) + raw))
    with pytest.raises(ValueError, match="unprintable"):
        pack(TacoHeader(model_id, bytes(8), 1, 1, "RGB"), b"")


def test_pack_validates_its_inputs():
    with pytest.raises(ValueError, match=r"^image sides must be in 1\.\.32768, got 0x1$"):
        pack(TacoHeader("m", bytes(8), 0, 1, "RGB"), b"")
    with pytest.raises(ValueError, match="^fingerprint must be 8 bytes$"):
        pack(TacoHeader("m", bytes(7), 1, 1, "RGB"), b"")
    with pytest.raises(ValueError, match="^unsupported original mode 'XYZ'$"):
        pack(TacoHeader("m", bytes(8), 1, 1, "XYZ"), b"")
    with pytest.raises(ValueError, match="^model id 'm{256}': it is longer than 255 bytes$"):
        pack(TacoHeader("m" * 256, bytes(8), 1, 1, "RGB"), b"")
    with pytest.raises(ValueError, match="^padding code 8 does not fit in 3 bits$"):
        pack(TacoHeader("m", bytes(8), 1, 1, "RGB", padding=8), b"")
    for quality in (-1, 256):
        with pytest.raises(ValueError, match=f"^quality index {quality} does not fit in one byte$"):
            pack(TacoHeader("m", bytes(8), 1, 1, "RGB", quality=quality), b"")
    with pytest.raises(TypeError, match=r"^payload must be bytes \(one rANS stream\), got list$"):
        pack(HEADER, [b"ab", b"cd"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^expected bytes, got str$"):
        unpack("TACO")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt, kind", [("PNG", "a PNG"), ("JPEG", "a JPEG"), ("WEBP", "a WebP"),
                                       ("GIF", "a GIF"), ("TIFF", "a TIFF"), ("AVIF", "an AVIF")])
def test_an_image_given_for_a_taco_file_is_named(fmt, kind):
    """``taco decompress photo.png`` said only "wrong magic bytes"."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format=fmt)
    with pytest.raises(TacoFormatError, match=f"not a .taco file: it is {kind} image"):
        unpack(buffer.getvalue())
    with pytest.raises(TacoFormatError, match=r"wrong magic bytes"):
        unpack(b"hello, world")


# --------------------------------------------------------------------------- the size bound


class EndlessJunk(io.RawIOBase):
    """A valid file's bytes, then junk without end; counts what is read, and refuses to be read
    to its end (``read()`` with no size never returns)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.given = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        n = len(buffer)
        part = self.data[self.given : self.given + n]
        part += b"\xaa" * (n - len(part))
        buffer[:n] = part
        self.given += n
        return n

    def readall(self) -> bytes:
        raise AssertionError("read to its end")


def test_a_file_longer_than_its_image_allows_is_refused():
    """A 451x300 image (512x320 padded) has at most 64 bits a pixel: bytes past that were only
    caught by the checksum, after the whole file was read and checksummed."""
    data = pack(HEADER, PAYLOAD)
    most = max_file_bytes(len(data) - len(PAYLOAD), 300, 451)
    assert most == len(data) - len(PAYLOAD) + 512 * 320 * MAX_PAYLOAD_BITS_PER_PIXEL // 8
    with pytest.raises(TacoFormatError, match="checksum"):  # at the bound: the checksum says it
        unpack(data + bytes(most - len(data)))
    with pytest.raises(TacoFormatError) as err:
        unpack(data + bytes(most - len(data) + 1))
    assert str(err.value) == (
        f"corrupt .taco file: {most + 1:,} bytes, more than a file of a 451x300 image can have "
        f"({most:,}: the header and 64 bits a pixel): something was appended to it, or its header is corrupt")


def test_a_long_file_is_refused_from_its_size_unread(tmp_path):
    """A valid file with 8 GiB appended (sparse: nothing written) was read whole; now its size
    is taken from the file system and nothing past the header is read."""
    data = pack(HEADER, PAYLOAD)
    path = tmp_path / "x.taco"
    path.write_bytes(data)
    os.truncate(path, 8 << 30)
    tracemalloc.start()
    try:
        with pytest.raises(TacoFormatError, match=f"corrupt .taco file: {8 << 30:,} bytes, more than"):
            info(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000


def test_a_stream_is_read_one_byte_past_the_bound():
    """A pipe or standard input cannot say its size: it is read at most one byte past the bound
    (an endless one was read for ever)."""
    data = pack(HEADER, PAYLOAD)
    most = max_file_bytes(len(data) - len(PAYLOAD), 300, 451)
    stream = EndlessJunk(data)
    with pytest.raises(TacoFormatError, match=r"corrupt \.taco file: more bytes than a file of a 451x300"):
        info(stream)
    assert stream.given == most + 1
    assert read_taco_stream(io.BytesIO(data)) == data  # a file within the bound: all of it


class Asked:
    """A binary stream (a regular file's, given ``fileno``, or bytes) that records the sizes
    ``read(n)`` is asked for."""

    def __init__(self, stream) -> None:  # noqa: ANN001
        self.stream, self.asked = stream, []
        if hasattr(stream, "fileno"):
            self.fileno, self.tell = stream.fileno, stream.tell

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        return self.stream.read(size)


def test_a_small_file_declaring_a_huge_image_is_not_asked_for_its_bound(tmp_path):
    """A 126-byte file declaring 32768x32768 may be 8 GiB long: ``read(8 GiB)`` on an open file
    takes 8 GiB of memory before it reads (``taco info`` ran out of memory). A regular file is
    asked for its size and one byte more; a stream for pieces of READ_PIECE_BYTES."""
    from taco.fileobjects import READ_PIECE_BYTES

    data = pack(TacoHeader("elic-small-q4", bytes(8), MAX_SIDE, MAX_SIDE, "RGB"), bytes(100))
    path = tmp_path / "huge.taco"
    path.write_bytes(data)
    with path.open("rb") as f:
        asked = Asked(f)
        assert read_taco_stream(asked) == data  # type: ignore[arg-type]
    assert max(asked.asked) <= 287 and asked.asked[-1] == 1, asked.asked
    stream = Asked(io.BytesIO(data))
    del stream.fileno  # type: ignore[attr-defined]  # a BytesIO has no file number
    assert read_taco_stream(stream) == data  # type: ignore[arg-type]
    assert max(stream.asked) == READ_PIECE_BYTES, stream.asked


def test_pack_refuses_a_stream_unpack_would_refuse(monkeypatch):
    """The 64 bits a pixel bound was checked only when reading: a model with a large M could
    write a file taco then called "appended to, or its header is corrupt"."""
    from taco.bitstream import container

    monkeypatch.setattr(container, "MAX_PAYLOAD_BITS_PER_PIXEL", 1)  # 512x320 padded: 20,480 bytes
    unpack(pack(HEADER, bytes(512 * 320 // 8)))  # at the bound: written and read
    with pytest.raises(TacoFormatError) as err:
        pack(HEADER, bytes(512 * 320 // 8 + 1))
    assert str(err.value) == (
        "the stream of model 'taco-tiny' exceeds the .taco format's 1 bits a pixel: 20,481 bytes for a "
        "451x300 image (at most 20,480); a model with fewer latent channels (M) would fit")


def test_the_encoder_refuses_a_stream_over_the_bound(monkeypatch, tiny_elic):
    import numpy as np

    import taco
    from taco.bitstream import container

    monkeypatch.setattr(container, "MAX_PAYLOAD_BITS_PER_PIXEL", 0)
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    with pytest.raises(taco.TacoError, match=r"the stream of model .* exceeds the \.taco format's 0 bits a pixel"):
        taco.compress(image, None, tiny_elic)


V2 = r"the rANS stream \(\.taco format version 2, unchunked\) is not what the encoder writes"


CUT_OR_APPENDED = (r"holds bytes the decoder does not read \(data appended to the file\) or lacks "
                   r"bytes the decoder reads \(the file cut short\)")


def _resealed(head: bytes, payload: bytes) -> bytes:
    """A file of ``head`` (up to its CRC) and ``payload`` behind a recomputed CRC."""
    return head + zlib.crc32(payload, zlib.crc32(head)).to_bytes(4, "big") + payload


@pytest.fixture(scope="module")
def v3_and_v2(tiny_elic, sample_image) -> tuple[bytes, bytes]:
    """A small image's version-3 file and the version-2 file of the same stream: under 65,536
    symbols a version-3 stream is one rANS string with no length, as version 2 wrote it."""
    v3 = taco.compress(sample_image.crop((0, 0, 64, 48)), None, tiny_elic)
    f = unpack(v3)
    head = v3[:4] + b"\x02" + v3[5:6] + v3[7 : f.header_bytes - 4]  # no quality byte
    v2 = _resealed(head, f.payload)
    assert unpack(v2).header.version == 2
    return v3, v2


def test_a_version_2_stream_with_bytes_appended_or_cut_is_not_called_a_chunk(tiny_elic, v3_and_v2):
    _, v2 = v3_and_v2
    assert taco.decompress(v2, tiny_elic).size == (64, 48)
    f = unpack(v2)
    head = v2[: f.header_bytes - 4]
    for payload in (f.payload + bytes(4), f.payload[:-4]):
        with pytest.raises(TacoFormatError, match=V2) as err:
            taco.decompress(_resealed(head, payload), tiny_elic)
        assert "rANS chunk" not in str(err.value)
        assert re.search(CUT_OR_APPENDED, str(err.value))


def test_a_version_3_chunk_cut_short_says_so(tiny_elic, v3_and_v2):
    v3, _ = v3_and_v2
    f = unpack(v3)
    head = v3[: f.header_bytes - 4]
    for payload in (f.payload + bytes(4), f.payload[:-4]):
        with pytest.raises(TacoFormatError, match=r"rANS chunk 1 of 1 is not what the encoder writes") as err:
            taco.decompress(_resealed(head, payload), tiny_elic)
        assert "(the file cut short)" in str(err.value)


@pytest.mark.parametrize("data", [b"T", b"TA", b"TAC"])
def test_a_file_cut_inside_its_magic_bytes_is_truncated(data, tmp_path, capsys):
    with pytest.raises(TacoFormatError) as err:
        info(data)
    assert str(err.value) == (f"truncated .taco file: it ends inside the magic bytes "
                              f"(needs 4 bytes, has {len(data)})")
    path = tmp_path / "cut.taco"
    path.write_bytes(data)
    assert main(["info", str(path)]) == 2
    assert capsys.readouterr().err == (f"taco info: error: {path}: truncated .taco file: it ends "
                                       f"inside the magic bytes (needs 4 bytes, has {len(data)})\n")


@pytest.mark.parametrize("data, words", [
    (b"", "not a .taco file (it is empty: 0 bytes)"),
    (b"TAX", "not a .taco file (wrong magic bytes)"),
    (b"X", "not a .taco file (wrong magic bytes)"),
    (b"TACX", "not a .taco file (wrong magic bytes)"),
    (b"TACO", "truncated .taco file: it ends inside the format version (needs 5 bytes, has 4)"),
])
def test_other_short_starts_keep_their_words(data, words):
    with pytest.raises(TacoFormatError) as err:
        info(data)
    assert str(err.value) == words
