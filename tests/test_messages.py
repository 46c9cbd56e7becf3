"""taco.messages: the wording every command's counts share, and how text from a file is shown."""

from __future__ import annotations

import pytest

from taco.messages import count, one_line, shown_path, utf8_name, utf8_names


def test_a_count_is_singular_for_one_only():
    assert [count(n, "image") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]
    assert count(1, "file") == "1 file" and count(12, "file") == "12 files"


def test_a_plural_that_is_no_added_s_is_given():
    assert [count(n, "patch", "patches") for n in (0, 1, 6)] == ["0 patches", "1 patch", "6 patches"]


def test_thousands_are_grouped_by_commas():
    assert count(1_234, "step") == "1,234 steps" and count(999, "step") == "999 steps"
    assert count(2_048, "image") == "2,048 images"


def test_did_you_mean_compares_names_case_folded() -> None:
    """--model TACO-MINILM-SMALL-Q4 got no hint (its dotless-i variant did): the names are
    compared case-folded, and the hint names the candidate as it is spelled."""
    from taco.messages import did_you_mean

    assert did_you_mean("TACO-MINILM-SMALL-Q4", ["taco-minilm-small-q4", "elic"]) == \
        " (did you mean 'taco-minilm-small-q4'?)"
    assert did_you_mean("ELIC.pt", ["elic.safetensors"], key=lambda n: n.rsplit(".", 1)[0]) == \
        " (did you mean 'elic.safetensors'?)"


def test_a_file_name_is_written_as_its_utf8_bytes_whatever_the_locale():
    # as LC_ALL=C without Python's UTF-8 mode reads the UTF-8 name café.png, and as a UTF-8 locale reads it
    assert utf8_name("caf\udcc3\udca9.png") == "café.png" == utf8_name("café.png")
    assert utf8_name("bad\udcff.taco") == "bad\\xff.taco"  # not UTF-8 in any locale
    assert utf8_name("x\ud800.taco") == "x\\ud800.taco"  # no bytes at all: as utf8_text writes it


def test_a_file_name_the_locale_reads_but_utf8_does_not_is_written_as_the_locale_read_it(monkeypatch):
    # a Latin-1 locale (none installed here: its file-name encoding stands in): café.png named in
    # Latin-1 bytes reads as café.png there and is written so, not as caf\\xe9.png
    import os
    monkeypatch.setattr(os, "fsencode", lambda name: os.fspath(name).encode("latin-1", "surrogateescape"))
    assert utf8_name("café.png") == "café.png"
    assert utf8_name("cafÃ©.png") == "café.png"  # UTF-8 bytes read as Latin-1: their UTF-8 text



def test_utf8_names_maps_each_reading_to_the_first_name_that_reads_so():
    """utf8_names: the table a captions file's name finds a folder's file by (CaptionedImages'
    files, folder_captions): caf\\udcc3\\udca9.png (LC_ALL=C's spelling) by café.png, the first of
    two names that read the same kept."""
    table = utf8_names(["a.png", "caf\udcc3\udca9.png", "café.png", "bad\udcff.taco"])
    assert table == {"a.png": "a.png", "café.png": "caf\udcc3\udca9.png", "bad\\xff.taco": "bad\udcff.taco"}
    assert utf8_names([]) == {}


def test_did_you_mean_folds_case_as_unicode_does_not_only_lowercase() -> None:
    """Case folding, not lower(): a capital SS is the folded ß (the name spelled as it is)."""
    from taco.messages import did_you_mean

    assert did_you_mean("MASS", ["maß"]) == " (did you mean 'maß'?)"


#: The bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI), which
#: can show the rest of a line reversed, and the invisible word joiner and byte-order mark.
BIDI_AND_INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2060\ufeff"


@pytest.mark.parametrize("char", BIDI_AND_INVISIBLE)
def test_a_name_s_bidi_controls_and_invisible_characters_are_shown_escaped(char):
    r"""``[8/14] h/f\u202egnp.exe.png -> out/...`` showed the rest of the line reversed in a
    terminal or CI log viewer that lays out bidi text, and ``g\u2060h.png`` looked like
    ``gh.png``: shown_path writes them as repr does (as ``taco models`` said such a name), and
    one_line as ``?``, as it does every other character shown_path escapes."""
    name = f"h/f{char}gnp.exe.png"
    assert shown_path(name) == f"h/f\\u{ord(char):04x}gnp.exe.png" == repr(name)[1:-1]
    assert shown_path(shown_path(name)) == shown_path(name)  # showing it again changes nothing
    assert one_line(name) == "h/f?gnp.exe.png"


@pytest.mark.parametrize("text", ["\U0001f469\u200d\U0001f469\u200d\U0001f467 family.png",  # one emoji
                                  "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.png",  # Persian: a ZWNJ
                                  "\u0915\u094d\u200d\u0937.png",  # Devanagari: a ZWJ
                                  "\u0e20\u0e32\u0e29\u0e32\u200b\u0e44\u0e17\u0e22",  # Thai: a ZWSP between words
                                  "\u0646\u0645\u0648\u0630\u062c \u200f(RTL)",  # Arabic: an RLM
                                  "\u05d3\u05d5\u05d7 \u200e2024\u200e.png",  # Hebrew: LRMs
                                  "\u0661\u061c-\u0662"])  # an ALM
def test_the_joiners_zero_width_space_and_bidi_marks_are_kept_by_every_escaper(text):
    """Emoji and Persian or Indic words need U+200C and U+200D, Thai text breaks words with
    U+200B, Arabic and Hebrew names hold ALM, LRM and RLM (U+061C, U+200E, U+200F), which
    cannot reverse a line as an override does: neither shown_path nor one_line (which wrote
    them as ``?``) changes them. b13ed926 escaped the zero-width space and the marks, so a Thai
    or Arabic label read ``\\u200b`` in every line, and ``taco evaluate --label`` refused it."""
    assert shown_path(text) == text == one_line(text)


def test_one_line_hides_every_character_shown_path_escapes():
    escaped = [chr(c) for c in range(0x10000) if shown_path(chr(c)) != chr(c)]
    assert len(escaped) == 32 + 33 + 2 + 11 + 2048  # C0, DEL and C1, U+2028/9, bidi and invisible, surrogates
    assert [c for c in escaped if one_line(f"a{c}b") == f"a{c}b"] == []


@pytest.mark.parametrize("text, said", [
    ("JPEG | ours", None), ("\u00e9l\u00e8ve \u6f22\u5b57 \u00a0", None), ("a\udcffb", None),
    ("\u0e20\u0e32\u0e29\u0e32\u200b\u0e44\u0e17\u0e22", None),  # Thai, a ZWSP between its words
    ("\u0646\u0645\u0648\u0630\u062c \u0639\u0631\u0628\u064a \u200f(RTL)", None),  # Arabic, an RLM
    ("\u200eA\u061cB", None), ("a\u2060b\ufeff", None),  # LRM, ALM, word joiner, BOM: shown escaped
    ("a\x00b", "a control character at character 2, U+0000"),
    ("ab\x7f", "a control character at character 3, U+007F"),
    ("Tab\tbed", "a control character at character 4, U+0009"),
    ("L\x85", "a control character at character 2, U+0085"),
    ("\udcff\x1b", "a control character at character 2, U+001B"),  # the surrogate is lone_surrogate's
    ("a\u2029", "a paragraph separator at character 2, U+2029"),
    ("photo\u202egnp.exe", "a right-to-left override at character 6, U+202E"),
    ("\u2066x", "a left-to-right isolate at character 1, U+2066"),
    ("ab\u202a", "a left-to-right embedding at character 3, U+202A"),
])
def test_unprintable_names_the_first_character_that_breaks_or_reverses_a_line(text, said):
    """What ``--label``, ``--anchor``, ``--title``, ``--captioner`` and ``fixed:TEXT`` refuse:
    control characters, line breaks and the bidi embeddings, overrides and isolates; text of
    any script with the marks it needs is taken (b13ed926 and 6bf5360 refused the RLM of an
    Arabic label and the ZWSP of a Thai one, 'give printable text')."""
    from taco.messages import unprintable

    assert unprintable(text) == said


@pytest.mark.parametrize("name", ["runs/x", "my runs/r 1", "it's here", "-x", "--out dir", "-", "a;b $(rm)"])
def test_a_shell_word_is_read_by_a_shell_as_the_path_and_never_as_an_option(name):
    """Paths were pasted into suggested commands as they are: ``--resume my runs/r 1`` read as
    two arguments, ``-x`` as an option."""
    import shlex
    from pathlib import Path

    from taco.messages import shell_word

    word = shell_word(Path(name))
    assert shlex.split(word) == [shlex.split(word)[0]]  # one word
    read = shlex.split(word)[0]
    assert Path(read) == Path(name) and not read.startswith("-"), word
    assert shell_word(name) == word and shown_path(word) == word


def test_a_plain_path_is_its_own_shell_word():
    from taco.messages import shell_word

    assert shell_word("runs/x") == "runs/x" and shell_word("/data/coco/val2014") == "/data/coco/val2014"
    assert shell_word("my runs/r 1") == "'my runs/r 1'" and shell_word("-x") == "./-x"


def test_a_name_shown_escaped_is_given_in_words_or_as_shown():
    """A name with a line feed cannot be pasted (its shown form names another file): the
    caller's words, else its shown form as one word."""
    from taco.messages import shell_word

    assert shell_word("my\nrun", "naming this run") == "naming this run"
    assert shell_word("my \x1b[2Jrun") == "'my \\x1b[2Jrun'"
    assert shell_word("-\nx") == "'./-\\nx'"
    assert shell_word("my run", "naming this run") == "'my run'"  # shown as it is: the words unused
