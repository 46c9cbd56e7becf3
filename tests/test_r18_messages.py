"""Two messages of today's changes (review R18): an unknown text encoder that is a known one in
other capitals (MiniLM, as ``taco models`` prints it) got the hint about bringing another BERT,
and ``taco import-captions`` of ``[]`` said "got an empty object"."""

import pytest

import taco.cli
from taco.errors import TacoValueError
from taco.text_specs import text_encoder_arguments


@pytest.mark.parametrize("name", ["MiniLM", "CLIP", "Clip-Tiny", "clipp"])
def test_a_known_name_in_other_capitals_is_a_typo(name):
    with pytest.raises(TacoValueError) as e:
        text_encoder_arguments(name, {})
    assert str(e.value) == f"unknown text encoder {name!r}; known: clip, clip-tiny, minilm"


def test_another_model_still_gets_the_hint():
    with pytest.raises(TacoValueError, match="another BERT"):
        text_encoder_arguments("mpnet", {})


@pytest.mark.parametrize(("text", "got"), [("[]", "an empty list"), ("{}", "an empty object"), ("5", "int")])
def test_import_captions_says_what_it_got(tmp_path, capsys, text, got):
    source = tmp_path / "captions.json"
    source.write_text(text)
    assert taco.cli.main(["import-captions", str(source), "-o", str(tmp_path / "c.jsonl")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"objects; got {got}")
