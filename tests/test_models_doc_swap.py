"""docs/models.md's swap of the built-ins ("The swap, in order") is followed after a GPU slice
returns a checkpoint: what it names must exist and be enough. A CPU rehearsal of that path found
step 8's list of tests to look at first missing seven files that fail, step 5 missing two tests
that need the old weights, and step 2 silent about the ``docs_ref`` import ruff then flags."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def swap_steps() -> dict[int, str]:
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    section = text.split("### The swap, in order", 1)[1].split("\n### ", 1)[0]
    parts = re.split(r"^(\d+)\. ", section, flags=re.M)
    return {int(n): body for n, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_every_test_file_the_swap_names_exists():
    named = set(re.findall(r"tests/[\w/]+\.py", "".join(swap_steps().values())))
    assert named and not [p for p in sorted(named) if not (ROOT / p).is_file()]


def test_step_8_names_the_tests_the_rehearsal_saw_fail():
    step8 = " ".join(swap_steps()[8].split())
    for path in ("tests/models/test_locate_model.py", "tests/models/test_model_lookup_order.py",
                 "tests/models/test_model_not_a_regular_file.py", "tests/models/test_registered_names.py",
                 "tests/models/test_registry.py", "tests/models/test_scale_levels.py",
                 "tests/test_decoding_needs.py"):
        assert path in step8, path


def test_step_5_retires_the_tests_that_need_the_old_weights():
    step5 = " ".join(swap_steps()[5].split())
    for path, test in (("tests/models/test_registry.py", "test_builtins_load_bit_identically"),
                       ("tests/models/test_scale_levels.py",
                        "test_a_loaded_64_level_builtin_is_unchanged_by_update")):
        assert path in step5 and f"`{test}`" in step5


def test_step_2_says_what_deleting_the_small_description_leaves_unused():
    step2 = " ".join(swap_steps()[2].split())
    assert "`_SMALL_DESC`" in step2 and "`docs_ref`" in step2 and "F401" in step2


def test_step_6_says_where_the_figure_comes_from():
    step6 = " ".join(swap_steps()[6].split())
    assert "cp runs/targets/val/rd.png docs/img/rd-val.png" in step6
    for doc in ("README.md", "docs/results.md"):
        assert "img/rd-val.png" in (ROOT / doc).read_text(encoding="utf-8"), doc
