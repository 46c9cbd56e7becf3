"""taco's evaluation library called from threads (a web service's ThreadPoolExecutor).

- Two captioners built at once in two threads: most builds failed "not a complete
  BlipForConditionalGeneration (missing or mis-shaped weights ...)" (transformers'
  ``from_pretrained`` is not thread-safe), and every later load in the process failed too.
  taco's transformers loads (the captioner, CMMD's CLIP, the loss's CLIP) now take turns under
  one lock, :func:`taco.text.hf.quiet_transformers`, which also left transformers' logging
  verbosity changed when two threads saved and restored it at once.
- Two figures drawn at once (plot_results, run_evaluation's figure) gave SVGs with their text
  drawn as paths and random ids, and left matplotlib's rcParams ``svg.fonttype``/``svg.hashsalt``
  changed: one figure is drawn at a time now, on a Figure of its own (not pyplot's).
- text_similarity swapped the process-wide ``sys.stdout`` for a StringIO around BLEU (which
  printed its counts): another thread's print() was lost, and stdout was left a StringIO.

The overlap of two threads is made certain, not left to timing: each wrapped call waits (up to
a moment) inside for the other thread to come in too (:class:`Overlap`).
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taco.evaluation import Captioner, plot_results, text_similarity

#: How long a wrapped call waits inside for another thread to come in (seconds): when the calls
#: take turns, each waits this long for nothing.
WAIT = 0.4


class Overlap:
    """Wraps functions so that a call waits inside (up to :data:`WAIT`) for a second one to be
    inside at the same time; :attr:`most` is the most calls that were inside at once."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.inside = self.most = 0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self.cond:
                self.inside += 1
                self.most = max(self.most, self.inside)
                self.cond.notify_all()
                self.cond.wait_for(lambda: self.inside >= 2, timeout=WAIT)
            try:
                return fn(*args, **kwargs)
            finally:
                with self.cond:
                    self.inside -= 1

        return wrapped

    def patch_loader(self, monkeypatch: pytest.MonkeyPatch, cls: type) -> None:
        """``cls.from_pretrained`` wrapped (its classmethod, bound to ``cls``)."""
        monkeypatch.setattr(cls, "from_pretrained", staticmethod(self.wrap(cls.from_pretrained)))


def in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Each job in a thread of its own, started together; their results (or exceptions)."""
    start = threading.Barrier(len(jobs))
    out: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        start.wait()
        try:
            out[i] = jobs[i]()
        except Exception as e:  # kept, for the assertion to show
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return out


# --------------------------------------------------------------------------- transformers loads


def test_two_captioners_built_at_once_both_load(tiny_captioner_dir, monkeypatch):
    """Before: the two loads ran at once, and failed 'not a complete
    BlipForConditionalGeneration (missing or mis-shaped weights: text_decoder.cls.predictions...)'."""
    import transformers

    overlap = Overlap()
    overlap.patch_loader(monkeypatch, transformers.BlipForConditionalGeneration)
    built = in_threads(lambda: Captioner(tiny_captioner_dir), lambda: Captioner(tiny_captioner_dir))
    assert all(isinstance(c, Captioner) for c in built), built
    assert overlap.most == 1  # one load at a time
    assert isinstance(Captioner(tiny_captioner_dir), Captioner)  # and loads still work after


def test_the_captioner_cmmd_clip_and_loss_clip_load_one_at_a_time(tiny_captioner_dir, clip_folder, monkeypatch):
    """The captioner, CMMD's CLIP (SetMetrics) and the training loss's CLIP (ClipTowers.load)
    take turns with one another: transformers' loaders share its state, whichever model."""
    import transformers

    from taco.evaluation.measure import SetMetrics
    from taco.losses import ClipTowers

    overlap = Overlap()
    for cls in (transformers.BlipForConditionalGeneration, transformers.CLIPVisionModelWithProjection,
                transformers.CLIPModel):
        overlap.patch_loader(monkeypatch, cls)
    caption, cmmd, loss = in_threads(
        lambda: Captioner(tiny_captioner_dir),
        lambda: SetMetrics(n_images=2, fid="off", cmmd_clip=str(clip_folder)),
        lambda: ClipTowers.load(clip_folder),
    )
    assert isinstance(caption, Captioner), caption
    assert isinstance(cmmd, SetMetrics) and cmmd.clip is not None, getattr(cmmd, "cmmd_reason", cmmd)
    assert isinstance(loss, ClipTowers), loss
    assert overlap.most == 1


def test_transformers_logging_is_left_as_it_was_after_two_threads():
    """Before: A saved WARNING and set ERROR, B saved ERROR, A restored WARNING, B restored
    ERROR: transformers' warnings were silenced in the whole process for good."""
    from transformers.utils import logging

    from taco.text.hf import quiet_transformers

    entered: list[int] = []
    cond, first_out = threading.Condition(), threading.Event()

    def body() -> None:
        with quiet_transformers():
            with cond:
                entered.append(1)
                n = len(entered)
                cond.notify_all()
                cond.wait_for(lambda: len(entered) >= 2, timeout=WAIT)
            if n == 2:  # the second in leaves last
                first_out.wait(timeout=WAIT)
        if n == 1:
            first_out.set()

    before = logging.get_verbosity()
    logging.set_verbosity_warning()
    try:
        in_threads(body, body)
        assert logging.get_verbosity() == logging.WARNING
    finally:
        logging.set_verbosity(before)


def test_a_quiet_block_inside_another_of_the_same_thread_does_not_wait_for_itself():
    from taco.text.hf import quiet_transformers

    def nested() -> bool:
        with quiet_transformers(), quiet_transformers():
            return True

    assert in_threads(nested) == [True]


# --------------------------------------------------------------------------- figures


def _hashes(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_two_figures_drawn_at_once_are_the_sequential_ones_and_leave_rcparams(rd_folder, tmp_path, monkeypatch):
    """Before: the SVGs of two threads had text drawn as paths and random ids, and
    svg.fonttype='none' / svg.hashsalt='taco' were left in matplotlib's global rcParams."""
    import matplotlib
    from matplotlib.figure import Figure

    results = rd_folder(tmp_path / "results")
    alone = _hashes(plot_results(results, tmp_path / "alone" / "rd"))
    rc = {k: matplotlib.rcParams[k] for k in ("svg.fonttype", "svg.hashsalt")}
    overlap = Overlap()
    monkeypatch.setattr(Figure, "savefig", overlap.wrap(Figure.savefig))
    both = in_threads(*(lambda i=i: plot_results(results, tmp_path / str(i) / "rd") for i in range(2)))
    assert [_hashes(paths) for paths in both] == [alone, alone]
    assert {k: matplotlib.rcParams[k] for k in rc} == rc
    assert overlap.most == 1


# --------------------------------------------------------------------------- stdout


def test_text_similarity_leaves_sys_stdout_alone(monkeypatch, capsys):
    """Before: sys.stdout was a StringIO while BLEU ran (for every thread of the process), and
    4 threads left it one: the caller's print() went nowhere."""
    from pycocoevalcap.bleu.bleu import Bleu

    stdout, seen = sys.stdout, []
    compute = Bleu.compute_score

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(sys.stdout is stdout)
        return compute(self, *args, **kwargs)

    monkeypatch.setattr(Bleu, "compute_score", spy)
    refs, cands = ["a cat sitting on a mat", "a dog running in the park"] * 3, ["a cat on a mat", "dog in a park"] * 3
    scores = in_threads(*(lambda: text_similarity(refs, cands) for _ in range(4)))
    assert all(isinstance(s, dict) and s == scores[0] for s in scores), scores
    assert seen == [True] * 4 and sys.stdout is stdout
    print("results written")
    assert capsys.readouterr().out == "results written\n"  # and BLEU printed nothing
