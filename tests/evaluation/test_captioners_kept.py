"""auto_caption's captioners: one is kept per folder as it is on disk (a
folder rewritten in place is loaded again), by its resolved path (a relative name after a
chdir is another folder's), at most CAPTIONERS_KEPT of them, and clear_captioner_cache frees
them."""

from __future__ import annotations

import gc
import shutil
import weakref
from pathlib import Path

import pytest

from taco.evaluation import caption
from taco.evaluation.caption import CAPTIONERS_KEPT, Captioner, auto_caption, clear_captioner_cache
from taco.images import load_image


@pytest.fixture(autouse=True)
def no_kept_captioners():
    clear_captioner_cache()
    yield
    clear_captioner_cache()


@pytest.fixture
def loads(monkeypatch) -> list[weakref.ref]:
    """A weak reference to every Captioner auto_caption loads, in order."""
    made: list[weakref.ref] = []

    class Counted(Captioner):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    monkeypatch.setattr(caption, "Captioner", Counted)
    return made


def _copy(tiny_captioner_dir: Path, to: Path, seed: int | None = None) -> Path:
    """A copy of the tiny captioner at ``to``, its weights drawn again from ``seed``."""
    shutil.copytree(tiny_captioner_dir, to)
    if seed is not None:
        _rewrite(to, seed)
    return to


def _rewrite(folder: Path, seed: int) -> None:
    """Other weights saved into ``folder`` in place (a fine-tune saved where it came from)."""
    import torch
    from transformers import BlipForConditionalGeneration

    config = BlipForConditionalGeneration.from_pretrained(folder).config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        BlipForConditionalGeneration(config).eval().save_pretrained(folder)


def _fresh(folder: Path, paths: list[Path]) -> list[str]:
    return Captioner(folder)([load_image(p) for p in paths])


def test_a_folder_rewritten_in_place_is_loaded_again(tiny_captioner_dir, tiny_folder, tmp_path, loads):
    paths = sorted(tiny_folder.glob("*.png"))
    folder = _copy(tiny_captioner_dir, tmp_path / "blip")
    before = auto_caption(paths, folder)
    assert auto_caption(paths, str(folder)) == before and len(loads) == 1  # unchanged: kept
    _rewrite(folder, seed=3)
    after = _fresh(folder, paths)
    assert after != before  # else the test shows nothing
    assert auto_caption(paths, folder) == after  # was the old weights' captions
    assert len(loads) == 2
    gc.collect()
    assert loads[0]() is None  # the old weights' captioner is not kept beside the new one


def test_a_relative_name_is_the_folder_it_names_now(tiny_captioner_dir, tiny_folder, tmp_path,
                                                     monkeypatch, loads):
    paths = sorted(tiny_folder.glob("*.png"))[:2]
    _copy(tiny_captioner_dir, tmp_path / "a" / "blip")
    other = _copy(tiny_captioner_dir, tmp_path / "b" / "blip", seed=3)
    monkeypatch.chdir(tmp_path / "a")
    first = auto_caption(paths, "blip")
    monkeypatch.chdir(tmp_path / "b")
    assert auto_caption(paths, "blip") == _fresh(other, paths) != first  # was a/blip's captioner
    monkeypatch.chdir(tmp_path)
    assert auto_caption(paths, Path("b") / "blip") == _fresh(other, paths)  # b/blip, kept
    assert len(loads) == 2


def test_captioners_kept_are_bounded(tiny_captioner_dir, tiny_folder, tmp_path, loads):
    paths = sorted(tiny_folder.glob("*.png"))[:1]
    for i in range(CAPTIONERS_KEPT + 3):
        folder = _copy(tiny_captioner_dir, tmp_path / f"blip{i}")
        auto_caption(paths, folder)
        shutil.rmtree(folder)
    gc.collect()
    assert len(loads) == CAPTIONERS_KEPT + 3
    assert sum(ref() is not None for ref in loads) <= CAPTIONERS_KEPT  # every one was kept
    assert all(ref() is None for ref in loads[:3])


def test_clear_captioner_cache_frees_them(tiny_captioner_dir, tiny_folder, loads):
    paths = sorted(tiny_folder.glob("*.png"))[:1]
    caps = auto_caption(paths, tiny_captioner_dir)
    assert auto_caption(paths, tiny_captioner_dir) == caps and len(loads) == 1
    clear_captioner_cache()
    gc.collect()
    assert loads[0]() is None
    assert auto_caption(paths, tiny_captioner_dir) == caps and len(loads) == 2  # loaded again
