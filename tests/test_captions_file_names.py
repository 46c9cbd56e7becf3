"""The bounds docs/reliability.md names as ``taco.captions_file.NAME`` are public: in ``__all__``."""

from __future__ import annotations

import taco.captions_file


def test_the_documented_read_bounds_are_in_all():
    assert {"SIDECAR_MAX_CHARS", "CAPTIONS_LINE_MAX_CHARS"} <= set(taco.captions_file.__all__)
