"""Session 38's left-alone items (F-CLEAN, session 39).

* :func:`taco.resolve.made_with_problem` decided whether to add :data:`STALE_TABLES_HINT` by
  searching its own advice for "give the checkpoint that made it"; the branches that give that
  advice now say so themselves. The rule is unchanged: the hint follows exactly that advice, to
  a caller whose model is the file's own model (its name or model id).
* Mutation gap T4: ``taco train CONFIG --resume`` of a warm-started run reads the run's own
  ``warmup_steps`` from its saved config; an OSError there (a state file the user cannot open)
  was never made to happen, so the ``except (ConfigError, OSError, ValueError)`` clause could
  lose OSError unseen. The read falls back to the warm start's warm-up, and the run's state is
  read, and any error said, where the run is checked and trained.
* A sidecar caption ``IMAGE.txt`` saved as UTF-16 (Windows Notepad's "Unicode", with a
  byte-order mark) was "cannot read the caption (not readable UTF-8 text)", where the captions
  file and configs say :data:`taco.jsonfiles.UTF16_TEXT`: it now says that too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.captions_file import CaptionsFileError, SidecarError, read_sidecar
from taco.cli import main as taco_main
from taco.jsonfiles import UTF16_TEXT
from taco.models import create_model, load_builtin, model_fingerprint, save_checkpoint
from taco.resolve import STALE_TABLES_HINT, made_with_problem
from taco.shards import TRAIN_STATE_FILE
from taco.train.schedule import INIT_WARMUP_STEPS

# --------------------------------------------------------------------------- the stale-tables hint

BUILTIN = "elic-small-q3"
FILE_FP = b"\x01" * 32  # weights that made the file
OTHER_FP = b"\x02" * 32  # the model given


@pytest.fixture(scope="module")
def builtin_fp() -> bytes:
    return model_fingerprint(load_builtin(BUILTIN))


# (file_model, file made by the built-in?, given, cli, hint expected)
CASES = {
    "cli, the file's own name given": ("elic-tiny", False, "elic-tiny", True, True),
    "built-in named, other weights made it": (BUILTIN, False, BUILTIN, False, True),
    "built-in named and made it: leave the model out": (BUILTIN, True, BUILTIN, False, False),
    "cli, built-in made it, a checkpoint given": (BUILTIN, True, "ck.safetensors", True, False),
    "architecture named": ("elic-tiny", False, "elic-tiny", False, True),
    "another name": ("my-own-model", False, "my-own-model", False, True),
    "another model given": ("my-own-model", False, "ck.safetensors", True, False),
    "no model named (code 0)": ("", False, "", False, False),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_stale_tables_hint_follows_the_checkpoint_advice_alone(case, builtin_fp) -> None:  # noqa: ANN001
    file_model, by_builtin, given, cli, hint = case
    fingerprint = builtin_fp if by_builtin else FILE_FP
    said = made_with_problem(file_model, fingerprint, OTHER_FP, given=given, cli=cli)
    assert said is not None
    assert said.endswith(STALE_TABLES_HINT) is hint, said
    assert said.count(STALE_TABLES_HINT) == int(hint)
    if file_model:  # (a file naming no model is answered before any of this)
        # the rule the text search stood for: the hint goes with asking for the checkpoint, to
        # a caller that gave the file's own model
        own = given == file_model
        assert hint == (own and "give the checkpoint that made it" in said.removesuffix(STALE_TABLES_HINT))


def test_a_model_of_the_files_id_given_by_another_name_gets_the_hint(tiny_elic) -> None:  # noqa: ANN001
    """A model given by a checkpoint's path whose model id is the file's: its own model too."""
    said = made_with_problem("elic-tiny", FILE_FP, tiny_elic, given="ck.safetensors", cli=True)
    assert said is not None and said.endswith(STALE_TABLES_HINT)
    assert "another checkpoint of 'elic-tiny'" in said


# --------------------------------------------------------------------------- T4: the warm-up read

def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert taco_main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def test_a_resumed_runs_state_that_cannot_be_opened_leaves_the_warm_up_to_the_warm_start(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The run folder holds a training state and no config.yaml: its warm-up is read from the
    state's config. Opening it fails (PermissionError: a user without read permission; root
    reads any file, so a stand-in, for the warm-up's read only): warmup_steps falls back to the
    warm start's, and the state is read again where the resumed run is checked."""
    import taco.train.state as state

    base = tmp_path / "base.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), base)
    run = tmp_path / "run"
    run.mkdir()
    (run / TRAIN_STATE_FILE).write_bytes(b"")  # found; its reads are stood in for below
    config = tmp_path / "mine.yaml"
    config.write_text(f"model: elic-tiny\npreset: elic\ninit_from: {base}\nout_dir: {run}\n",
                      encoding="utf-8")
    reads: list[Path] = []

    def meta(path: Path) -> dict:
        reads.append(Path(path))
        if len(reads) == 1:
            raise PermissionError(13, "Permission denied", str(path))
        return {"config": {"init_from": str(base), "warmup_steps": 7}}

    monkeypatch.setattr(state, "load_train_state_meta", meta)
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == INIT_WARMUP_STEPS
    assert reads[:2] == [run / TRAIN_STATE_FILE] * 2  # the warm-up's read, then the check's
    # read as it is, the run's own warm-up is taken
    reads.clear()
    monkeypatch.setattr(state, "load_train_state_meta",
                        lambda path: {"config": {"init_from": str(base), "warmup_steps": 7}})
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == 7


# --------------------------------------------------------------------------- UTF-16 sidecars

@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_sidecar_is_said_to_be_utf16(tmp_path: Path, encoding: str) -> None:
    """Notepad's "Unicode" is UTF-16 LE with a byte-order mark; either order is named."""
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes(bom + "a red barn".encode(encoding))
    with pytest.raises(SidecarError) as e:
        read_sidecar(sidecar)
    assert str(e.value) == f"{sidecar}: cannot read the caption: {UTF16_TEXT}"
    assert UTF16_TEXT == "UTF-16 text (not UTF-8): save it as UTF-8"
    assert isinstance(e.value, CaptionsFileError) and isinstance(e.value, ValueError)


@pytest.mark.parametrize("raw", [b"caf\xe9", b"\xfe", b"\xff", b"a\xff\xfe"],
                         ids=["latin-1", "lone FE", "lone FF", "FF FE later"])
def test_other_bytes_that_are_not_utf8_are_still_not_readable_utf8(tmp_path: Path, raw: bytes) -> None:
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes(raw)
    with pytest.raises(SidecarError) as e:
        read_sidecar(sidecar)
    assert str(e.value) == f"{sidecar}: cannot read the caption (not readable UTF-8 text)"


def test_a_utf8_sidecar_with_a_bom_still_reads(tmp_path: Path) -> None:
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes(b"\xef\xbb\xbf a red barn \n")
    assert read_sidecar(sidecar) == "a red barn"


def test_taco_compress_says_the_sidecar_is_utf16(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    Image.new("RGB", (32, 32), (120, 30, 200)).save(tmp_path / "a.png")
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes("a red barn".encode("utf-16"))
    out = tmp_path / "a.taco"
    assert taco_main(["compress", str(tmp_path / "a.png"), "-m", "taco-tiny", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"taco compress: error: {sidecar}: cannot read the caption: {UTF16_TEXT}\n"
    assert not out.exists()


def test_taco_evaluate_leaves_the_image_out_saying_its_sidecar_is_utf16(tmp_path: Path) -> None:
    from PIL import Image

    from taco.data import SkippedImageWarning
    from taco.evaluation.datasets import open_dataset

    for name in ("a", "b"):
        Image.new("RGB", (32, 32), (120, 30, 200)).save(tmp_path / f"{name}.png")
    (tmp_path / "a.txt").write_bytes("a red barn".encode("utf-16"))
    (tmp_path / "b.txt").write_text("a purple square", encoding="utf-8")
    with pytest.warns(SkippedImageWarning) as warned:
        dataset = open_dataset(tmp_path)
    assert dataset.names == ["b.png"]
    said = " ".join(str(w.message) for w in warned)
    assert f"{tmp_path / 'a.txt'}: cannot read the caption: {UTF16_TEXT}" in said, said
