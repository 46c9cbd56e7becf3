"""img/s (log line and log.jsonl img_per_s) counts the training steps of its window alone: the
seconds of a checkpoint save or a validation between two records are left out (a slow
validation showed as a false drop, 14 -> 2.3 img/s, in the record after it)."""

from __future__ import annotations

import json
import time

from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import load_config, train
from taco.train.trainer import Trainer

PAUSE = 1.0  # seconds of each slow save and validation: the checks below scale with it


def test_a_slow_validation_and_save_do_not_lower_the_next_records_img_per_s(tmp_path, tiny, monkeypatch):
    save = Trainer._save_together

    def slow_validation(self):
        time.sleep(PAUSE)
        return PAUSE

    def slow_save(self, final=False):
        time.sleep(PAUSE)
        return save(self, final=final)

    monkeypatch.setattr(Trainer, "_validate_together", slow_validation)
    monkeypatch.setattr(Trainer, "_save_together", slow_save)
    out = tmp_path / "run"
    cfg = load_config(None, tiny(out, preset="elic", model="elic-tiny", k_j=0, max_steps=3,
                                 ckpt_interval=1, **{"val.root": SAMPLES, "val.interval": 1,
                                                     "val.images": 1, "val.crop": 64}))
    train(cfg)
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "train"]
    assert [r["step"] for r in steps] == [1, 2, 3]
    for before, after in zip(steps[:-1], steps[1:], strict=True):
        window = cfg.batch_size / after["img_per_s"]  # seconds the record's img/s counts
        between = after["wall_time_s"] - before["wall_time_s"]  # a save and a validation in it
        assert between > 2 * PAUSE and window < between - 1.5 * PAUSE, (window, between)
