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


@pytest.mark.parametrize(("name", "refused"), [
    ("jpeg.rank0.csv", True), ("jpeg.rank7.csv", True), ("jpeg.csv", True), ("jpeg.json", True),
    ("jpeg.features", True), ("originals.features", True), ("rd.png", True), ("rd.svg", True),
    ("rd.bdrate.md", True), ("rd.bdrate.json", True), ("RD.SVG", True),
    ("m-1a2b.q3.caption-modes.md", True), ("m-1a2b.caption-modes.json", True),
    ("jpeg.ranking.csv", False), ("webp.rank0.csv", False), ("webp.json", False), ("notes.md", False),
    ("notes.caption-modes.md.bak", False), ("my notes.caption-modes.md", False), ("rd.bdrate.txt", False)])
def test_which_links_in_a_dataset_folder_are_this_runs_own(tmp_path, name, refused):
    """refuse_linked_outputs(OUT/DATASET, stems) refuses a link by a name this run writes there:
    a stem's results and rank shards, the RD figure and BD table, the originals' features and
    a caption-mode comparison (names compared as a case-blind file system may); any other
    link, a shard of another stem or a user's file of a like name among them, is left alone."""
    from taco.evaluation.evaluate import refuse_linked_outputs
    from taco.evaluation.runner import LinkedOwnFile

    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    out_dir = tmp_path / "ev" / "ds"
    out_dir.mkdir(parents=True)
    (out_dir / name).symlink_to(victim)
    if refused:
        with pytest.raises(LinkedOwnFile, match=r" is a symbolic link"):
            refuse_linked_outputs(out_dir, ["jpeg"])
    else:
        refuse_linked_outputs(out_dir, ["jpeg"])
    assert victim.read_text() == "mine\n"


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


@pytest.mark.parametrize("name", ["MyNet-1a2b.json", "mynet-1a2b.json", "MYNET-1A2B.features"])
def test_a_stem_with_capitals_is_compared_as_a_case_blind_file_system_may(tmp_path, name):
    """A model's stem with capitals (a checkpoint named MyNet): its results under any case are
    this run's own names, refused as links as on macOS and Windows, where they are one file."""
    from taco.evaluation.evaluate import refuse_linked_outputs
    from taco.evaluation.runner import LinkedOwnFile

    out_dir = tmp_path / "ds"
    out_dir.mkdir()
    (out_dir / name).symlink_to(tmp_path / "made-by-taco")
    with pytest.raises(LinkedOwnFile, match=r" is a symbolic link"):
        refuse_linked_outputs(out_dir, ["MyNet-1a2b"])
    assert not (tmp_path / "made-by-taco").exists()
