"""A command's warning while a progress bar is on the line (``taco train``'s): said on a line of
its own, the bar cleared first and drawn again below it, not glued to the end of the bar."""

from __future__ import annotations

import re
import sys

from tqdm import tqdm

from taco.errors import TacoWarning
from taco.messages import warning_printer


def test_a_warning_is_said_above_an_active_bar(capsys):
    bar = tqdm(total=10, desc="train", file=sys.stderr, disable=False, mininterval=0)
    bar.update(3)
    warning_printer("train")("validation at step 4 could not code its images", TacoWarning,
                             __file__, 1)
    bar.close()
    err = capsys.readouterr().err
    assert re.search(r"(^|[\r\n])taco train: warning: validation at step 4 could not code its images\n",
                     err), repr(err)


def test_without_a_bar_it_is_one_line(capsys):
    warning_printer("compress")("a colour profile", TacoWarning, __file__, 1)
    assert capsys.readouterr().err == "taco compress: warning: a colour profile\n"


def test_a_hosts_own_tqdm_bar_counts_as_shown(tmp_path):
    """Another tqdm bar of the program taco is in (not progress_bar's) is on the line: lines go
    above it. In a child process: a tqdm bar fixes the start method of the one it is built in."""
    import subprocess
    import sys

    code = ("import io, tqdm\n"
            "from taco.progress import bar_shown\n"
            "assert not bar_shown()\n"
            "bar = tqdm.tqdm(total=3, file=io.StringIO(), disable=False)\n"
            "assert bar_shown()\n"
            "bar.close()\n"
            "assert not bar_shown()\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
