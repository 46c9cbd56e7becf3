"""taco.text.hf finds and downloads models where huggingface_hub's ``constants`` say *now*.

huggingface_hub before 1.0 (pyproject's floor is 0.23) defaults its cache folder and endpoint to
copies of ``constants.HF_HUB_CACHE`` / ``constants.ENDPOINT`` taken when its modules were
imported (``file_download.HF_HUB_CACHE``, ``hf_api.ENDPOINT``): a cached snapshot in the cache
taco's own error names was not found, and a download went to another cache and hub. taco now
passes both explicitly. Here the installed huggingface_hub's functions are wrapped to default to
such stale copies, as 0.23's do, whatever version is installed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from taco.errors import TacoError
from taco.text import hf

REPO, SHA = "org/model", "2" * 40


class Missing(TacoError, RuntimeError):
    pass


@pytest.fixture
def stale_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """constants name the cache tmp_path/hub and the endpoint http://now.test; huggingface_hub's
    functions default to the stale tmp_path/stale and http://stale.test. Returns the cache."""
    import huggingface_hub
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "ENDPOINT", "http://now.test")
    real_lookup = huggingface_hub.try_to_load_from_cache

    def lookup(repo_id: str, filename: str, cache_dir: Any = None, **kwargs: Any) -> Any:
        return real_lookup(repo_id, filename, cache_dir=cache_dir or str(tmp_path / "stale"), **kwargs)

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lookup)
    return cache


def _snapshot(cache: Path) -> Path:
    snapshot = cache / f"models--{REPO.replace('/', '--')}" / "snapshots" / SHA
    snapshot.mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        (snapshot / f).write_text("{}")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text(SHA)
    return snapshot


def test_a_snapshot_in_the_cache_constants_name_now_is_found(stale_hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = _snapshot(stale_hub)
    assert hf.model_folder(REPO, what="X", fix="FIX", error=Missing) == str(snapshot)


def test_a_download_asks_the_endpoint_and_fills_the_cache_constants_name_now(stale_hub, tmp_path,
                                                                           monkeypatch):
    import huggingface_hub

    asked: list[tuple[str, ...]] = []

    class Api:
        def __init__(self, endpoint: str | None = None) -> None:
            self.endpoint = endpoint or "http://stale.test"

        def model_info(self, name: str, timeout: float) -> Any:
            asked.append(("info", self.endpoint))
            return SimpleNamespace(sha=SHA, siblings=[SimpleNamespace(rfilename=f)
                                                      for f in ("config.json", "model.safetensors")])

    def download(name: str, filename: str, revision: str, cache_dir: Any = None,
                 endpoint: str | None = None) -> str:
        endpoint = endpoint or "http://stale.test"
        folder = Path(cache_dir or tmp_path / "stale") / f"models--{name.replace('/', '--')}" / "snapshots" / revision
        folder.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_text("{}")
        asked.append(("file", endpoint))
        return str(folder / filename)

    monkeypatch.setattr(huggingface_hub, "HfApi", Api)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(hf, "hub_unreachable", lambda: None)
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    folder = hf.model_folder(REPO, what="X", fix="FIX", error=Missing)
    assert folder == str(stale_hub / "models--org--model" / "snapshots" / SHA)
    assert asked == [("info", "http://now.test"), ("file", "http://now.test"), ("file", "http://now.test")]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # and found there offline after
    assert hf.model_folder(REPO, what="X", fix="FIX", error=Missing) == folder
