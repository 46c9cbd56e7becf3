"""--cmmd-clip off gives CMMD the reason --fid off gives FID: "switched off (--cmmd-clip off)",
not "no CLIP model (--cmmd-clip)", which read as a model that could not be found."""

from __future__ import annotations

from taco.evaluation.measure import SetMetrics


def test_cmmd_and_fid_switched_off_say_so_alike() -> None:
    sets = SetMetrics(n_images=4, fid="off", cmmd_clip=None)
    assert sets.fid_reason == "switched off (--fid off)"
    assert sets.cmmd_reason == "switched off (--cmmd-clip off)"
    assert sets.describe()["cmmd"] == {"computed": False, "reason": "switched off (--cmmd-clip off)"}
