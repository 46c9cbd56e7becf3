"""A classic run into a folder whose CSV holds other qualities of another configuration warned
'jpeg.csv ... also holds qualities 10, 30 of an earlier run: they stay in its curve' and then
refused the run ('holds results of another configuration'). The configuration is checked first
now, and the warning said only when the run goes on."""

from __future__ import annotations

import warnings

import pytest

from taco.errors import TacoWarning
from taco.evaluation.classic import evaluate_codec, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.runner import ResultsFileError


def test_a_refused_resume_does_not_warn_first(tiny_folder, tmp_path):
    jpeg = get_codec("jpeg")
    ds = open_dataset(str(tiny_folder), limit=1)
    evaluate_codec(jpeg, ds, tmp_path, qualities=[10, 30], progress=False)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with pytest.raises(ResultsFileError, match="holds results of another configuration"):
            evaluate_codec(jpeg, ds, tmp_path, qualities=[50], progress=False, lpips_input="official")
    assert not [w for w in said if "earlier run" in str(w.message)], [str(w.message) for w in said]
    with pytest.warns(TacoWarning, match="also holds qualities 10, 30 of an earlier run"):
        evaluate_codec(jpeg, ds, tmp_path, qualities=[50], progress=False)
