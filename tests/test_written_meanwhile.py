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


def test_batch_counts_group_thousands_as_every_count_does(capsys):
    """'2000 of 2,000 images failed', 'after 4860 of 5,000 images': one number style."""
    failures = Failures("compress")
    failures.inputs = [Path(f"b{i}.png") for i in range(2000)]
    failures.skipped = 1234
    assert failures.summary() == " (2,000 failed, 1,234 skipped: their outputs exist)"
    assert failures.status(5000, "image") != 0
    assert "error: 2,000 of 5,000 images failed: b0.png" in capsys.readouterr().err
    failures.finished = 4860
    try:
        with failures.stopping(5000, "image"):
            raise KeyboardInterrupt
    except KeyboardInterrupt as exc:  # Interrupted, which says how far the batch got
        assert " after 4,860 of 5,000 images" in str(getattr(exc, "progress", ""))
