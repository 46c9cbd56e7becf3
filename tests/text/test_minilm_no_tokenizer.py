"""A MiniLM folder without tokenizer.json said "MiniLM: cannot load 'DIR': No such file or
directory (os error 2)" (the tokenizers library's words, naming no file); it now names it.
(tests/text/test_minilm.py's check of the same case passed on the folder's name alone.)"""

from __future__ import annotations

import shutil

import pytest

from taco.text import TextEncoderUnavailable
from taco.text.minilm import MiniLMTextEncoder, minilm_path


def test_a_folder_without_tokenizer_json_names_it(tmp_path) -> None:
    folder = tmp_path / "minilm"
    shutil.copytree(minilm_path(), folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(TextEncoderUnavailable) as caught:
        MiniLMTextEncoder(folder)
    assert str(caught.value) == f"MiniLM: {str(folder)!r} has no tokenizer.json"
