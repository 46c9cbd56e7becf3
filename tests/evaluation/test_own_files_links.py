"""Files taco names itself in a folder are never written through a link (docs/reliability.md).

A reviewer found, each exiting 0 with the victim (a file the user may write) replaced or made:
``taco evaluate`` wrote its ``rd.svg`` (``rd.png``, ``rd.bdrate.*``, ``TAG.caption-modes.*``)
through a link planted in its output folder; a results ``STEM.csv`` / ``STEM.json`` that was a
dangling link made its target (and one to a non-empty file printed that file's first line in
the refusal); an output folder ``EV/DATASET`` that was a link to another folder had its files
replaced and its BD table deleted there; ``taco import-captions X -o FOLDER/ -f`` and ``taco plot
RES -o FOLDER/ -f`` wrote through ``FOLDER/captions.jsonl`` / ``FOLDER/rd.svg`` links (and said
"exists; pass --force" for a dangling one); ``taco caption`` appended to a captions.jsonl that
was a hard link. Each is now refused in one line naming the link (and its target), exit 2,
before any work. An output the user names (``-o FILE``, ``-o STEM``) is still written through a
link, as ``cp`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from taco.evaluation.caption_plan import plan_captions
from taco.evaluation.runner import LinkedOwnFile, check_writable, refuse_linked

pytestmark = pytest.mark.filterwarnings("ignore:.*colours converted from its")

VICTIM_TEXT = "SECRET line one\nline two\n"


def _victim(tmp_path: Path, text: str = VICTIM_TEXT) -> Path:
    victim = tmp_path / "victim" / "bashrc"
    victim.parent.mkdir(exist_ok=True)
    victim.write_text(text)
    victim.chmod(0o600)
    return victim


def _error_lines(capsys) -> list[str]:
    """The error lines on stderr (taco evaluate's note that no --model was given left out)."""
    return [line for line in capsys.readouterr().err.splitlines() if ": note: " not in line]


def _evaluate(eval_main, out: Path, data: Path) -> int:
    return eval_main(["evaluate", "--fid", "off", "--cmmd-clip", "off", "--quiet", "--classic", "jpeg",
                      "--qualities", "jpeg=30,50", "-o", str(out), str(data)])


@pytest.fixture
def data(tmp_path, folder_factory) -> Path:
    """A dataset folder ``ds``: 32 px crops of the samples and their captions.jsonl."""
    return folder_factory(tmp_path / "ds", size=32)


@pytest.mark.parametrize("name", ["rd.svg", "rd.png", "rd.bdrate.md", "rd.bdrate.json", "x.caption-modes.md",
                                  "jpeg.json", "jpeg.csv"])
@pytest.mark.parametrize("dangling", [False, True])
def test_evaluate_refuses_a_link_among_its_own_files(eval_main, tmp_path, data, capsys, name, dangling):
    """F1/F2: ``taco evaluate`` with OUT/DATASET/NAME a link (to a victim, or dangling): exit 2
    in one line naming the link and its target, before any work; the victim unchanged (or not
    made), nothing coded."""
    victim = _victim(tmp_path)
    if dangling:
        victim.unlink()
    out_dir = tmp_path / "ev" / "ds"
    out_dir.mkdir(parents=True)
    os.symlink(victim, out_dir / name)
    assert _evaluate(eval_main, tmp_path / "ev", data) == 2
    err = _error_lines(capsys)
    assert len(err) == 1, err
    assert err[0].startswith(f"taco evaluate: error: {out_dir / name} is a symbolic link (to {victim}): "
                             "taco writes its own results files in their folder, never through a link"), err
    assert "SECRET" not in err[0]
    assert victim.exists() is not dangling
    if not dangling:
        assert victim.read_text() == VICTIM_TEXT
    assert sorted(p.name for p in out_dir.iterdir()) == [name]  # nothing coded, no lock left


def test_evaluate_refuses_a_dataset_folder_that_is_a_link(eval_main, tmp_path, data, capsys):
    """F5: OUT/DATASET a link to another folder: refused (exit 2) naming it and its target; the
    files there (a figure, a BD table) neither replaced nor deleted."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "rd.svg").write_text("mine")
    (elsewhere / "rd.bdrate.md").write_text("my table")
    (tmp_path / "ev").mkdir()
    os.symlink(elsewhere, tmp_path / "ev" / "ds")
    assert _evaluate(eval_main, tmp_path / "ev", data) == 2
    err = _error_lines(capsys)
    assert err == [f"taco evaluate: error: {tmp_path / 'ev' / 'ds'} is a symbolic link (to {elsewhere}): "
                   "taco evaluate writes a dataset's results in a folder of its own, never through a link; "
                   "remove the link (or put a copy of what it links to in its place), or give another --output"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["rd.bdrate.md", "rd.svg"]
    assert (elsewhere / "rd.svg").read_text() == "mine"


def test_evaluate_refuses_a_hard_linked_results_csv(eval_main, tmp_path, data, capsys):
    """F2/F6: a results CSV it would append to that has another name (a hard-linked backup)."""
    out_dir = tmp_path / "ev" / "ds"
    out_dir.mkdir(parents=True)
    backup = tmp_path / "backup.csv"
    backup.write_text("")
    os.link(backup, out_dir / "jpeg.csv")
    assert _evaluate(eval_main, tmp_path / "ev", data) == 2
    err = capsys.readouterr().err
    csv = out_dir / "jpeg.csv"
    assert (f"{csv} is a hard link (a file with 2 names, which a write here would change too): taco writes "
            f"its own results files in their folder; give it a copy of its own (cp {csv} {csv}.copy && mv "
            f"{csv}.copy {csv}), or give another --output") in err
    assert "remove the link" not in err  # that would lose the results: every image coded again
    assert backup.read_text() == ""


@pytest.mark.skipif(os.name != "posix", reason="the advice is a POSIX shell's")
def test_the_copy_advice_for_a_hard_linked_results_csv_keeps_its_rows(tmp_path):
    """``cp -al ev "ev snap"``, then taco evaluate -o ev: the advice, run by the shell (the space
    quoted), gives jpeg.csv a copy of its own, its rows kept; the snapshot's stays as it was."""
    snap = tmp_path / "ev snap" / "ds"
    snap.mkdir(parents=True)
    (snap / "jpeg.csv").write_text("image,setting\na.png,q30\n")
    out_dir = tmp_path / "ev" / "ds"
    out_dir.mkdir(parents=True)
    os.link(snap / "jpeg.csv", out_dir / "jpeg.csv")
    with pytest.raises(LinkedOwnFile) as refused:
        refuse_linked([out_dir / "jpeg.csv"])
    assert "remove the link" not in str(refused.value)
    advice = str(refused.value).split("give it a copy of its own (", 1)[1].split("), or ", 1)[0]
    subprocess.run(["sh", "-c", advice], check=True)
    refuse_linked([out_dir / "jpeg.csv"])
    assert (out_dir / "jpeg.csv").read_text() == "image,setting\na.png,q30\n"
    assert os.stat(snap / "jpeg.csv").st_nlink == 1


def test_results_files_links_refused_by_the_runner(tmp_path):
    """F2 at the library: check_writable (every run's check before its header is written) and
    refuse_linked name the link; a link to a non-empty file shows none of its content."""
    victim = _victim(tmp_path)
    csv, js = tmp_path / "r.csv", tmp_path / "r.json"
    os.symlink(victim, csv)
    with pytest.raises(LinkedOwnFile) as refused:
        check_writable([js, csv])
    assert str(refused.value).startswith(f"{csv} is a symbolic link (to {victim}): ")
    assert "SECRET" not in str(refused.value)
    os.symlink(tmp_path / "missing.json", js)
    with pytest.raises(LinkedOwnFile, match=r"r\.json is a symbolic link"):
        refuse_linked([js])
    assert not (tmp_path / "missing.json").exists()
    refuse_linked([tmp_path / "nothing-there.csv", victim])  # a plain file, a missing one: fine


def test_classic_run_refuses_a_dangling_csv_link_before_coding(tmp_path, data):
    """F2: evaluate_codec into a folder whose jpeg.csv is a dangling link: refused, the target
    not made."""
    from taco.evaluation.classic import evaluate_codec, get_codec
    from taco.evaluation.datasets import open_dataset

    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "made-by-taco.csv"
    os.symlink(target, out / "jpeg.csv")
    with pytest.raises(LinkedOwnFile, match=r"jpeg\.csv is a symbolic link"):
        evaluate_codec(get_codec("jpeg"), open_dataset(str(data)), out, qualities=[50], progress=False)
    assert not target.exists()
    assert not (out / "jpeg.json").exists()


# --------------------------------------------------------------------------- taco plot


@pytest.fixture
def results(tmp_path, rd_run) -> Path:
    """A folder of one complete JPEG run (3 points over 4 images)."""
    write_rd_run, _ = rd_run
    rows = [{"image": f"i{i}.png", "setting": f"q{q}", "bpp": 0.2 * q + 0.01 * i, "psnr": 25 + q + i * 0.1,
             "ms_ssim": 0.9, "lpips": 0.3 - 0.01 * q} for q in (1, 2, 3) for i in range(4)]
    res = tmp_path / "res"
    write_rd_run(res, "jpeg", label="JPEG", kind="classic", codec="jpeg", rows=rows)
    return res


@pytest.mark.parametrize("force", [False, True])
def test_plot_into_a_folder_refuses_a_link_there(taco_main, tmp_path, results, capsys, force):
    """F4: ``taco plot RES -o FOLDER/`` with FOLDER/rd.svg a link: refused (with -f too; without
    it no more "exists; pass --force" for a dangling link), the victim unchanged."""
    victim = _victim(tmp_path)
    figs = tmp_path / "figs"
    figs.mkdir()
    os.symlink(victim, figs / "rd.svg")
    code = taco_main(["plot", str(results), "-o", f"{figs}{os.sep}", *(["-f"] if force else [])])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err == [f"taco plot: error: {figs / 'rd.svg'} is a symbolic link (to {victim}): taco writes its "
                   "figure files in a folder by names of its own, never through a link; remove the link (or "
                   "put a copy of what it links to in its place), or name the files with -o STEM (written "
                   "through a link, as cp does)"]
    assert victim.read_text() == VICTIM_TEXT
    assert not (figs / "rd.png").exists()


def test_plot_to_a_stem_writes_through_a_link_as_cp_does(taco_main, tmp_path, results, capsys):
    """-o STEM names the files: a link there is written through (the policy for named outputs)."""
    target = tmp_path / "real.svg"
    target.write_text("old")
    os.symlink(target, tmp_path / "fig.svg")
    assert taco_main(["plot", str(results), "-o", str(tmp_path / "fig"), "-f"]) == 0, capsys.readouterr().err
    assert (tmp_path / "fig.svg").is_symlink()
    assert target.read_text().lstrip().startswith("<?xml")


# --------------------------------------------------------------------------- import-captions


def _caption_json(tmp_path: Path) -> Path:
    src = tmp_path / "kodak_ofa.json"
    src.write_text(json.dumps({"a.png": "a cat"}))
    return src


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("dangling", [False, True])
def test_import_captions_into_a_folder_refuses_a_link_there(taco_main, tmp_path, capsys, force, dangling):
    """F4: ``-o FOLDER/`` whose captions.jsonl is a link (to an empty victim, or dangling):
    refused with or without -f, naming the link, never "exists; pass --force"."""
    src = _caption_json(tmp_path)
    victim = _victim(tmp_path, "")
    if dangling:
        victim.unlink()
    folder = tmp_path / "images"
    folder.mkdir()
    os.symlink(victim, folder / "captions.jsonl")
    code = taco_main(["import-captions", str(src), "-o", f"{folder}{os.sep}", *(["-f"] if force else [])])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err == [f"taco import-captions: error: {folder / 'captions.jsonl'} is a symbolic link (to {victim}): "
                   "-o names a folder, whose captions.jsonl taco writes itself, never through a link; remove "
                   "the link (or put a copy of what it links to in its place), or name the file with -o FILE "
                   "(written through a link, as cp does)"]
    assert victim.exists() is not dangling
    if not dangling:
        assert victim.read_text() == ""


def test_import_captions_to_a_named_file_writes_through_a_link(taco_main, tmp_path, capsys):
    """-o FILE names the file: a link there is written through with -f, as cp does."""
    src = _caption_json(tmp_path)
    target = tmp_path / "real.jsonl"
    target.write_text("")
    os.symlink(target, tmp_path / "captions.jsonl")
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "captions.jsonl"), "-f"]) == 0
    assert '"a.png"' in target.read_text()


# --------------------------------------------------------------------------- taco caption


def test_caption_refuses_a_hard_linked_captions_file(main_without_captioner, folder_factory, tmp_path, capsys):
    """F6: captions.jsonl a hard link to an empty file elsewhere: refused before the captioner
    loads, naming the link count; the other name's file unchanged."""
    folder = folder_factory(tmp_path / "photos", size=32, captions=False)
    other = tmp_path / "other.txt"
    other.write_text("")
    os.link(other, folder / "captions.jsonl")
    assert main_without_captioner(["caption", str(folder), "--quiet", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    captions = folder / "captions.jsonl"
    assert (f"{captions} is a hard link (a file with 2 names, which a write here would change too): taco "
            f"caption appends to a captions file itself; give it a copy of its own (cp {captions} "
            f"{captions}.copy && mv {captions}.copy {captions}), or name another file with -o" in err)
    assert "remove the link" not in err  # that would lose the captions: every image captioned again
    assert other.read_text() == ""
    with pytest.raises(ValueError, match="is a hard link"):
        plan_captions(folder)


@pytest.mark.parametrize("name", ["notes.md", "summary.json", "photo.png", "other-model.csv"])
def test_evaluate_leaves_a_users_own_link_alone(eval_main, tmp_path, data, capsys, name):
    """A link of the user's own in OUT/DATASET, by a name this run does not write (notes.md):
    not refused, neither it nor its target touched."""
    victim = _victim(tmp_path)
    out_dir = tmp_path / "ev" / "ds"
    out_dir.mkdir(parents=True)
    os.symlink(victim, out_dir / name)
    assert _evaluate(eval_main, tmp_path / "ev", data) == 0, capsys.readouterr().err
    assert (out_dir / name).is_symlink()
    assert victim.read_text() == VICTIM_TEXT
    assert (out_dir / "jpeg.json").is_file()


def test_evaluate_refuses_a_linked_rank_shard(eval_main, tmp_path, data, capsys):
    """A rank shard STEM.rankR.csv is taco's (merged, then deleted): a link there is refused."""
    victim = _victim(tmp_path)
    out_dir = tmp_path / "ev" / "ds"
    out_dir.mkdir(parents=True)
    os.symlink(victim, out_dir / "jpeg.rank0.csv")
    assert _evaluate(eval_main, tmp_path / "ev", data) == 2
    assert f"{out_dir / 'jpeg.rank0.csv'} is a symbolic link" in capsys.readouterr().err
    assert victim.read_text() == VICTIM_TEXT


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


def _stems_taken_and_written(taco_main, folder: Path, out: Path, monkeypatch, args: list[str]) -> tuple[list[str], list[str]]:  # noqa: ANN001
    """``taco evaluate FOLDER ARGS -o OUT``: the stems its last refuse_linked_outputs call took as
    the run's own (with the models'), and those of the results it wrote (caption-mode tables,
    matched by pattern, left out), both sorted."""
    import taco.evaluation.evaluate as evaluate

    listed: list[list[str]] = []
    real = evaluate.refuse_linked_outputs

    def recorded(out_dir: Path, stems=()) -> None:  # noqa: ANN001
        listed.append(list(stems))
        real(out_dir, stems)

    monkeypatch.setattr(evaluate, "refuse_linked_outputs", recorded)
    assert taco_main(["evaluate", str(folder), *args, "--classic", "jpeg", "--qualities", "jpeg=30", "--match-bpp",
                      "--limit", "2", "--fid", "off", "--cmmd-clip", "off", "--bootstrap", "0", "--no-plot",
                      "--quiet", "-o", str(out)]) == 0
    written = sorted(p.name.removesuffix(".json") for p in (out / folder.name).glob("*.json")
                     if not p.name.endswith(".caption-modes.json"))
    return sorted(listed[-1]), written


@pytest.mark.parametrize("modes", [["--compare-caption-modes", "empty,shuffled"], ["--caption-mode", "empty"]])
def test_the_names_taken_as_a_runs_own_are_exactly_those_it_writes(taco_main, tiny_folder, tmp_path, monkeypatch,
                                                                    modes):
    """The stems refuse_linked_outputs takes as this run's own, for a model with text (taco-tiny,
    each caption mode), one without (elic-tiny: caption mode true only, none when not asked) and
    a classic codec matched to them (--match-bpp: each model's run in mode true, else its first
    mode, and nothing for the other modes), are those of the results the run writes, no more
    (a user's link of a name never written, jpeg.matched-TAG.caption-empty.json, was refused)
    and no fewer."""
    taken, written = _stems_taken_and_written(taco_main, tiny_folder, tmp_path / "ev", monkeypatch,
                                              ["-m", "taco-tiny", "-m", "elic-tiny", *modes])
    assert taken == written
    assert any(".caption-empty" in stem for stem in written)
    assert not any(stem.startswith("elic-tiny") and ".caption-" in stem for stem in written)
    compared = modes[0] == "--compare-caption-modes"  # mode true run too: each model matched in it
    assert sum(stem.startswith("jpeg.matched-") for stem in written) == (2 if compared else 1)


def test_a_codec_is_matched_to_the_mode_true_run_when_true_is_not_the_first_mode(taco_main, tiny_folder, tmp_path,
                                                                                monkeypatch):
    """--compare-caption-modes empty,true: the matched codec follows the run in mode true though
    it comes second, and the names taken as the run's own are still exactly those written."""
    taken, written = _stems_taken_and_written(taco_main, tiny_folder, tmp_path / "ev", monkeypatch,
                                              ["-m", "taco-tiny", "--compare-caption-modes", "empty,true"])
    assert taken == written
    matched = [stem for stem in written if stem.startswith("jpeg.matched-")]
    assert len(matched) == 1 and ".caption-" not in matched[0]
