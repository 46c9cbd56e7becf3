"""--freeze-base without init_from trains the text modules on the model's untrained random
codec: allowed (tests and smoke runs do it), but a note at the start says so and how to give a
trained one."""

from __future__ import annotations

from taco.cli import main as taco_main
from taco.train import load_config
from taco.train.model_setup import frozen_base_note


def test_a_frozen_random_codec_is_noted(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert taco_main(["train", "--freeze-base", "--set", *tiny(out, max_steps=1)]) == 0
    err = capsys.readouterr().err
    assert ("note: --freeze-base without init_from: the frozen codec is taco-tiny's random "
            "weights (seed 0), untrained;") in err
    assert "--init-from MODEL" in err


def test_no_note_with_init_from_or_another_preset(tmp_path, tiny):
    frozen = tiny(tmp_path, preset="taco-frozen-base")
    assert frozen_base_note(load_config(None, frozen)) is not None
    assert frozen_base_note(load_config(None, [*frozen, "init_from=elic-small-q4"])) is None
    assert frozen_base_note(load_config(None, tiny(tmp_path))) is None
