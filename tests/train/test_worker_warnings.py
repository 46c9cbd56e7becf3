"""A DataLoader worker started by spawn (macOS's and Windows's default) prints a warning as
``taco train`` does: one line, ``taco train: warning: MESSAGE``, not Python's
``FILE:LINE: CATEGORY: MESSAGE`` and a source line (it does not inherit the run's printer)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import warnings

    import torch
    from torch.utils.data import DataLoader, Dataset

    from taco.errors import TacoWarning
    from taco.train.schedule import worker_signals


    class Photos(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            warnings.warn("a.png: colours converted to sRGB", TacoWarning)
            return torch.zeros(1)


    if __name__ == "__main__":
        loader = DataLoader(Photos(), batch_size=1, num_workers=1, worker_init_fn=worker_signals,
                            multiprocessing_context="spawn")
        assert len(list(loader)) == 2
''')


def test_a_spawned_worker_prints_warnings_as_taco_train(tmp_path):
    script = tmp_path / "spawned.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    # (lines of Python's own about the worker's shutdown, such as resource_tracker's leaked
    # semaphore warning on a loaded machine, are not this test's)
    lines = proc.stderr.splitlines()
    assert [line for line in lines if "colours converted" in line] == [
        "taco train: warning: a.png: colours converted to sRGB"], proc.stderr
    assert not any("TacoWarning" in line for line in lines), proc.stderr
