"""A second writer without --force no longer replaces the first one's output (review CONC2):
``taco plot A.json -o pl/fig & taco plot B.json -o pl/fig`` and two ``taco import-captions ... -o
c.jsonl`` checked their outputs when they started, then replaced them: both exit 0, saying they
wrote files that held one run's (plot: possibly a PNG of one run beside the SVG of the other).
Without --force the files are now published only where their names are free, as ``taco
compress`` publishes: the run that finds one written meanwhile says so, exits 2 and leaves none
of its own. Real races are flaky: the file appears between the check and the publish (made by a
stand-in of the writer before it writes, or of the captions reader)."""

from __future__ import annotations

import errno
import json
import os
import pickle

import pytest

from taco.evaluation import import_captions as import_captions_module, plot

FIGURE = ("rd.png", "rd.svg", "rd.bdrate.md", "rd.bdrate.json")


def _appearing(monkeypatch, target):
    """``plot``'s writer, before which another plot's ``target`` appears."""
    real = plot.write_all_atomic

    def write_all_atomic(files, *args, **kwargs):
        target.write_bytes(b"theirs")
        return real(files, *args, **kwargs)

    monkeypatch.setattr(plot, "write_all_atomic", write_all_atomic)


@pytest.mark.parametrize("theirs", ["rd.png", "rd.bdrate.json"])
def test_plot_leaves_a_file_written_meanwhile_and_none_of_its_own(taco_main, rd_folder, tmp_path,
                                                                  monkeypatch, capsys, theirs):
    results = rd_folder(tmp_path / "res")
    out = tmp_path / "pl"
    out.mkdir()
    _appearing(monkeypatch, out / theirs)
    assert taco_main(["plot", str(results), "-o", str(out / "rd")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"taco plot: error: {out / theirs} exists (written meanwhile, by another process?): "
        "--force replaces it")
    assert sorted(os.listdir(out)) == [theirs]  # no mix: none of this run's files, no temporaries
    assert (out / theirs).read_bytes() == b"theirs"


def test_plot_with_force_replaces_files_written_meanwhile(taco_main, rd_folder, tmp_path, monkeypatch):
    results = rd_folder(tmp_path / "res")
    out = tmp_path / "pl"
    out.mkdir()
    _appearing(monkeypatch, out / "rd.png")
    assert taco_main(["plot", str(results), "-o", str(out / "rd"), "--force"]) == 0
    assert sorted(os.listdir(out)) == sorted(FIGURE)
    assert (out / "rd.png").read_bytes().startswith(b"\x89PNG")


def test_plot_results_says_meanwhile_in_its_error(rd_folder, tmp_path, monkeypatch):
    results = rd_folder(tmp_path / "res")
    _appearing(monkeypatch, tmp_path / "rd.svg")
    with pytest.raises(plot.OutputExists) as e:
        plot.plot_results(results, tmp_path / "rd", overwrite=False)
    assert e.value.meanwhile and e.value.paths == [tmp_path / "rd.svg"]
    assert "(written meanwhile, by another process?)" in str(e.value)
    assert not (tmp_path / "rd.png").exists()


def test_plot_counts_a_dangling_link_as_there_without_force(taco_main, rd_folder, tmp_path, capsys):
    """As compress counts its outputs: refused before drawing, not taken for one written meanwhile."""
    results = rd_folder(tmp_path / "res")
    os.symlink(tmp_path / "gone.png", tmp_path / "rd.png")
    assert taco_main(["plot", str(results), "-o", str(tmp_path / "rd")]) == 2
    assert "rd.png exists; pass --force to overwrite it" in capsys.readouterr().err


@pytest.fixture
def ofa(tmp_path):
    src = tmp_path / "kodak_ofa.json"
    src.write_text(json.dumps({"kodim01.png": "a brick building with red doors"}))
    return src


def _captions_appearing(monkeypatch, out):
    real = import_captions_module.import_captions

    def import_captions(*args, **kwargs):
        records = real(*args, **kwargs)
        out.write_text("theirs\n")  # another import-captions, done while this one read its file
        return records

    monkeypatch.setattr(import_captions_module, "import_captions", import_captions)


def test_import_captions_leaves_a_file_written_meanwhile(taco_main, ofa, tmp_path, monkeypatch, capsys):
    out = tmp_path / "c.jsonl"
    _captions_appearing(monkeypatch, out)
    assert taco_main(["import-captions", str(ofa), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == (
        f"taco import-captions: error: {out} exists (written meanwhile, by another process?): "
        "--force replaces it")
    assert captured.out == ""
    assert out.read_text() == "theirs\n"
    assert sorted(os.listdir(tmp_path)) == ["c.jsonl", "kodak_ofa.json"]


def test_import_captions_with_force_replaces_one_written_meanwhile(taco_main, ofa, tmp_path, monkeypatch):
    out = tmp_path / "c.jsonl"
    _captions_appearing(monkeypatch, out)
    assert taco_main(["import-captions", str(ofa), "-o", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["image"] == "kodim01.png"


def test_plot_results_raises_another_files_exists_error_as_it_is(rd_folder, tmp_path, monkeypatch):
    """A FileExistsError naming none of the plot's files is no OutputExists (written meanwhile)."""
    results = rd_folder(tmp_path / "res")
    elsewhere = str(tmp_path / "elsewhere")

    def write_all_atomic(files, *args, **kwargs):
        raise FileExistsError(errno.EEXIST, "File exists", elsewhere)

    monkeypatch.setattr(plot, "write_all_atomic", write_all_atomic)
    with pytest.raises(FileExistsError) as e:
        plot.plot_results(results, tmp_path / "rd", overwrite=False)
    assert not isinstance(e.value, plot.OutputExists)
    assert e.value.filename == elsewhere


@pytest.mark.parametrize("meanwhile", [True, False])
def test_output_exists_keeps_meanwhile_through_pickle(tmp_path, meanwhile):
    """As a worker's error is rebuilt in the parent."""
    exc = plot.OutputExists([tmp_path / "rd.png"], meanwhile=meanwhile)
    back = pickle.loads(pickle.dumps(exc))
    assert back.meanwhile is meanwhile
    assert back.paths == [tmp_path / "rd.png"]
    assert str(back) == str(exc)
