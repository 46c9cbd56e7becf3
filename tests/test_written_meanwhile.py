"""taco.cli.common.Failures.written_meanwhile: an output another process published first."""

from __future__ import annotations

from pathlib import Path

from taco.cli.common import Failures


def test_written_meanwhile_notes_it_and_counts_it_as_skipped(capsys):
    failures = Failures("decompress")
    failures.skipped = 2  # found existing before the batch
    failures.written_meanwhile(Path("out/a.png"))
    assert capsys.readouterr().err == ("taco decompress: note: out/a.png exists (written meanwhile, "
                                       "by another process?): left as it is (--skip-existing)\n")
    assert (failures.meanwhile, failures.skipped, failures.inputs) == (1, 3, [])
    assert failures.summary() == " (3 skipped: their outputs exist)"
