"""Progress of one long image: the codec reports stages, its caller shows them.

The library only calls a :data:`Progress` callback (``compress_image(..., progress=)``,
``decompress(..., progress=)``); what is shown, and when, is the caller's choice (the command
line's: :class:`taco.cli.progress_line.StageReporter`).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress"]

#: ``progress(stage, done, total)``: ``stage`` is a short name ("analysis", "entropy coding",
#: "synthesis"); ``done`` of ``total`` parts of it are finished (the synthesis tiles). A stage
#: without parts reports ``(stage, 0, 1)`` when it starts.
Progress = Callable[[str, int, int], None]
