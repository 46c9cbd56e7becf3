"""Mutation round 10 (training): training's save builds the entropy-coder tables once per save,
and the checkpoint written after the state takes them as they are (no second rebuild)."""
from __future__ import annotations

from taco.train import Trainer, load_config
from taco.train.checkpoints import CHECKPOINT_FILE


def test_each_save_of_a_run_builds_the_tables_once(tmp_path, tiny, monkeypatch):
    trainer = Trainer(load_config(None, tiny(tmp_path / "run", model="elic-tiny", preset="elic", k_j=0,
                                             max_steps=1, ckpt_interval=1, **{"val.images": 0})))
    calls: list[bool] = []
    update = trainer.model.update

    def counted(*args, **kwargs):
        calls.append(True)
        return update(*args, **kwargs)

    monkeypatch.setattr(trainer.model, "update", counted)
    try:
        trainer.fit()
    finally:
        trainer.close()
    assert (tmp_path / "run" / CHECKPOINT_FILE).is_file()
    assert len(calls) == 1, len(calls)  # one save (the final one): one build, not two
