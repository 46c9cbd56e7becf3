"""TRAIN_ARGS reach gpu_slice.py's init checks as taco train gets them: a lone flag (--fast) is
the value of --train-args, not an option of gpu_slice.py (argparse refused it: "expected one
argument", so prepare and the slice stopped), and it is split at spaces as bash splits the
unquoted $TRAIN_ARGS it hands the trainer (quotes kept: shlex dropped them, so a config the
check passed was refused on the GPU machine)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_scripts_hand_train_args_as_one_value():
    for script in ("gpu_slice.sh", "gpu_slice_prepare.sh"):
        text = (ROOT / "scripts" / script).read_text(encoding="utf-8")
        calls = re.findall(r"--train-args[^\s)]*", text)
        assert calls and all(c == '--train-args="$TRAIN_ARGS"' for c in calls), (script, calls)

