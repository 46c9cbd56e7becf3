"""Only ``STEM.rankR.csv`` (R a number) is a rank shard of ``STEM.csv``.

A reviewer found a rerun of ``taco evaluate`` delete a user's ``ev1/val/jpeg.ranking.csv``: the
shards were globbed as ``jpeg.rank*.csv``, read, merged into ``jpeg.csv`` and unlinked (and one
of other columns refused the run, saying "delete it"). A file that is not taco's is now neither
read nor touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.evaluation.runner import shard_name, shard_paths

pytestmark = pytest.mark.filterwarnings("ignore:.*colours converted from its")

ARGS = ["evaluate", "--fid", "off", "--cmmd-clip", "off", "--quiet", "--classic", "jpeg",
        "--qualities", "jpeg=30,70"]


@pytest.mark.parametrize(("name", "is_shard"), [
    ("jpeg.rank0.csv", True), ("jpeg.rank12.csv", True), ("jpeg.ranking.csv", False),
    ("jpeg.rank.csv", False), ("jpeg.rank0.csv.bak", False), ("jpeg.rank-1.csv", False),
    ("jpegXrank0.csv", False), ("jpeg.matched-m.rank0.csv", False)])
def test_shard_name(name, is_shard):
    assert shard_name(Path("ev/jpeg.csv"), name) is is_shard


def test_shard_paths_lists_taco_shards_only(tmp_path):
    for name in ("jpeg.rank1.csv", "jpeg.rank0.csv", "jpeg.ranking.csv", "jpeg.rank_notes.csv"):
        (tmp_path / name).write_text("")
    assert [p.name for p in shard_paths(tmp_path / "jpeg.csv")] == ["jpeg.rank0.csv", "jpeg.rank1.csv"]
    assert shard_paths(tmp_path / "missing" / "jpeg.csv") == []


@pytest.mark.parametrize("content", ["taco", "other"])
def test_rerun_leaves_a_users_ranking_csv(eval_main, tmp_path, folder_factory, capsys, content):
    """A rerun of a complete run beside the user's jpeg.ranking.csv (a copy of taco's rows, or
    a table of their own): exit 0, the file as it was."""
    data = folder_factory(tmp_path / "val", size=32)
    out = tmp_path / "ev1"
    assert eval_main([*ARGS, "-o", str(out), str(data)]) == 0, capsys.readouterr().err
    folder = out / "val"
    mine = folder / "jpeg.ranking.csv"
    text = (folder / "jpeg.csv").read_text() if content == "taco" else "rank,photo\n1,kodim01\n"
    mine.write_text(text)
    assert eval_main([*ARGS, "-o", str(out), str(data)]) == 0, capsys.readouterr().err
    assert mine.read_text() == text
