"""taco.cli.common.Failures.run: the one batch loop of taco compress and taco decompress, its
bookkeeping (which input counts as finished when the batch is stopped, the outputs written, one
found written meanwhile, an input's own error skipped) in one place."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from taco.cli.common import PARTIAL_STATUS, CLIError, Failures
from taco.errors import Interrupted

BATCH = [(i, Path(f"in/{i}.png"), Path(f"out/{i}.taco")) for i in (1, 2, 3, 4)]


def test_each_input_is_done_in_order_its_output_counted_then_reported(capsys):
    failures, said = Failures("compress"), []

    def do_one(i, src, dst):
        said.append(f"do {i} {src.name} {dst.name}")
        if i == 2:
            raise CLIError("not an image")
        return i != 3, lambda: said.append(f"counted {i}: {failures.finished} finished, "
                                           f"{failures.written} written")

    assert failures.run(BATCH, do_one, total=4, noun="image") is None
    assert said == ["do 1 1.png 1.taco", "counted 1: 1 finished, 1 written",
                    "do 2 2.png 2.taco", "do 3 3.png 3.taco",
                    "do 4 4.png 4.taco", "counted 4: 4 finished, 2 written"]
    err = capsys.readouterr().err
    assert err == ("taco compress: error: in/2.png: not an image\n"
                   "taco compress: note: out/3.taco exists (written meanwhile, by another process?): "
                   "left as it is (--skip-existing)\n")
    assert (failures.inputs, failures.meanwhile, failures.skipped, failures.written) == (
        [Path("in/2.png")], 1, 1, 2)


def test_an_error_not_the_inputs_own_is_raised():
    def do_one(i, src, dst):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        Failures("decompress").run(BATCH, do_one, total=4, noun="file")


def test_also_names_more_errors_of_one_input(capsys):
    from taco.errors import SizeBudgetError

    def do_one(i, src, dst):
        raise SizeBudgetError("does not fit")

    failures = Failures("compress")
    assert failures.run(BATCH[:1], do_one, total=1, noun="image",
                        also=(("taco.errors", "SizeBudgetError"),)) is None
    assert failures.inputs == [Path("in/1.png")]
    with pytest.raises(SizeBudgetError):
        Failures("compress").run(BATCH[:1], do_one, total=1, noun="image")


def test_a_full_disk_while_working_counts_the_inputs_before(capsys):
    def do_one(i, src, dst):
        if i == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return True, lambda: None

    failures = Failures("compress")
    assert failures.run(BATCH, do_one, total=4, noun="image", rest="run it again") == PARTIAL_STATUS
    assert "stopped after 2 of 4 images: " in capsys.readouterr().err


def test_a_report_that_cannot_be_printed_counts_its_input_as_finished(capsys):
    """Its output is written: 'stopped after 1 of 4', not 0, and some outputs were written."""
    def report():
        raise OSError(errno.ENOSPC, "No space left on device", "<stdout>")

    failures = Failures("decompress")
    assert failures.run(BATCH, lambda i, src, dst: (True, report), total=4, noun="file") == PARTIAL_STATUS
    assert "taco decompress: error: stopped after 1 of 4 files: " in capsys.readouterr().err


def test_an_interrupt_says_how_many_inputs_were_finished():
    def do_one(i, src, dst):
        if i == 4:
            raise KeyboardInterrupt
        return True, lambda: None

    with pytest.raises(Interrupted) as caught:
        Failures("compress").run(BATCH, do_one, total=4, noun="image")
    assert " after 3 of 4 images" in str(caught.value.progress)
