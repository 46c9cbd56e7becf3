"""taco bench --memory off Linux: macOS's ru_maxrss is in bytes (Linux's in KiB), and Windows's
Python has no ``resource`` module, where --memory refuses in one line before any work."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from types import SimpleNamespace

import pytest

from taco.bench import peak_memory


@pytest.mark.parametrize(("platform", "maxrss"), [("linux", 3 * 2**10), ("darwin", 3 * 2**20)])
def test_peak_rss_is_in_mib_on_linux_and_macos(monkeypatch, platform, maxrss):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(resource, "getrusage", lambda who: SimpleNamespace(ru_maxrss=maxrss))
    assert peak_memory.peak_rss_mib() == 3.0


def test_peak_rss_reads_this_process():
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert rss_kib / 1024 <= peak_memory.peak_rss_mib() < rss_kib / 1024 + 512


def test_memory_without_resource_is_refused_in_one_line(tmp_path):
    # As on Windows: `import resource` fails (in this process and any child it starts).
    (tmp_path / "resource.py").write_text('raise ModuleNotFoundError("No module named \'resource\'")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "taco", "bench", "--quick", "--device", "cpu", "--memory", "64x64"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("taco bench: error: --memory"), proc.stderr
    assert "resource" in err[0] and sys.platform in err[0]
    assert proc.stdout == ""
