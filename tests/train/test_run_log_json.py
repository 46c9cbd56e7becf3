"""log.jsonl is written by taco.jsonfiles.jsonable, the one JSON cleaner taco writes through:
NaN as null, and a numpy scalar (a metric computed with numpy) as a number, where the log's own
NaN-only cleaner let json.dumps raise TypeError in the middle of training."""

from __future__ import annotations

import json

import numpy as np

from taco.train.run_log import RunLog


def test_log_records_with_nan_and_numpy_scalars_are_strict_json(tmp_path):
    log = RunLog(tmp_path, is_main=True, progress=False, write_error=lambda p, e: e)
    log.open("model: elic-tiny\n", start_step=0)
    try:
        log.write({"kind": "train", "step": 1, "loss": float("nan"), "psnr": np.float32(31.5),
                   "bits": np.int64(1200)})
    finally:
        log.close()
    (line,) = (tmp_path / "log.jsonl").read_text().splitlines()
    assert json.loads(line) == {"kind": "train", "step": 1, "loss": None, "psnr": 31.5, "bits": 1200}
