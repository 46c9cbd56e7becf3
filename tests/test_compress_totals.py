"""taco compress's Totals: the images written are counted where they are listed."""

from pathlib import Path
from types import SimpleNamespace

from taco.cli.compress import Totals


def test_done_counts_the_images_added():
    totals = Totals()
    assert totals.done == 0
    for name, quality in (("a.png", 2), ("b.png", 4)):
        totals.add(SimpleNamespace(quality=quality, data=b"12345", height=2, width=3), Path(name))
    assert totals.coded == [Path("a.png"), Path("b.png")] and totals.done == 2
    assert (totals.nbytes, totals.pixels, totals.chosen) == (10, 12, {2, 4})
