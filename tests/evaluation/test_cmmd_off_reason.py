"""CMMD switched off says so, as FID does, in words true for a library caller (EvalConfig's
cmmd_clip defaults to None) and for ``taco evaluate --cmmd-clip off`` alike; not "no CLIP model
(--cmmd-clip)", which read as a model that could not be found."""

from __future__ import annotations

from taco.evaluation.measure import SetMetrics

REASON = "switched off (cmmd_clip None; taco evaluate: --cmmd-clip off)"


def test_cmmd_and_fid_switched_off_say_so_alike() -> None:
    sets = SetMetrics(n_images=4, fid="off", cmmd_clip=None)
    assert sets.fid_reason == "switched off (fid='off'; taco evaluate: --fid off)"
    assert sets.cmmd_reason == REASON
    assert sets.describe()["cmmd"] == {"computed": False, "reason": REASON}
