"""taco import-captions names its files as given in every message, not only in read errors
(Review R5a #4: `./-` holding a list of names was "- is a list of 1 image names ...", and a
caption that is no string "-: the captions of ...", Path("./-") being "-")."""

from __future__ import annotations

import json

import pytest

OFA = {"kodim01.png": "a brick building with red doors and windows"}


@pytest.mark.parametrize(("content", "said"), [
    (["a.png"], "./- is a list of 1 image names without captions"),
    ({"a.png": 5}, "./-: the captions of 'a.png' must be a string or a list of strings"),
    ({"/a.png": "x"}, "./-: the image name '/a.png' "),
    ({}, './-: expected {"NAME": "CAPTION", ...}'),
])
def test_the_captions_file_is_named_as_given(eval_main, tmp_path, monkeypatch, capsys, content, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_text(json.dumps(content))
    assert eval_main(["import-captions", "./-", "-o", "ic.jsonl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"taco import-captions: error: {said}"), err


@pytest.mark.parametrize(("names", "said"), [
    ({"a": 1}, './-: expected a non-empty JSON list of image names ["NAME", ...]'),
    (["missing.png"], "1 of the 1 images in ./- have no caption in ./ofa.json"),
])
def test_the_image_list_is_named_as_given(eval_main, tmp_path, monkeypatch, capsys, names, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ofa.json").write_text(json.dumps(OFA))
    (tmp_path / "-").write_text(json.dumps(names))
    assert eval_main(["import-captions", "./ofa.json", "--images", "./-", "-o", "ic.jsonl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"taco import-captions: error: {said}"), err
