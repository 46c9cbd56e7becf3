"""taco.evaluation.measure.SetMetrics: FID over fewer feature rows than it needs is said not
computed, with the reason."""

from __future__ import annotations

from taco.evaluation.measure import SetMetrics


class _FakeInception:
    source = "fake (test)"

    def __call__(self, images):  # noqa: ANN001, ANN204
        return images.flatten(2).mean(-1).float()


def test_one_feature_row_is_not_computed() -> None:
    # FID needs 2 rows: 1 is said as not computed, with the reason, as 0 is
    fid = SetMetrics(n_images=2, fid="patches", extractor=_FakeInception()).describe(1)["fid"]
    assert fid["computed"] is False and fid["reason"] == "1 feature rows, fewer than the 2 FID needs"
    assert SetMetrics(n_images=2, fid="patches", extractor=_FakeInception()).describe(2)["fid"]["computed"] is True
