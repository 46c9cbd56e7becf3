"""A caption with a lone surrogate (U+D800..U+DFFF) is no text: UTF-8 cannot encode it, and the
tokenizers raised ``TypeError: TextEncodeInput must be Union[...]`` from the caption worker thread.
Python makes one of a JSON ``\\ud800`` escape and of a command-line argument's bytes that are not
UTF-8 (surrogateescape: ``\\xff`` -> ``\\udcff``). Every way in refuses it as taco's own error,
naming where it is: ``normalize_caption`` (API, batch, CLI, training), the captions-file reader
(the file and line), ``taco import-captions``; a sidecar's bytes are decoded strictly and never
give one."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

import taco
from taco.captions_file import (
    CaptionsFileError,
    is_caption_line,
    read_captions_file,
    read_sidecar,
)
from taco.cli import main
from taco.errors import TacoError
from taco.evaluation.import_captions import CaptionImportError, read_caption_json
from taco.messages import lone_surrogate
from taco.models import create_model
from taco.samples import SAMPLES_DIR
from taco.text import get_text_encoder
from taco.text.base import CaptionTextError, normalize_caption
from taco.text.worker import encode_captions_async

CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"
#: What Python makes of ``--caption "$(printf 'cat \xff')"``: the byte as U+DCFF.
ARGV_CAPTION = os.fsdecode(b"cat \xff")


@pytest.fixture(scope="module")
def model():
    return create_model("taco-tiny", seed=0)


@pytest.fixture
def photos(tmp_path):
    """Two small photos, a.png and b.png."""
    for name in "ab":
        Image.open(CHELSEA).resize((64, 48)).save(tmp_path / f"{name}.png")
    return tmp_path


def test_lone_surrogate_says_where_and_what():
    assert ARGV_CAPTION == "cat \udcff"
    assert lone_surrogate("a cat 😺 on a sofa, café") is None  # a pair from JSON is one character
    assert lone_surrogate(json.loads('"\\ud83d\\ude3a"')) is None
    assert lone_surrogate(ARGV_CAPTION) == (
        "a lone surrogate at character 5, U+DCFF (a \\udcff escape, or the byte 0xff of text that is not UTF-8)")
    assert lone_surrogate("ab\ud800") == "a lone surrogate at character 3, U+D800 (a \\ud800 escape: no character)"
    assert lone_surrogate("\ude3a\ud83d").startswith("a lone surrogate at character 1, U+DE3A")  # reversed pair


@pytest.mark.parametrize("caption", [ARGV_CAPTION, "cat \ud800", "\udfff"])
def test_normalize_caption_refuses_a_lone_surrogate_as_taco_error(caption):
    with pytest.raises(CaptionTextError, match="lone surrogate at character") as info:
        normalize_caption(caption)
    assert isinstance(info.value, TacoError) and isinstance(info.value, ValueError)
    text = str(info.value)
    text.encode("utf-8")  # the message itself prints anywhere
    assert repr(caption) in text


def test_the_message_shows_a_long_caption_cut():
    caption = "a tabby cat " * 20 + "\udcff"
    with pytest.raises(CaptionTextError) as info:
        normalize_caption(caption)
    shown = str(info.value).split(" holds ")[0]
    assert shown.startswith("caption 'a tabby cat") and shown.endswith("...") and len(shown) == len("caption ") + 80
    assert f"at character {len(caption)}, U+DCFF" in str(info.value)


def test_the_encoders_and_the_caption_worker_refuse_it_before_the_tokenizer():
    encoder = get_text_encoder("clip-tiny")
    with pytest.raises(CaptionTextError):
        encoder.encode(["a cat", "cat \ud800"])
    with pytest.raises(CaptionTextError):  # at once, on the caller's thread, not from the future
        encode_captions_async(encoder, [ARGV_CAPTION])


def test_compress_and_compress_batch_refuse_it(model):
    with pytest.raises(CaptionTextError, match=r"'cat \\udcff'"):
        taco.compress(CHELSEA, ARGV_CAPTION, model)
    with pytest.raises(CaptionTextError, match=r"'cat \\ud800'"):
        taco.compress_batch([CHELSEA, CHELSEA], ["a cat", "cat \ud800"], model)
    assert taco.compress(CHELSEA, "a cat", model)  # the model still codes


def test_cli_caption_argument_not_utf8_is_one_line_per_image(photos, capsys):
    """``taco compress a.png b.png --caption "$(printf 'cat \\xff')"``: was a traceback, exit 1."""
    out = photos / "out"
    status = main(["compress", str(photos / "a.png"), str(photos / "b.png"), "--caption", ARGV_CAPTION,
                   "-m", "taco-tiny", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and "TextEncodeInput" not in err
    for name in ("a.png", "b.png"):
        assert f"{photos / name}: caption 'cat \\udcff' holds a lone surrogate at character 5" in err
    assert "2 of 2 images failed" in err
    assert not out.exists() or not list(out.glob("*.taco"))


def test_cli_a_bad_caption_skips_only_its_image(photos, capsys, monkeypatch):
    """A per-image error (taco.cli.common.INPUT_ERRORS): the other images are still coded."""
    from taco.cli.inputs import CaptionSource

    found = CaptionSource.__call__
    monkeypatch.setattr(CaptionSource, "__call__",
                        lambda self, image: "cat \ud800" if image.name == "a.png" else found(self, image))
    out = photos / "out"
    status = main(["compress", str(photos / "a.png"), str(photos / "b.png"), "--caption", "a cat",
                   "-m", "taco-tiny", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 3 and "Traceback" not in err
    assert f"{photos / 'a.png'}: caption 'cat \\ud800'" in err and "1 of 2 images failed" in err
    assert (out / "b.taco").is_file() and not (out / "a.taco").exists()


LINE = '{"image": "a.png", "captions": ["a cat", "cat \\ud800"]}\n'  # valid JSON, no valid text


def test_the_captions_file_reader_names_the_file_and_line(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_text('{"image": "b.png", "caption": "fine"}\n' + LINE)
    with pytest.raises(CaptionsFileError, match=r":2: a caption of 'a.png' holds a lone surrogate at "
                                                r"character 5, U\+D800") as info:
        read_captions_file(path)
    assert str(info.value).startswith(str(path))
    assert not is_caption_line(LINE) and is_caption_line(LINE.replace("\\ud800", "\\u00e9"))


@pytest.mark.parametrize("named", [False, True], ids=["folder captions.jsonl", "--captions FILE"])
def test_cli_refuses_the_captions_file_before_any_work(photos, capsys, named):
    path = photos / ("mine.jsonl" if named else "captions.jsonl")
    path.write_text(LINE)
    out = photos / "out.taco"
    status = main(["compress", str(photos / "a.png"), *(["--captions", str(path)] if named else []),
                   "-m", "taco-tiny", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert err.strip() == (f"taco compress: error: {path}:1: a caption of 'a.png' holds a lone surrogate at "
                           "character 5, U+D800 (a \\ud800 escape: no character), which UTF-8 cannot "
                           "encode; fix or remove it")
    assert not out.exists()


@pytest.mark.parametrize("raw", [b"cat \xff", b"cat \xed\xa0\x80", b"\xef\xbb\xbfcat \xed\xbf\xbf"],
                         ids=["not UTF-8", "encoded surrogate", "BOM, encoded surrogate"])
def test_a_sidecar_never_gives_a_lone_surrogate(photos, capsys, raw):
    """Read strictly (no surrogateescape): bytes that are not UTF-8, an encoded surrogate (CESU-8)
    included, are refused naming the sidecar."""
    sidecar = photos / "a.txt"
    sidecar.write_bytes(raw)
    with pytest.raises(CaptionsFileError, match="not readable UTF-8 text"):
        read_sidecar(sidecar)
    status = main(["compress", str(photos / "a.png"), "-m", "taco-tiny", "-o", str(photos / "a.taco")])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and f"{sidecar}: cannot read the caption" in err


def test_import_captions_uses_the_same_check(tmp_path):
    path = tmp_path / "ofa.json"
    path.write_text('{"kodim01.png": "  a door \\ud800", "kodim02.png": "a cat"}')
    with pytest.raises(CaptionImportError, match=r"a caption of 'kodim01.png' holds a lone surrogate at "
                                                 r"character 10, U\+D800 .*which UTF-8 cannot write"):
        read_caption_json(path)
    path.write_text('{"kodim\\udc80.png": "a door"}')
    with pytest.raises(CaptionImportError, match=r"the image name 'kodim\\udc80.png' holds a lone surrogate "
                                                 r"at character 6, U\+DC80"):
        read_caption_json(path)
