"""Only ``STEM.rankR.csv`` (R a number) is a rank shard of ``STEM.csv``; a linked one is refused before any run codes.

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


def test_a_linked_rank_shard_of_a_matched_run_is_refused_before_the_model_codes(eval_main, tmp_path, folder_factory,
                                                                                 capsys):
    """With --match-bpp, the classic codec's run matched to a model's (CODEC.matched-TAG) writes
    its own results and rank shards: a link at one of them is refused once the model is loaded,
    before any image is coded, so the model's results are not written either."""
    data = folder_factory(tmp_path / "val", size=32)
    args = ["evaluate", "--fid", "off", "--cmmd-clip", "off", "--quiet", "-m", "elic-tiny", "--classic", "jpeg",
            "--qualities", "jpeg=30,70", "--match-bpp", "--no-plot", str(data)]
    assert eval_main([*args, "-o", str(tmp_path / "first")]) == 0, capsys.readouterr().err
    model_json = next(p.name for p in (tmp_path / "first" / "val").glob("elic-tiny*.json"))
    tag = model_json.removesuffix(".json")
    folder = tmp_path / "ev" / "val"
    folder.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    (folder / f"jpeg.matched-{tag}.rank0.csv").symlink_to(victim)
    capsys.readouterr()
    assert eval_main([*args, "-o", str(tmp_path / "ev")]) == 2
    assert f"jpeg.matched-{tag}.rank0.csv is a symbolic link" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == [f"jpeg.matched-{tag}.rank0.csv"]
    assert victim.read_text() == "mine\n"


def test_a_linked_rank_shard_of_a_later_codec_is_refused_before_the_first_codes(eval_main, tmp_path, folder_factory,
                                                                                 capsys):
    """--classic jpeg,webp with OUT/DATASET/webp.rank0.csv a link: refused before any image is
    coded, so jpeg's results are not written either (its run comes first)."""
    data = folder_factory(tmp_path / "val", size=32)
    folder = tmp_path / "ev" / "val"
    folder.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    (folder / "webp.rank0.csv").symlink_to(victim)
    assert eval_main(["evaluate", "--fid", "off", "--cmmd-clip", "off", "--quiet", "--classic", "jpeg,webp",
                      "--qualities", "jpeg=30", "--qualities", "webp=30", "--no-plot", "-o", str(tmp_path / "ev"), str(data)]) == 2
    assert "webp.rank0.csv is a symbolic link" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["webp.rank0.csv"]
    assert victim.read_text() == "mine\n"


def test_evaluate_codec_refuses_a_linked_rank_shard_before_reading_it(tmp_path, folder_factory):
    """The library's classic run (evaluate_codec) into a folder whose jpeg.rank0.csv is a link:
    refused as a link before the shard is read, merged or deleted; its target untouched."""
    from taco.evaluation.classic import evaluate_codec, get_codec
    from taco.evaluation.datasets import open_dataset
    from taco.evaluation.runner import LinkedOwnFile

    data = folder_factory(tmp_path / "val", size=32)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.csv"
    victim.write_text("mine\n")
    (out / "jpeg.rank0.csv").symlink_to(victim)
    with pytest.raises(LinkedOwnFile, match=r"jpeg\.rank0\.csv is a symbolic link"):
        evaluate_codec(get_codec("jpeg"), open_dataset(str(data)), out, qualities=[50], progress=False)
    assert victim.read_text() == "mine\n"
    assert sorted(p.name for p in out.iterdir()) == ["jpeg.rank0.csv"]


def test_a_linked_rank_shard_of_a_models_later_quality_is_refused_before_any_codes(eval_main, tmp_path,
                                                                                   folder_factory, capsys):
    """A variable-rate model writes TAG.qK.csv (and its shards) per quality K: a link at the
    second quality's shard is refused once the model is loaded, before its first quality codes."""
    from taco.models import create_model, save_checkpoint

    data = folder_factory(tmp_path / "val", size=32)
    ckpt = save_checkpoint(create_model("elic-tiny", seed=0, qualities=[0.0004, 0.009]), tmp_path / "vr.safetensors")
    args = ["evaluate", "--fid", "off", "--cmmd-clip", "off", "--quiet", "-m", str(ckpt), "--no-plot", str(data)]
    assert eval_main([*args, "-o", str(tmp_path / "first")]) == 0, capsys.readouterr().err
    second = sorted(p.name for p in (tmp_path / "first" / "val").glob("*.q2.json"))
    assert len(second) == 1, second
    shard = second[0].removesuffix(".json") + ".rank0.csv"
    folder = tmp_path / "ev" / "val"
    folder.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    (folder / shard).symlink_to(victim)
    capsys.readouterr()
    assert eval_main([*args, "-o", str(tmp_path / "ev")]) == 2
    assert f"{shard} is a symbolic link" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == [shard]
    assert victim.read_text() == "mine\n"


def test_shard_name_takes_a_stems_dots_as_they_are():
    """A stem with dots (a model's TAG.qK): its dots match only dots."""
    csv = Path("ev/m-1a2b.q1.csv")
    assert shard_name(csv, "m-1a2b.q1.rank0.csv")
    assert not shard_name(csv, "m-1a2bXq1.rank0.csv")


def test_shard_paths_of_a_folder_that_is_a_file_are_none(tmp_path):
    (tmp_path / "ev").write_text("not a folder\n")
    assert shard_paths(tmp_path / "ev" / "jpeg.csv") == []
