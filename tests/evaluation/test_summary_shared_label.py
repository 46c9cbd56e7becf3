"""``taco evaluate``'s printed summary: checkpoints of one model id under one ``--label`` (a λ
sweep given one label) each name their weights, as their result files do; other lines do not."""

from __future__ import annotations

import json
from pathlib import Path

from taco.evaluation.cli import print_summary


def _write(folder: Path, fingerprint: str, bpp: float, *, label: str = "Tiny",
           quality: int | None = None) -> Path:
    result = {"format": "taco-eval", "version": 1, "label": label, "kind": "learned",
              "model": {"model_id": "taco-minilm-tiny", "fingerprint": fingerprint},
              "dataset": {"name": "photos"}, "points": [{"images": 5, "bpp": bpp}],
              **({"quality": quality} if quality else {})}
    path = folder / f"taco-minilm-tiny-{fingerprint[:8]}{f'.q{quality}' if quality else ''}.json"
    path.write_text(json.dumps(result))
    return path


def _lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if " on photos " in line]


def test_two_checkpoints_under_one_label_name_their_weights(tmp_path, capsys):
    """They printed two lines 'Tiny (taco-minilm-tiny) on photos (5 images): ...' alike."""
    print_summary([_write(tmp_path, "6133308df006fd64", 0.43), _write(tmp_path, "728a07f1c00f96b9", 0.87)])
    assert _lines(capsys) == ["Tiny (taco-minilm-tiny-6133308d) on photos (5 images): bpp 0.4300",
                              "Tiny (taco-minilm-tiny-728a07f1) on photos (5 images): bpp 0.8700"]


def test_lines_that_differ_already_are_kept(tmp_path, capsys):
    """One checkpoint, or one model's qualities (q1, q2), or two labels: no fingerprint."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    print_summary([_write(tmp_path / "a", "6133308df006fd64", 0.43, quality=1),
                   _write(tmp_path / "a", "6133308df006fd64", 0.87, quality=2),
                   _write(tmp_path / "b", "6133308df006fd64", 0.43, label="A"),
                   _write(tmp_path / "b", "728a07f1c00f96b9", 0.87, label="B")])
    assert _lines(capsys) == ["Tiny (taco-minilm-tiny q1) on photos (5 images): bpp 0.4300",
                              "Tiny (taco-minilm-tiny q2) on photos (5 images): bpp 0.8700",
                              "A (taco-minilm-tiny) on photos (5 images): bpp 0.4300",
                              "B (taco-minilm-tiny) on photos (5 images): bpp 0.8700"]
