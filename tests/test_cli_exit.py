"""The ``taco`` program ends through :func:`taco.cli.run`: :func:`taco.cli.main`'s status, with
Python's own exit around it (atexit functions, flushed streams), and gc frozen before it."""

import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_the_console_script_and_python_m_taco_end_through_run():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["taco"] == "taco.cli:run"
    for main_file in ("taco/__main__.py", "taco/cli/__main__.py", "taco/train/__main__.py"):
        assert "run(" in (ROOT / main_file).read_text(), main_file


def _run_in_a_process(argv: list[str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('atexit ran, frozen', gc.get_freeze_count() > 0))\n"
        "sys.stdout.write('unflushed tail')\n"
        "from taco.cli import run\n"
        f"run({argv!r})\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_run_keeps_the_status_atexit_functions_and_buffered_output():
    done = _run_in_a_process(["models"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("unflushed tail")
    assert done.stdout.rstrip().endswith("atexit ran, frozen True")

    refused = _run_in_a_process(["info", str(ROOT / "no-such-file.taco")])
    assert refused.returncode == 2
    assert "taco info: error:" in refused.stderr
    assert "atexit ran, frozen True" in refused.stdout


def test_ctrl_c_during_the_exit_ends_the_process_without_a_traceback():
    """Ctrl-C just after a command finished (threads joining, atexit functions running) printed
    ``Exception ignored in ... KeyboardInterrupt`` and exited 0: it ends as SIGINT does."""
    code = (
        "import atexit, os, signal, time\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(5)))\n"
        "from taco.cli import run\n"
        "run(['models'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == -2, (done.returncode, done.stderr)  # killed by SIGINT
    assert "KeyboardInterrupt" not in done.stderr and "Traceback" not in done.stderr
