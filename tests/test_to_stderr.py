"""taco.messages.to_stderr: the one write to stderr that a reader gone away does not stop, used
by notes, warnings, the training log and the stage line (review U: four copies were one)."""

import io

import tqdm  # noqa: F401  (loaded, so above_bar writes through tqdm.write)

from taco.messages import to_stderr


class _Gone(io.StringIO):
    def write(self, text):
        raise BrokenPipeError


def test_end_and_above_bar():
    out = io.StringIO()
    to_stderr("a", out, end="")
    to_stderr("b", out)
    to_stderr("c", out, above_bar=True)  # tqdm is loaded here: through tqdm.write
    assert out.getvalue() == "ab\nc\n"


def test_a_reader_gone_away_stops_nothing():
    to_stderr("x", _Gone(), end="")
    to_stderr("x", _Gone(), above_bar=True)
