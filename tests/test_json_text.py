"""taco.jsonfiles.json_text: the one JSON serialisation taco writes (write_json and taco plot's
``.bdrate.json`` both use it)."""

import math
from pathlib import Path

import numpy as np

import taco.evaluation.plot as plot
from taco.jsonfiles import json_text, write_json


def test_json_text_is_what_write_json_writes(tmp_path):
    obj = {"a": math.nan, 2: (np.float32(1.5), Path("x")), "b": [math.inf]}
    assert json_text(obj) == '{\n  "a": null,\n  "2": [\n    1.5,\n    "x"\n  ],\n  "b": [\n    null\n  ]\n}\n'
    assert write_json(tmp_path / "f.json", obj).read_text(encoding="utf-8") == json_text(obj)


def test_plot_writes_its_bd_table_through_json_text():
    source = Path(plot.__file__).read_text(encoding="utf-8")
    assert "json.dumps" not in source and "json_text(doc)" in source
