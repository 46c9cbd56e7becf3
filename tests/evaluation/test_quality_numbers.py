"""``--qualities key=`` numbers are checked by taco.evaluation.quality_names.check_quality_numbers
(review SIMPLE2: it was called check_qualities, the name of taco.models.config's λ-list check,
now check_lambdas)."""

from __future__ import annotations

import pytest

from taco.evaluation import quality_names
from taco.evaluation.quality_names import QualitiesError, check_quality_numbers


def test_check_quality_numbers_refuses_a_quality_outside_the_range():
    check_quality_numbers("jpeg", "JPEG", [1, 5], 1, 5)
    with pytest.raises(QualitiesError, match=r"--qualities jpeg=\.\.\.: 6 outside JPEG's qualities 1\.\.5"):
        check_quality_numbers("jpeg", "JPEG", [1, 6], 1, 5)


def test_one_name_one_meaning():
    """The λ-list check is taco.models.config.check_lambdas; neither module defines a
    function named check_qualities."""
    from taco.models import config

    assert config.check_lambdas([0.1, 0.2]) == [0.1, 0.2]
    assert not hasattr(config, "check_qualities")
    assert "check_qualities" not in vars(quality_names)
