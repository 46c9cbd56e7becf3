"""A captioner named by its Hugging Face id loads offline from a complete snapshot in the cache
(taco.text.hf.model_folder), and one without its processor or tokenizer files is refused as not
complete."""

from __future__ import annotations

import shutil

import pytest

from taco.evaluation.caption import Captioner, CaptionerUnavailable


def cached_snapshot(captioner_dir, cache, monkeypatch):
    """``captioner_dir`` as the Hugging Face cache holds ``someone/tiny-blip`` (offline): its
    snapshot folder."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    repo = cache / "models--someone--tiny-blip"
    snapshot = repo / "snapshots" / ("0" * 40)
    shutil.copytree(captioner_dir, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    return snapshot


def test_a_cached_captioner_loads_offline(tiny_captioner_dir, tiny_folder, tmp_path, monkeypatch):
    from taco.images import load_image

    snapshot = cached_snapshot(tiny_captioner_dir, tmp_path, monkeypatch)
    image = load_image(sorted(tiny_folder.glob("*.png"))[0])
    cached = Captioner("someone/tiny-blip", max_new_tokens=4, allow_download=False)
    assert cached([image]) == Captioner(tiny_captioner_dir, max_new_tokens=4)([image])
    for f in ("preprocessor_config.json", "processor_config.json"):
        (snapshot / f).unlink(missing_ok=True)
    with pytest.raises(CaptionerUnavailable, match=r"not \(completely\) in the Hugging Face cache"):
        Captioner("someone/tiny-blip", allow_download=False)


def test_a_cached_captioner_without_tokenizer_files_is_not_complete(tiny_captioner_dir, tmp_path, monkeypatch):
    snapshot = cached_snapshot(tiny_captioner_dir, tmp_path, monkeypatch)
    (snapshot / "tokenizer.json").unlink()
    (snapshot / "vocab.txt").unlink(missing_ok=True)
    with pytest.raises(CaptionerUnavailable, match=r"not \(completely\) in the Hugging Face cache"):
        Captioner("someone/tiny-blip", allow_download=False)
