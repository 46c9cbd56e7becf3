"""DataLoader workers are started once per run (persistent) and still draw, every epoch, the
samples (crops, flips, captions) that no workers or workers re-created each epoch draw: the
epoch travels with each index (:class:`taco.train.distributed.EpochIndices`)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from taco.data import CaptionedFolder, collate, train_transform
from taco.distributed import DistEnv
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import Trainer, load_config
from taco.train.distributed import EpochIndices, ResumableSampler


def _draws(batches) -> list[tuple[torch.Tensor, list[str], list[str]]]:
    return [(b.images.clone(), list(b.captions), list(b.names)) for b in batches]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        torch.equal(x[0], y[0]) and x[1:] == y[1:] for x, y in zip(a, b, strict=True))


def test_persistent_workers_draw_each_epoch_as_no_workers_do() -> None:
    ds = CaptionedFolder(SAMPLES, transform=train_transform(32, hflip=True), seed=5)
    sampler = ResumableSampler(ds, DistEnv(), seed=5)
    loader = DataLoader(ds, batch_size=2, sampler=EpochIndices(sampler, ds), num_workers=2,
                        persistent_workers=True, collate_fn=collate, generator=torch.Generator())
    plain, persistent = [], []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        ds.set_epoch(epoch)
        plain.append(_draws(collate([ds[i] for i in list(sampler)[k:k + 2]])
                            for k in (0, 2)))
        persistent.append(_draws(loader))
    assert all(_same(p, q) for p, q in zip(plain, persistent, strict=True))
    assert not _same(persistent[0], persistent[1])  # a new epoch draws anew
    # an item named with its epoch is that epoch's draw, whatever set_epoch said last
    ds.set_epoch(0)
    item = ds[(2, 1)]
    ds.set_epoch(2)
    assert torch.equal(item.image, ds[1].image) and item.caption == ds[1].caption


def _trainer(tiny, out, workers: int) -> Trainer:
    extra = {"workers": workers, "preset": "elic", "model": "elic-tiny", "k_j": 0, "data.hflip": True}
    return Trainer(load_config(None, tiny(out, **extra)))


def test_trainer_batches_are_the_same_for_persistent_workers_and_after_a_resume(tiny, tmp_path):
    none, two = _trainer(tiny, tmp_path / "w0", 0), _trainer(tiny, tmp_path / "w2", 2)
    assert none.loader is not None and not none.loader.persistent_workers
    assert two.loader is not None and two.loader.persistent_workers
    for epoch in range(3):
        for t in (none, two):
            t.progress.epoch, t.progress.batch_in_epoch = epoch, 0
        unbroken = _draws(none.batches())
        assert _same(unbroken, _draws(two.batches())), epoch
        two.progress.batch_in_epoch = 1  # resumed after the epoch's first batch
        assert _same(unbroken[1:], _draws(two.batches())), epoch
