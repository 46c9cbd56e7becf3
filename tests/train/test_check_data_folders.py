"""check_data_folders checks ``val.root`` on the main process only
(the other ranks of a torchrun job leave it to rank 0, which says it once)."""

from __future__ import annotations

import pytest

from taco.train.config import check_data_folders, load_config


@pytest.fixture
def missing_val_root(tiny, tmp_path):
    """A validating run's config whose ``val.root`` is not there (``data.root`` is)."""
    return tmp_path / "gone", load_config(None, tiny(tmp_path / "run", **{"val.root": tmp_path / "gone",
                                                                          "val.crop": 64}))


def torchrun(monkeypatch, rank: int) -> None:
    """The environment torchrun gives rank ``rank`` of a job of 2 processes."""
    for name, value in {"RANK": rank, "LOCAL_RANK": rank, "WORLD_SIZE": 2,
                        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": 29500}.items():
        monkeypatch.setenv(name, str(value))


def test_a_missing_val_root_is_left_to_rank_0_on_other_ranks(missing_val_root, monkeypatch):
    _, cfg = missing_val_root
    assert cfg.val.enabled
    torchrun(monkeypatch, rank=1)
    check_data_folders(cfg)  # no refusal: rank 0 says it


def test_a_missing_val_root_is_refused_on_rank_0(missing_val_root, monkeypatch):
    gone, cfg = missing_val_root
    torchrun(monkeypatch, rank=0)
    with pytest.raises(FileNotFoundError, match=f"^val.root: {gone}: no such folder"):
        check_data_folders(cfg)
