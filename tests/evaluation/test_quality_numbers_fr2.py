"""``--qualities key=`` numbers are checked by taco.evaluation.quality_names.check_quality_numbers
(review SIMPLE2: it was called check_qualities, the name of taco.models.config's λ-list check,
now check_lambdas); the old name still answers, with a DeprecationWarning."""

from __future__ import annotations

import pytest

from taco.evaluation import quality_names
from taco.evaluation.quality_names import QualitiesError, check_quality_numbers


def test_check_quality_numbers_refuses_a_quality_outside_the_range():
    check_quality_numbers("jpeg", "JPEG", [1, 5], 1, 5)
    with pytest.raises(QualitiesError, match=r"--qualities jpeg=\.\.\.: 6 outside JPEG's qualities 1\.\.5"):
        check_quality_numbers("jpeg", "JPEG", [1, 6], 1, 5)


def test_the_old_name_warns_and_is_the_new_function():
    with pytest.warns(DeprecationWarning, match="check_quality_numbers"):
        old = quality_names.check_qualities
    assert old is check_quality_numbers
    assert "check_qualities" not in quality_names.__all__
    assert "check_quality_numbers" in quality_names.__all__
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        quality_names.no_such_name  # noqa: B018



def test_one_name_one_meaning():
    """The λ-list check is taco.models.config.check_lambdas; neither module defines a
    function named check_qualities."""
    from taco.models import config

    assert config.check_lambdas([0.1, 0.2]) == [0.1, 0.2]
    assert not hasattr(config, "check_qualities")
    assert "check_qualities" not in vars(quality_names)
