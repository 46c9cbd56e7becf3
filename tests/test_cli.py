"""The CLI end to end on real photos (tiny models so it stays fast)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from taco.cli import main
from taco.resolve import DEFAULT_MODEL
from taco.samples import SAMPLES_DIR as SAMPLES

CHELSEA = SAMPLES / "skimage-chelsea.png"


@pytest.fixture()
def photos(tmp_path):
    """Two small photos with a captions.jsonl, like shared/data/photos/val."""
    d = tmp_path / "photos"
    d.mkdir()
    recs = []
    for name in ("skimage-chelsea.png", "skimage-coffee.png"):
        Image.open(SAMPLES / name).resize((96, 64)).save(d / name)
        recs.append({"image": name, "captions": [f"caption of {name}"]})
    (d / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    return d


def test_compress_info_decompress_single(tmp_path, capsys):
    out = tmp_path / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "a cat", "-m", "taco-tiny", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bpp" in text and "compressed 1 image with taco-tiny: " in text  # a name: no --model to give
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["width"], info["height"], info["model_id"]) == (451, 300, "taco-tiny")
    assert info["bytes"] == out.stat().st_size
    # no --model: the file names its model; no caption needed
    assert main(["decompress", str(out)]) == 0
    decoded = tmp_path / "cat.decoded.png"
    with Image.open(decoded) as im:
        assert im.size == (451, 300)


def test_folder_with_captions_jsonl_and_summary(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compress", str(photos), "-m", "elic-tiny", "-o", str(out)]) == 0
    assert "compressed 2 images" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["skimage-chelsea.taco", "skimage-coffee.taco"]
    dec = tmp_path / "dec"
    assert main(["decompress", str(out), "-o", str(dec)]) == 0
    assert sorted(p.name for p in dec.iterdir()) == ["skimage-chelsea.png", "skimage-coffee.png"]


def test_caption_sources(photos, tmp_path, capsys):
    img = photos / "skimage-chelsea.png"
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(img, lone / "a.png")
    # no caption anywhere -> coded with an empty caption, the same bytes as --caption ''
    assert main(["compress", str(lone / "a.png"), "-m", "taco-tiny"]) == 0
    assert main(["compress", str(lone / "a.png"), "--caption", "", "-m", "taco-tiny",
                 "-o", str(tmp_path / "empty.taco")]) == 0
    assert (lone / "a.taco").read_bytes() == (tmp_path / "empty.taco").read_bytes()
    assert "a.png has no caption" in capsys.readouterr().err
    # sidecar .txt
    (lone / "a.txt").write_text("a cat on a sofa\n")
    assert main(["compress", str(lone / "a.png"), "-m", "taco-tiny", "--force"]) == 0
    assert "no caption" not in capsys.readouterr().err
    # explicit --captions file
    caps = tmp_path / "caps.jsonl"
    caps.write_text(json.dumps({"image": "a.png", "captions": ["x"]}) + "\n")
    assert main(["compress", str(lone / "a.png"), "--captions", str(caps), "-m", "taco-tiny",
                 "-o", str(tmp_path / "b.taco")]) == 0
    # explicit empty caption
    assert main(["compress", str(lone / "a.png"), "--caption", "", "-m", "taco-tiny",
                 "-o", str(tmp_path / "c.taco")]) == 0


def test_compress_reads_captions_files_as_training_does(tmp_path, capsys):
    """One reader of captions.jsonl (taco.captions_file): what trains also compresses."""
    from taco.cli.inputs import CaptionSource

    shutil.copy(CHELSEA, tmp_path / "a.png")
    args = ["-m", "taco-tiny", "--quiet"]
    for n, line in enumerate([{"image": "a.png", "caption": "a cat"},  # singular, as training accepts
                              {"image": "a.png", "captions": ["", " ", "a cat", "a sofa"]}]):  # blanks dropped
        caps = tmp_path / f"caps{n}.jsonl"
        caps.write_text(json.dumps(line) + "\n")
        assert CaptionSource(None, str(caps))(tmp_path / "a.png") == "a cat"
        assert main(["compress", str(tmp_path / "a.png"), "--captions", str(caps), "-o", str(tmp_path / f"{n}.taco"), *args]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"image": "a.png", "captions": ["x"]}) + "\n{not json\n")
    assert main(["compress", str(tmp_path / "a.png"), "--captions", str(bad), *args]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: expected" in err and "Traceback" not in err and len(err.splitlines()) == 1
    bad.write_bytes(b'{"image": "a.png", "captions": ["\xff"]}\n')
    assert main(["compress", str(tmp_path / "a.png"), "--captions", str(bad), *args]) == 2
    assert f"{bad}:1: not UTF-8 text" in capsys.readouterr().err
    assert not (tmp_path / "a.taco").exists()


def test_an_image_without_a_caption_is_coded_with_an_empty_one(tmp_path, capsys):
    shutil.copy(CHELSEA, tmp_path / "x.png")
    assert main(["compress", str(tmp_path / "x.png"), "-m", "taco-tiny"]) == 0
    err = capsys.readouterr().err.splitlines()[-1]  # after the note on taco-tiny's weights
    assert err.startswith(f"taco compress: note: {tmp_path / 'x.png'} has no caption, so it is "
                          "coded without one")
    assert "--caption" in err and "x.txt" in err
    # a model without text needs no caption: no note
    assert main(["compress", str(tmp_path / "x.png"), "-m", "elic-tiny", "--force"]) == 0
    assert "caption" not in capsys.readouterr().err
    # one given by name to a model that reads none: said, not silently dropped
    assert main(["compress", str(tmp_path / "x.png"), "-m", "elic-tiny", "--force",
                 "--caption", "a cat"]) == 0
    assert ("taco compress: note: elic-tiny takes no caption (a text-free model): --caption is "
            "not used") in capsys.readouterr().err


def test_every_image_without_a_caption_is_named_at_once(tmp_path, capsys):
    for name in "abcdefg":
        shutil.copy(CHELSEA, tmp_path / f"{name}.png")
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "c.png", "captions": ["x"]}))
    assert main(["compress", str(tmp_path), "-m", "taco-tiny", "-o", str(tmp_path / "o"),
                 "--quiet"]) == 0
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        "taco compress: note: 6 of 7 images have no caption, so they are coded without one: "
        f"{tmp_path / 'a.png'}, {tmp_path / 'b.png'}, {tmp_path / 'd.png'}, {tmp_path / 'e.png'}, "
        f"{tmp_path / 'f.png'} and 1 more (a caption guides the encoder: give --caption TEXT")
    assert len(list((tmp_path / "o").iterdir())) == 7


def test_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "x.taco"
    args = ["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(out)]
    assert main(args) == 0
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    assert main(["compress", str(bad), "--caption", "", "-m", "elic-tiny"]) == 2
    assert "cannot read image" in capsys.readouterr().err
    junk = tmp_path / "junk.taco"
    junk.write_bytes(b"TACO\x02\x01garbage")
    assert main(["decompress", str(junk), "-m", "elic-tiny"]) == 2
    assert "truncated" in capsys.readouterr().err
    assert main(["info", str(junk)]) == 2
    assert main(["compress", str(tmp_path / "missing.png"), "--caption", ""]) == 2


def test_decoded_pixels_match_library(tmp_path):
    import taco

    out = tmp_path / "x.taco"
    assert main(["compress", str(CHELSEA), "--caption", "a cat", "-m", "taco-tiny", "-o", str(out)]) == 0
    model = taco.create_model("taco-tiny", seed=0)
    lib = taco.decompress(out.read_bytes(), model)
    assert main(["decompress", str(out), "-o", str(tmp_path / "x.png")]) == 0
    assert np.array_equal(np.asarray(lib), np.asarray(Image.open(tmp_path / "x.png")))


def test_help_texts():
    for cmd in ("compress", "decompress", "info", "demo"):
        r = subprocess.run([sys.executable, "-m", "taco.cli", cmd, "--help"],
                           capture_output=True, text=True)
        assert r.returncode == 0 and "usage: taco" in r.stdout


@pytest.mark.slow
def test_demo_runs_offline_and_writes_outputs(tmp_path, capsys):
    assert main(["demo", "-m", "taco-minilm-tiny", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for word in ("bpp", "PSNR", "LPIPS", "encode", "decode"):
        assert word in out
    assert (tmp_path / "skimage-chelsea.side-by-side.png").is_file()
    assert (tmp_path / "skimage-chelsea.decoded.png").is_file()


def test_demo_says_every_file_it_wrote():
    """The "wrote" line left out the .taco it writes (a second run overwrites it too)."""
    from taco.cli.demo import demo_lines

    files = ["d/cat.taco", "d/cat.decoded.png", "d/cat.side-by-side.png"]
    result = {"files": files, "model": "m", "trained": True, "image": "cat.png", "size": "4x3",
              "source_bytes": 9, "source_format": "PNG", "reads_text": False, "caption": "", "taco_bytes": 5, "bpp": 0.1,
              "psnr_db": 30.0, "lpips_alex": 0.2, "encode_ms": 1, "decode_ms": 1, "classic": {}}
    assert demo_lines(result)[-1] == "wrote      d/cat.taco, d/cat.decoded.png, d/cat.side-by-side.png"


# --------------------------------------------------------------------------- outputs (issue 15)


@pytest.fixture()
def no_model(monkeypatch):
    """Fail if a command gets as far as loading a model: output checks come before any work."""
    import taco.cli.compress
    import taco.cli.decompress

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the output was checked")

    for command in (taco.cli.compress, taco.cli.decompress):
        monkeypatch.setattr(command, "command_model", refuse)
    monkeypatch.setattr(taco.cli.decompress, "resolve_model", refuse)  # the model a file names


def test_missing_output_folder_refused_before_work(tmp_path, capsys, no_model):
    out = tmp_path / "missing" / "x.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"folder {out.parent} does not exist" in err
    assert "Errno" not in err and len(err.strip().splitlines()) == 1


def test_existing_outputs_refused_before_work(photos, tmp_path, capsys, no_model):
    out = tmp_path / "out"
    out.mkdir()
    (out / "skimage-coffee.taco").write_bytes(b"old")
    assert main(["compress", str(photos), "-o", str(out)]) == 2
    assert "skimage-coffee.taco exists; pass --force to overwrite it" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["skimage-coffee.taco"]  # nothing written


def test_output_that_is_a_file_or_an_input_refused(photos, tmp_path, capsys, no_model):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["compress", str(photos), "-o", str(a_file)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    img = photos / "skimage-chelsea.png"
    before = img.read_bytes()
    assert main(["compress", str(img), "--caption", "", "-o", str(img), "--force"]) == 2
    assert "not a .png image: name it skimage-chelsea.taco" in capsys.readouterr().err
    assert img.read_bytes() == before
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(img, other / img.name)  # the same name in two folders -> the same output
    assert main(["compress", str(photos), str(other), "--caption", "", "-o", str(tmp_path / "o")]) == 2
    assert "would both be written to" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_inputs_that_differ_by_suffix_keep_their_whole_names(tmp_path, capsys):
    """A camera's IMG_1.HEIC beside IMG_1.JPG (here .png and .jpg): each keeps its whole name,
    IMG_1.png.taco and IMG_1.jpg.taco, beside the inputs or in an output folder; the others
    keep the short name."""
    base = Image.open(CHELSEA).convert("RGB").resize((32, 24))
    for name in ("IMG_1.png", "IMG_1.jpg", "IMG_2.png"):
        base.save(tmp_path / name)
    args = ["--caption", "", "-m", "elic-tiny", "--quiet"]
    assert main(["compress", str(tmp_path / "IMG_1.png"), str(tmp_path / "IMG_1.jpg"), *args]) == 0
    assert (tmp_path / "IMG_1.png.taco").is_file() and (tmp_path / "IMG_1.jpg.taco").is_file()
    assert main(["compress", str(tmp_path), "-o", str(tmp_path / "out"), *args]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["IMG_1.jpg.taco", "IMG_1.png.taco", "IMG_2.taco"]
    assert main(["decompress", str(tmp_path / "out"), "-o", str(tmp_path / "dec"), "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "dec").iterdir()) == ["IMG_1.jpg.png", "IMG_1.png.png", "IMG_2.png"]


def test_a_file_name_for_the_output_of_a_folder_is_refused(photos, tmp_path, capsys, no_model):
    """``taco compress FOLDER -o x.taco`` made a folder x.taco/ of .taco files."""
    tacos = tmp_path / "tacos"
    tacos.mkdir()
    for name in ("a.taco", "b.taco"):
        (tacos / name).write_bytes(b"TACO")
    for command, src, out in (("compress", photos, "x.taco"), ("decompress", tacos, "one.png"),
                              ("compress", photos, "y.JPG")):
        assert main([command, str(src), "-o", str(tmp_path / out)]) == 2
        err = capsys.readouterr().err
        assert f"{tmp_path / out} names a file, but the output of a folder" in err
        assert "ends with a slash" in err and not (tmp_path / out).exists()
    from taco.cli.files import plan_outputs

    sources = [tmp_path / "a.png", tmp_path / "b.png"]
    planned = plan_outputs(sources, str(tmp_path / "keep.taco") + "/", to_folder=True, suffix=".taco",
                           beside_suffix=".taco", force=False)  # a slash: a folder on purpose
    assert planned == [tmp_path / "keep.taco" / "a.taco", tmp_path / "keep.taco" / "b.taco"]


def test_folder_in_folder_out_even_for_one_image(tmp_path, capsys):
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(CHELSEA, one / "cat.png")
    (one / "cat.txt").write_text("a cat")
    assert main(["compress", str(one), "-m", "elic-tiny", "-o", str(tmp_path / "NAME")]) == 0
    assert (tmp_path / "NAME").is_dir() and (tmp_path / "NAME" / "cat.taco").is_file()
    assert main(["decompress", str(tmp_path / "NAME"), "-o", str(tmp_path / "DEC")]) == 0
    assert (tmp_path / "DEC" / "cat.png").is_file()


def test_folder_lines_are_counted_and_summary_apart(photos, tmp_path, capsys):
    assert main(["compress", str(photos), "-m", "elic-tiny", "-o", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[1/2] ") and out[1].startswith("[2/2] ")
    assert out[2].startswith("compressed 2 images")


def test_decompress_output_format_checked_before_decoding(tmp_path, capsys):
    src = tmp_path / "x.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(src)]) == 0
    capsys.readouterr()
    assert main(["decompress", str(src), "-o", str(tmp_path / "x.xyz")]) == 2
    assert "cannot write .xyz images" in capsys.readouterr().err
    assert main(["decompress", str(src), "-o", str(tmp_path / "x.webp")]) == 0
    with Image.open(tmp_path / "x.webp") as im:
        assert im.format == "WEBP" and im.size == (451, 300)


def test_bad_taco_file_names_the_file(tmp_path, capsys):
    junk = tmp_path / "junk.taco"
    junk.write_bytes(b"TACO\x02\x01garbage")
    assert main(["info", str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"taco info: error: {junk}: ") and len(err.strip().splitlines()) == 1


def test_wrong_model_did_you_mean(tmp_path, capsys):
    typo = DEFAULT_MODEL[:-1] + chr(ord(DEFAULT_MODEL[-1]) + 1)  # taco-minilm-small-q4 -> ...-q5
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", typo,
                 "-o", str(tmp_path / "x.taco")]) == 2
    err = capsys.readouterr().err
    assert f"did you mean {DEFAULT_MODEL!r}" in err
    trained, untrained = err.split("trained: ", 1)[1].split("; untrained (random weights): ")
    assert DEFAULT_MODEL in trained.split(", ") and "elic-tiny" not in trained
    assert "elic-tiny" in untrained and DEFAULT_MODEL not in untrained


def test_info_rounds_bpp(tmp_path, capsys):
    """JSON gives the number rounded; the text gives 4 decimals as compress does, trailing zeros
    too (100x80: bpp = bytes / 1000 has at most 3 of its own)."""
    image, out = tmp_path / "cat.png", tmp_path / "x.taco"
    Image.open(CHELSEA).crop((0, 0, 100, 80)).save(image)
    assert main(["compress", str(image), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 0
    said = next(x for x in capsys.readouterr().out.split(", ") if x.endswith(" bpp"))
    assert main(["info", str(out), "--json"]) == 0
    bpp = json.loads(capsys.readouterr().out)["bpp"]
    assert bpp == round(8 * out.stat().st_size / (100 * 80), 4)
    assert main(["info", str(out)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("bpp"))
    assert line.split(":")[1].strip() == f"{out.stat().st_size / 1000:.4f}" == said.split()[0]


# --------------------------------------------------------------------------- photos as they come


def test_phone_photo_is_coded_upright(tmp_path, capsys):
    src = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    Image.open(CHELSEA).resize((128, 64)).save(src, exif=exif)
    assert main(["compress", str(src), "--caption", "", "-m", "elic-tiny"]) == 0
    assert "64x128 (EXIF orientation 6 applied)" in capsys.readouterr().out
    assert main(["decompress", str(tmp_path / "phone.taco")]) == 0
    with Image.open(tmp_path / "phone.decoded.png") as im:
        assert im.size == (64, 128)


@pytest.mark.parametrize(("mode", "words"), [
    ("RGBA", "alpha channel of this RGBA image is dropped"),
    ("I;16", "16-bit grey samples are coded with 8-bit precision"),
    ("CMYK", "CMYK is converted to RGB without colour management (it has no CMYK colour profile)"),
    ("P", "the palette is not kept"),
])
def test_what_cannot_be_kept_is_one_warning_line(tmp_path, capsys, mode, words):
    src = tmp_path / f"img-{mode.replace(';', '')}.{'tif' if mode == 'CMYK' else 'png'}"
    base = Image.open(CHELSEA).resize((64, 48))
    if mode == "I;16":
        Image.fromarray(np.asarray(base.convert("L")).astype("<u2") * 257).save(src)
    elif mode == "RGBA":
        base.putalpha(200)  # see-through (an opaque alpha channel loses nothing: no warning)
        base.save(src)
    else:
        base.convert(mode).save(src)
    assert main(["compress", str(src), "--caption", "", "-m", "elic-tiny"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    warned = [line for line in err if "warning" in line]
    assert warned == [f"taco compress: warning: {src}: " + warned[0].split(f"{src}: ", 1)[1]]
    assert warned[0].count(str(src)) == 1
    assert words in warned[0]
    assert not any(".py" in line or "warnings.warn" in line for line in err)  # no source lines


def test_stage_reporter_prints_stages_after_the_delay():
    import io

    from taco.cli.progress_line import StageReporter

    log = io.StringIO()
    with StageReporter("big.png", delay=0.0, stream=log) as progress:
        progress("analysis", 0, 1)
        progress("entropy coding", 0, 1)
        progress("synthesis", 2, 8)
    lines = log.getvalue().splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines[:3]] == [
        "big.png: analysis", "big.png: entropy coding", "big.png: synthesis 2/8"]
    assert "\r" not in log.getvalue()  # a log file gets whole lines

    quiet = io.StringIO()
    with StageReporter("small.png", delay=60.0, stream=quiet) as progress:
        progress("analysis", 0, 1)
    assert quiet.getvalue() == ""  # nothing for an image done within the delay


def test_compress_says_writing_while_it_writes_its_output(tmp_path, monkeypatch):
    """A compress blocked opening or writing its output (a named pipe without a reader, a slow
    NFS) said "entropy coding" all that time: its stage is "writing", as decompress's is."""
    from taco.cli import compress

    stages: list[str] = []
    at_write: list[str] = []

    class Recorder:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self):
            return lambda stage, done, total: stages.append(stage)

        def __exit__(self, *exc: object) -> None:
            return None

    real = compress.write_output

    def write(*args, **kwargs):
        at_write.append(stages[-1])
        return real(*args, **kwargs)

    monkeypatch.setattr(compress, "StageReporter", Recorder)
    monkeypatch.setattr(compress, "write_output", write)
    out = tmp_path / "x.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "--quiet", "-o", str(out)]) == 0
    assert at_write == ["writing"] and out.is_file()
    assert "entropy coding" in stages  # the stages before it are the codec's own


def test_quality_of_a_variable_rate_model(tmp_path, capsys):
    """taco compress -q N: the quality goes into the file, taco decompress needs nothing else;
    a single-rate model refuses -q, a variable-rate one refuses a quality it does not have."""
    from taco.models import create_model, save_checkpoint

    ckpt = save_checkpoint(create_model("elic-tiny", qualities=[0.0004, 0.0016, 0.009]),
                           tmp_path / "vr.safetensors")
    image = tmp_path / "cat.png"
    Image.open(CHELSEA).resize((96, 64)).save(image)
    sizes = {}
    for q in (None, 1, 3):
        out = tmp_path / f"q{q}.taco"
        args = ["compress", str(image), "--caption", "", "-m", str(ckpt), "-o", str(out), "--quiet"]
        assert main(args + (["-q", str(q)] if q else [])) == 0
        assert f"at quality {q or 2}:" in capsys.readouterr().out  # default: the middle one
        assert main(["info", str(out), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["quality"] == (q or 2)
        assert main(["decompress", str(out), "-m", str(ckpt), "--quiet"]) == 0
        sizes[q] = out.stat().st_size
    assert sizes[1] < sizes[None] < sizes[3]
    assert main(["compress", str(image), "--caption", "", "-m", str(ckpt), "-q", "4",
                 "-o", str(tmp_path / "x.taco")]) == 2
    assert "quality must be an integer 1..3" in capsys.readouterr().err
    assert main(["compress", str(image), "--caption", "", "-m", "elic-tiny", "-q", "2",
                 "-o", str(tmp_path / "y.taco")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and "single rate" in errors[0]


def test_a_single_rate_built_in_names_its_other_rates_for_a_quality_and_a_size(tmp_path, capsys):
    """-q N, --max-bytes and --target-bpp on one rate of a built-in family all list the family."""
    from taco.models import PRETRAINED

    rates = ", ".join(f"{n} (λ={e.lmbda:g})" for n, e in sorted(PRETRAINED.items(), key=lambda x: x[1].lmbda or 0)
                      if n.startswith("elic-small-q"))
    assert rates.count("elic-small-q") == 2
    for option in (["-q", "2"], ["--max-bytes", "4000"], ["--target-bpp", "0.5"]):
        assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-small-q4", *option,
                     "-o", str(tmp_path / "x.taco")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"taco compress: error: {option[0] + ' needs' if option[0] != '-q' else 'model'}")
        assert err.endswith(f"; its rates are separate models, chosen by name: {rates}"), err


def test_compress_warns_when_the_file_is_over_the_decoders_default_cap(tmp_path, monkeypatch, capsys):
    """A photo over the decode cap still compresses, with one line saying how to decode it."""
    import taco.cli.compress

    monkeypatch.setattr(taco.cli.compress, "MAX_DECODE_PIXELS", 64 * 64)
    src = tmp_path / "big.png"
    Image.new("RGB", (80, 64), (120, 60, 30)).save(src)
    assert main(["compress", str(src), "--caption", "", "-m", "elic-tiny", "-o", str(tmp_path / "big.taco")]) == 0
    err = capsys.readouterr().err
    assert "big.taco: 80x64 is over the decoder's default cap of 4,096 pixels" in err
    assert "taco decompress --max-pixels 0" in err
    Image.new("RGB", (64, 64)).save(src.with_name("small.png"))
    assert main(["compress", str(src.with_name("small.png")), "--caption", "", "-m", "elic-tiny"]) == 0
    assert "cap" not in capsys.readouterr().err


# --------------------------------------------------------------------------- bad inputs in a batch


def test_a_batch_skips_the_inputs_it_cannot_code_and_says_so(photos, tmp_path, capsys):
    (photos / "cut.png").write_bytes((photos / "skimage-coffee.png").read_bytes()[:200])
    Image.new("RGB", (3, 40_000)).save(photos / "tall.png")
    out = tmp_path / "out"
    assert main(["compress", str(photos), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 3
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert sorted(p.name for p in out.iterdir()) == ["skimage-chelsea.taco", "skimage-coffee.taco"]
    assert "compressed 2 images" in captured.out
    assert any("cannot read image" in line and "cut.png" in line for line in err)
    assert any(f"{photos / 'tall.png'}: a 3x40000 image cannot be coded" in line for line in err)
    assert err[-1] == (f"taco compress: error: 2 of 4 images failed: {photos / 'cut.png'}, "
                       f"{photos / 'tall.png'}")

    files = sorted(out.iterdir())
    (out / "bad.taco").write_bytes(files[0].read_bytes()[:-3])
    decoded = tmp_path / "decoded"
    assert main(["decompress", str(out), "-o", str(decoded)]) == 3
    captured = capsys.readouterr()
    assert sorted(p.name for p in decoded.iterdir()) == ["skimage-chelsea.png", "skimage-coffee.png"]
    assert "decompressed 2 files" in captured.out
    assert captured.err.splitlines()[-1] == f"taco decompress: error: 1 of 3 files failed: {out / 'bad.taco'}"


def test_every_file_decodes_to_the_default_png_and_outputs_fit_what_it_decodes_to(tmp_path, capsys):
    """The output format is checked against what a file decodes to (RGB for CMYK, alpha and
    palette images; I;16 for 16-bit and 32-bit grey; L for float), not against the mode it was
    made from: a CMYK JPEG decodes to PNG and an RGBA one to JPEG."""
    base = Image.open(CHELSEA).convert("RGB").resize((32, 24))
    grey = np.asarray(base.convert("L"))
    sources = {"cmyk.jpg": base.convert("CMYK"), "rgba.png": base.convert("RGBA"),
               "palette.gif": base.convert("P"), "grey16.png": Image.fromarray(grey.astype("<u2") * 257),
               "int32.tif": Image.fromarray(grey.astype(np.int32) * 257),
               "float.tif": Image.fromarray(grey.astype(np.float32))}
    made = tmp_path / "made"
    made.mkdir()
    for name, image in sources.items():
        image.save(tmp_path / name)
    assert main(["compress", *(str(tmp_path / n) for n in sources), "--caption", "", "-m", "elic-tiny",
                 "-o", str(made), "--quiet"]) == 0
    assert main(["decompress", str(made), "-o", str(tmp_path / "png"), "--quiet"]) == 0  # every one
    modes = {p.name: Image.open(p).mode for p in (tmp_path / "png").iterdir()}
    assert modes == {"cmyk.png": "RGB", "rgba.png": "RGB", "palette.png": "RGB", "grey16.png": "I;16",
                     "int32.png": "I;16", "float.png": "L"}
    for name in ("cmyk", "rgba", "palette"):
        assert main(["decompress", str(made / f"{name}.taco"), "-o", str(tmp_path / "png" / f"{name}.jpg")]) == 0
    capsys.readouterr()
    assert main(["decompress", str(made / "grey16.taco"), "-o", str(tmp_path / "g.jpg")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco decompress: error: {made / 'grey16.taco'}: {tmp_path / 'g.jpg'}: JPEG cannot hold the "
        "decoded 16-bit grey image; use .png or .tif")
    assert main(["decompress", str(made / "rgba.taco"), "-o", str(tmp_path / "noext")]) == 2
    assert "cannot write an image to a name without a suffix; use .png" in capsys.readouterr().err


def test_compress_refuses_a_taco_input_and_an_image_output_name(tmp_path, capsys, no_model):
    """``taco compress cat.taco`` says it is a .taco (not "it cannot be its own output"), and
    ``-o x.png`` would have written .taco bytes under an image's name."""
    made = tmp_path / "cat.taco"
    made.write_bytes(b"TACO")
    assert main(["compress", str(made), "--caption", ""]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco compress: error: {made} is a .taco file, not an image: taco decompress decodes it")
    assert main(["compress", str(CHELSEA), "--caption", "", "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco compress: error: {tmp_path / 'x.png'}: compress writes a .taco file, not a .png image: "
        "name it x.taco")
    assert not (tmp_path / "x.png").exists()


def test_a_folder_says_what_it_leaves_out(tmp_path, capsys):
    """A camera folder: subfolders are not searched and RAW or video files are not read; one
    note names them, and taco decompress's outputs beside their sources (Review CL #2). Captions,
    notes, hidden folders and taco's .taco files are left out quietly."""
    folder = tmp_path / "DCIM"
    (folder / "sub").mkdir(parents=True)
    (folder / ".thumbs").mkdir()
    Image.open(CHELSEA).resize((32, 24)).save(folder / "a.png")
    for name in ("IMG_1.CR2", "clip.MOV", ".DS_Store", "a.txt", "captions.jsonl", "x.taco", "a.decoded.png"):
        (folder / name).write_bytes(b"")
    assert main(["compress", str(folder), "--caption", "", "-m", "elic-tiny", "-o", str(tmp_path / "out"),
                 "--quiet"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "left out" in line]
    assert notes == [f"taco compress: note: left out 1 subfolder, not searched ({folder / 'sub'}), 2 "
                     f"files it does not read as images ({folder / 'IMG_1.CR2'}, {folder / 'clip.MOV'}) "
                     f"and 1 output of taco decompress beside its source ({folder / 'a.decoded.png'})"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.taco"]


def test_one_image_too_tall_for_the_format_is_refused_before_coding(tmp_path, capsys, monkeypatch):
    import taco.codec

    tall = tmp_path / "tall.png"
    Image.new("RGB", (40_000, 2)).save(tall)
    monkeypatch.setattr(taco.codec, "analysis_with_text_overlap",
                        lambda *a, **k: pytest.fail("coded an image the format cannot hold"))
    assert main(["compress", str(tall), "--caption", "", "-m", "elic-tiny",
                 "-o", str(tmp_path / "x.taco")]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == (
        f"taco compress: error: {tall}: a 40000x2 image cannot be coded: the .taco format holds "
        "images of 1 to 32,768 pixels a side (crop or resize it)")
    assert "compressed" not in captured.out
    assert not (tmp_path / "x.taco").exists()


def test_a_bug_in_a_batch_is_not_skipped(photos, tmp_path, monkeypatch):
    import taco.codec

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(taco.codec, "compress_image", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["compress", str(photos), "--caption", "", "-m", "elic-tiny", "-o", str(tmp_path / "o")])


def test_a_folder_of_avif_and_heic_photos(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()  # to write the test photo
    photos = tmp_path / "phone"
    photos.mkdir()
    cat = Image.open(CHELSEA).convert("RGB").resize((96, 64))
    cat.save(photos / "a.avif", quality=90)
    cat.save(photos / "b.HEIC", quality=90)
    out = tmp_path / "out"
    assert main(["compress", str(photos), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "b.taco"]


def test_a_photo_loaded_each_epoch_warns_once_naming_it(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("skimage-rocket.png", "skimage-chelsea.png"):  # rocket: an Adobe RGB profile
        shutil.copy(SAMPLES / name, photos / name)
    (photos / "captions.jsonl").write_text(
        "".join(json.dumps({"image": n, "captions": ["a photo"]}) + "\n"
                for n in ("skimage-rocket.png", "skimage-chelsea.png")))
    smoke = SAMPLES.parents[2] / "configs" / "smoke.yaml"
    assert main(["train", str(smoke), "--set", f"data.root={photos}", f"val.root={photos}",
                 "val.interval=2", "max_steps=6", f"out_dir={tmp_path / 'run'}"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "Adobe RGB" in line]
    assert lines == ["taco train: warning: skimage-rocket.png: colours converted "  # training decodes nothing
                     "from its 'Adobe RGB (1998)' profile to sRGB"]


def test_info_reads_the_other_files_past_a_bad_one(tmp_path, capsys):
    good = tmp_path / "files" / "good.taco"
    good.parent.mkdir()
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(good)]) == 0
    bad = tmp_path / "files" / "bad.taco"
    bad.write_bytes(good.read_bytes()[:10])
    capsys.readouterr()
    assert main(["info", str(good.parent)]) == 3  # a folder: its .taco files, sorted
    out, err = capsys.readouterr()
    assert "          file: " + str(good) in out
    assert "quality: - (single-rate model)" in out
    assert err.splitlines() == [
        f"taco info: error: {bad}: truncated .taco file: it ends inside the model fingerprint "
        "(needs 15 bytes, has 10)",
        f"taco info: error: 1 of 2 files failed: {bad}"]
    assert main(["info", str(good), str(good), "--json"]) == 0  # one file named twice: once
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["quality"] == 0


def test_a_folder_is_compressed_without_its_decoded_outputs(tmp_path):
    shutil.copy(CHELSEA, tmp_path / "x.png")
    assert main(["compress", str(tmp_path), "-m", "elic-tiny", "--quiet"]) == 0
    assert main(["decompress", str(tmp_path / "x.taco"), "--quiet"]) == 0
    assert (tmp_path / "x.decoded.png").is_file()
    out = tmp_path / "o"
    assert main(["compress", str(tmp_path), "-m", "elic-tiny", "-o", str(out), "--quiet"]) == 0
    assert [p.name for p in out.iterdir()] == ["x.taco"]
    # named on its own, a decoded output is an image like any other
    assert main(["compress", str(tmp_path / "x.decoded.png"), "-m", "elic-tiny", "--quiet"]) == 0


def test_models_lists_the_built_ins_and_the_architectures(capsys):
    from taco.models import PRETRAINED, list_models
    from taco.resolve import DEFAULT_MODEL

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert sorted(listed) == list_models()
    assert any(line.split()[:2] == [DEFAULT_MODEL, "*"] for line in out.splitlines())
    trained = out.split("Architectures")[0]
    assert all(name in trained for name in PRETRAINED)

    assert main(["models", "taco", "elic", "--json"]) == 0
    taco, elic = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (taco["parameters"], taco["trained"], taco["text_encoder"]) == (38_579_275, False, "clip")
    assert elic["parameters"] == 36_932_427 and elic["text_encoder"] is None  # ELIC, paper size

    assert main(["models", DEFAULT_MODEL]) == 0
    out = capsys.readouterr().out
    assert f"name: {DEFAULT_MODEL} (the default)" in out and "trained: yes" in out
    assert PRETRAINED[DEFAULT_MODEL].sha256 in out

    assert main(["models", "taco-minilm-small"]) == 0  # an architecture: which entropy layout
    assert "entropy model: the authors' layout (effl-lab/TACO" in capsys.readouterr().out
    assert main(["models", "nope"]) == 2
    assert "model 'nope' is neither a checkpoint file nor a built-in model; trained: " in capsys.readouterr().err
    assert main(["models", "taco-mini-small-q4"]) == 2  # the same "did you mean" as --model
    assert "did you mean 'taco-minilm-small-q4'" in capsys.readouterr().err
    assert main(["models", "missing.safetensors"]) == 2
    assert capsys.readouterr().err.strip() == "taco models: error: missing.safetensors: no such checkpoint file"


def test_models_says_what_model_says_of_a_mistyped_checkpoint(elic_checkpoint, tmp_path, monkeypatch, capsys):
    """``taco models PATH`` words a missing file as --model PATH does: the close names in its folder."""
    (tmp_path / "run").mkdir()
    shutil.copy(elic_checkpoint, tmp_path / "run" / "checkpoint.safetensors")
    monkeypatch.chdir(tmp_path)
    assert main(["models", "run/checkpoint.safetenors"]) == 2
    assert capsys.readouterr().err.strip() == ("taco models: error: run/checkpoint.safetenors: no such "
                                               "checkpoint file (did you mean "
                                               "'run/checkpoint.safetensors'?)")


def test_models_describes_a_checkpoint_file(tmp_path, capsys):
    from taco.models import create_model, save_checkpoint

    record = {"trained_steps_total": 1234, "epochs": 2.5, "wall_time_s": 61.0, "device": "cuda",
              "world_size": 1, "global_batch": 16, "train_data": {"root": "photos", "images": 179}}
    ckpt = save_checkpoint(create_model("elic-tiny", seed=0, qualities=[0.001, 0.01]),
                           tmp_path / "vr.safetensors", model_id="mine", metadata=record)
    assert main(["models", str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert "model id: mine" in out and "trained: yes (a checkpoint file)" in out
    assert ("training: 1,234 steps, 2.5 epochs, 61 s, on cuda x 1, batch 16, data photos (179 images)"
            in out)
    assert "qualities (λ): 1: 0.001, 2: 0.01" in out
    assert main(["models", str(ckpt), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["training"]["trained_steps_total"] == 1234 and info["file_bytes"] == ckpt.stat().st_size
    assert info["parameters"] == sum(p.numel() for p in create_model("elic-tiny", qualities=[0.001, 0.01]).parameters())
    sharded = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "sh" / "x.safetensors",
                              max_shard_bytes=1_000_000)
    files = list(sharded.parent.iterdir())
    assert len(files) > 2  # an index and its shards
    assert main(["models", str(tmp_path / "sh" / "x.safetensors"), "--json"]) == 0  # the name saved
    assert json.loads(capsys.readouterr().out)["file_bytes"] == sum(f.stat().st_size for f in files)
    odd = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "odd.safetensors",
                          metadata={"device": "cu\x1b[2Jda", "train_data": {"root": "a\nb"}})
    assert main(["models", str(odd)]) == 0  # a record's text is shown as one printable line
    assert "training: on cu?[2Jda x 1, data a b\n" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unprintable"):
        save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "x.safetensors", model_id="a\nb")
    (tmp_path / "not.safetensors").write_bytes(b"garbage")
    assert main(["models", str(tmp_path / "not.safetensors")]) == 2
    assert capsys.readouterr().err.startswith("taco models: error: ")


def test_models_shows_a_checkpoints_entropy_parameter_widths_where_not_the_default(tmp_path, capsys):
    """taco models FILE of an ELIC of JiangWeibeta/ELIC's 2024 widths (param_widths elic-2024)
    said so in --json only: its text has a 'param widths' line too; a model of the default
    widths (elic-2023, every taco model's) none."""
    from taco.models import create_model, save_checkpoint

    wide = save_checkpoint(create_model("elic-tiny", param_widths="elic-2024"), tmp_path / "w.safetensors")
    plain = save_checkpoint(create_model("elic-tiny"), tmp_path / "p.safetensors")
    assert main(["models", str(wide), str(plain), "elic-tiny"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if "param widths" in line] == ["  param widths: elic-2024"]
    assert lines[lines.index("  param widths: elic-2024") - 1].startswith("         width: N=16, M=32")

def test_a_reader_that_goes_away_ends_the_command_quietly():
    """`taco models | head -1`: no "broken pipe" error line and no traceback, status 141."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "taco", "models"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    _, err = proc.communicate(timeout=300)
    assert (proc.returncode, err.decode()) == (141, "")


# --------------------------------------------------------------------------- standard input and output


class _Stdin:
    """Standard input carrying ``data`` (a pipe, or a terminal with ``tty``)."""

    def __init__(self, data: bytes, tty: bool = False) -> None:
        import io

        self.buffer = io.BytesIO(data)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_pipe_through_standard_input_and_output(tmp_path, monkeypatch, capsysbinary):
    """``taco compress - < img | taco decompress - > out.png``: the same bytes as with files, the
    report lines on stderr (stdout carries the data)."""
    png = CHELSEA.read_bytes()
    by_file = tmp_path / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "a cat", "-m", "elic-tiny", "-o", str(by_file)]) == 0
    capsysbinary.readouterr()

    monkeypatch.setattr(sys, "stdin", _Stdin(png))
    assert main(["compress", "-", "--caption", "a cat", "-m", "elic-tiny"]) == 0
    out = capsysbinary.readouterr()
    assert out.out == by_file.read_bytes()
    assert b"<stdin> -> <stdout>: 451x300" in out.err and b"compressed 1 image " in out.err

    monkeypatch.setattr(sys, "stdin", _Stdin(out.out))
    assert main(["decompress", "-"]) == 0
    decoded = capsysbinary.readouterr()
    assert decoded.out.startswith(b"\x89PNG") and b"decompressed 1 file in" in decoded.err
    assert main(["decompress", str(by_file), "-o", str(tmp_path / "cat.png")]) == 0
    with Image.open(tmp_path / "cat.png") as a, Image.open(__import__("io").BytesIO(decoded.out)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    capsysbinary.readouterr()

    # a file to standard output, standard input to a file, and info from standard input
    assert main(["decompress", str(by_file), "-o", "-", "--quiet"]) == 0
    assert capsysbinary.readouterr().out == decoded.out
    monkeypatch.setattr(sys, "stdin", _Stdin(by_file.read_bytes()))
    assert main(["decompress", "-", "-o", str(tmp_path / "piped.webp")]) == 0
    with Image.open(tmp_path / "piped.webp") as im:
        assert im.format == "WEBP" and im.size == (451, 300)
    capsysbinary.readouterr()
    monkeypatch.setattr(sys, "stdin", _Stdin(by_file.read_bytes()))
    assert main(["info", "-", "--json"]) == 0
    info = json.loads(capsysbinary.readouterr().out)
    assert info["file"] == "<stdin>" and info["bytes"] == by_file.stat().st_size


def test_piped_image_without_caption_and_heic(tmp_path, monkeypatch, capsysbinary):
    """A text-guided model notes the missing caption once; a HEIC is told by its bytes."""
    pytest.importorskip("pillow_heif")
    import io

    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.open(CHELSEA).convert("RGB").resize((64, 48)).save(buf, format="HEIF")
    monkeypatch.setattr(sys, "stdin", _Stdin(buf.getvalue()))
    from PIL import Image as PILImage

    monkeypatch.delitem(PILImage.OPEN, "HEIF", raising=False)  # as in a fresh process
    assert main(["compress", "-", "-m", "taco-tiny", "-o", str(tmp_path / "x.taco")]) == 0
    err = capsysbinary.readouterr().err.decode()
    assert "note: <stdin> has no caption, so it is coded without one" in err
    assert "sidecar" not in err
    assert main(["info", str(tmp_path / "x.taco"), "--json"]) == 0
    assert json.loads(capsysbinary.readouterr().out)["width"] == 64


@pytest.mark.parametrize("argv,message", [
    (["compress", "-", str(CHELSEA), "--caption", ""], "- (standard input) must be the only input"),
    (["compress", str(CHELSEA), str(SAMPLES / "skimage-coffee.png"), "--caption", "", "-o", "-"],
     "-o - (standard output) takes one input; got 2"),
    (["decompress", "-"], "- reads standard input, which is a terminal here"),
    (["compress", "-", "--caption", "", "-o", "out/"], "standard input has no name to give the file"),
])
def test_standard_input_and_output_misuse_refused(argv, message, monkeypatch, capsysbinary, no_model):
    monkeypatch.setattr(sys, "stdin", _Stdin(b"", tty="decompress" in argv))
    assert main(argv) == 2
    err = capsysbinary.readouterr().err.decode()
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_endless_piped_image_is_refused_at_the_bound(tmp_path, monkeypatch, capsysbinary):
    """``cat /dev/zero | taco compress -`` read standard input to its end. Now at most
    taco.images.MAX_IMAGE_BYTES (here made small) plus one byte are read: one error line, exit 2,
    no output file."""
    import taco.images

    monkeypatch.setattr(taco.images, "MAX_IMAGE_BYTES", 5000)
    monkeypatch.setattr(sys, "stdin", _Stdin(bytes(50_000)))
    out = tmp_path / "x.taco"
    assert main(["compress", "-", "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 2
    err = capsysbinary.readouterr().err.decode().strip().splitlines()
    assert err[1:] == ["taco compress: error: cannot read image '<stdin>': over 5,000 bytes, more than "
                   "taco reads of an image stream (a pipe or a device is read whole first, a regular "
                   "file is not: name one)"]
    assert sys.stdin.buffer.tell() == 5001 and not out.exists()


def test_piped_image_with_only_a_captions_file_refused(tmp_path, monkeypatch, capsysbinary, no_model):
    """--captions FILE looks captions up by name; a piped image has none, so it is not coded
    silently without a caption: one line says to give --caption."""
    table = tmp_path / "captions.jsonl"
    table.write_text(json.dumps({"image": "cat.png", "captions": ["a cat"]}) + "\n")
    monkeypatch.setattr(sys, "stdin", _Stdin(CHELSEA.read_bytes()))
    assert main(["compress", "-", "--captions", str(table), "-o", str(tmp_path / "x.taco")]) == 2
    err = capsysbinary.readouterr().err.decode().strip().splitlines()
    assert len(err) == 1 and "an image on standard input has none: give --caption TEXT" in err[0]
    assert not (tmp_path / "x.taco").exists()


def test_binary_output_to_a_terminal_refused(monkeypatch, capsysbinary, no_model):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys, "stdin", _Stdin(CHELSEA.read_bytes()))
    assert main(["compress", "-", "--caption", ""]) == 2
    assert b"standard output is a terminal: redirect it" in capsysbinary.readouterr().err


def test_piped_garbage_is_one_line(monkeypatch, capsysbinary):
    monkeypatch.setattr(sys, "stdin", _Stdin(b"not an image at all"))
    assert main(["compress", "-", "--caption", "", "-m", "elic-tiny", "-o", "-"]) == 2
    err = capsysbinary.readouterr().err.decode().strip().splitlines()
    assert err[-1] == "taco compress: error: cannot read image '<stdin>': not an image file Pillow can identify"
    assert len([line for line in err if "error" in line]) == 1
    monkeypatch.setattr(sys, "stdin", _Stdin(b"TACO garbage"))
    assert main(["decompress", "-", "-o", "-"]) == 2
    err = capsysbinary.readouterr().err.decode().strip().splitlines()
    assert len(err) == 1 and err[0].startswith("taco decompress: error: <stdin>: ")


def test_real_pipe_between_two_processes(tmp_path):
    """``taco compress - < cat.png | taco decompress - > cat.png`` in a shell, as a user runs it."""
    import shlex

    taco = f"{shlex.quote(sys.executable)} -m taco"
    cmd = (f"{taco} compress - --caption 'a cat' -m elic-tiny < {shlex.quote(str(CHELSEA))} "
           f"| {taco} decompress - > out.png")
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "<stdin> -> <stdout>" in r.stderr
    with Image.open(tmp_path / "out.png") as im:
        assert im.size == (451, 300)


def test_a_reader_that_goes_away_mid_file_is_an_error(tmp_path):
    """`taco decompress big.taco -o - | head -c 10`: the write returned 65,536 of ~200,000 bytes,
    taco said "decompressed 1 file(s)" and exited 0. Now one error line and status 141, and no
    "Exception ignored" noise at exit."""
    taco_file = tmp_path / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(taco_file),
                 "--quiet"]) == 0
    for argv in (["decompress", str(taco_file), "-o", "-"],  # ~200 kB: more than a pipe holds
                 ["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", "-"]):
        proc = subprocess.Popen([sys.executable, "-m", "taco", *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        if argv[0] == "decompress":
            assert proc.stdout.read(10).startswith(b"\x89PNG")
        proc.stdout.close()  # the reader goes away (before compress writes its few bytes)
        _, err = proc.communicate(timeout=300)
        lines = err.decode().splitlines()  # notes and, on a slow machine, stage lines before
        assert proc.returncode == 141, err.decode()
        assert [line for line in lines if "error" in line] == lines[-1:]
        assert lines[-1].startswith(f"taco {argv[0]}: error: standard output was closed " + (
            "after " if argv[0] == "decompress" else "before any of "))
        assert "cut short" in lines[-1] and "compressed" not in err.decode()
        assert "Exception ignored" not in err.decode()


def test_file_made_with_a_checkpoint_says_to_give_it(elic_checkpoint, tmp_path, capsys):
    """A .taco made with a checkpoint file names its architecture; decoding it by that name
    alone gets the untrained architecture, and the error says to give the checkpoint."""
    out = tmp_path / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", str(elic_checkpoint), "-o", str(out)]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]  # names the weights, not just their architecture
    assert summary.startswith(f"compressed 1 image with elic-small ({elic_checkpoint}; decode with "
                              f"--model {elic_checkpoint}): ")
    assert main(["decompress", str(out), "-o", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"taco decompress: error: {out}: this file was made with a checkpoint's "
                           "weights of 'elic-small', or with its untrained weights on another kind of "
                           "CPU (they differ in their last bits between CPU kinds) or by another taco "
                           "version (whose 'elic-small' was defined otherwise), not with its untrained "
                           "weights here: decode it with the checkpoint, on the kind of CPU that made "
                           "it, or with the taco version that made it: --model FILE (the checkpoint "
                           "or its run folder)")
    assert not (tmp_path / "a.png").exists()
    assert main(["decompress", str(out), "-m", str(elic_checkpoint), "-o", str(tmp_path / "b.png")]) == 0
    untrained = tmp_path / "untrained.taco"  # beside one made with the untrained weights, in a batch
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-small", "-o", str(untrained)]) == 0
    capsys.readouterr()
    copy = tmp_path / "copy.taco"
    copy.write_bytes(out.read_bytes())
    assert main(["decompress", str(untrained), str(out), str(copy), "-o", str(tmp_path / "batch")]) == 3
    err = capsys.readouterr().err
    assert err.count("made with a checkpoint's weights of 'elic-small'") == 2, err  # each file says so
    assert err.count("no trained weights") == 1 and (tmp_path / "batch" / "untrained.png").is_file()


def test_a_file_never_chooses_a_file_to_read(elic_checkpoint, tmp_path, capsys):
    """The model a .taco names is looked up among the built-in names only: a file naming a path
    (here a real checkpoint's) is refused without reading it; --model FILE is how to give one."""
    import dataclasses

    from taco.bitstream import pack, unpack

    made = tmp_path / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", str(elic_checkpoint), "-o", str(made)]) == 0
    parsed = unpack(made.read_bytes())
    hostile = tmp_path / "hostile.taco"
    hostile.write_bytes(pack(dataclasses.replace(parsed.header, model_id=str(elic_checkpoint)), parsed.payload))
    capsys.readouterr()
    assert main(["decompress", str(hostile), "-o", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err
    assert f"this file names model {str(elic_checkpoint)!r}, which is not a built-in model" in err
    assert not (tmp_path / "a.png").exists()
    assert main(["decompress", str(hostile), "-m", str(elic_checkpoint), "-o", str(tmp_path / "b.png")]) == 0


def test_a_run_folder_is_its_checkpoint(elic_checkpoint, tmp_path, capsys):
    """``--model RUN`` and ``taco models RUN`` take a training run's folder, as ``init_from``
    and ``--resume`` do: its checkpoint.safetensors."""
    import shutil

    run = tmp_path / "runs" / "mine"
    run.mkdir(parents=True)
    shutil.copy(elic_checkpoint, run / "checkpoint.safetensors")
    assert main(["models", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["file"] == str(run / "checkpoint.safetensors")
    out = tmp_path / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", str(run), "-o", str(out)]) == 0
    assert f"with elic-small ({run}; decode with --model {run}): " in capsys.readouterr().out
    assert main(["decompress", str(out), "-m", str(run), "-o", str(tmp_path / "cat.png")]) == 0


def test_command_model_says_which_checkpoint_it_loaded(elic_checkpoint, tmp_path, capsys):
    """command_model gives the resolver's answer whole: the checkpoint file a path or run folder
    named (what compress's summary names), none for a trained or an architecture name."""
    import shutil

    from taco.cli.common import command_model

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(elic_checkpoint, run / "checkpoint.safetensors")
    assert command_model(str(elic_checkpoint), "compress").checkpoint == elic_checkpoint
    assert command_model(str(run), "compress").checkpoint == run / "checkpoint.safetensors"
    assert capsys.readouterr().err == ""
    untrained = command_model("elic-tiny", "compress")
    assert (untrained.checkpoint, untrained.trained, untrained.model.model_id) == (None, False, "elic-tiny")
    assert capsys.readouterr().err == f"taco compress: note: {untrained.note}\n"


def test_file_made_with_untrained_weights_decodes_with_the_note(tmp_path, capsys):
    """A file made with an architecture's seed-0 weights decodes without --model; the note
    about untrained weights is said once, however many files use them."""
    outs = [tmp_path / f"{n}.taco" for n in "ab"]
    for out in outs:
        assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["decompress", *map(str, outs), "-o", str(tmp_path / "dec")]) == 0
    err = capsys.readouterr().err
    assert err.count("no trained weights") == 1, err


def test_models_tells_a_warm_started_runs_steps_apart():
    from taco.cli.models import _training_line

    warm = _training_line({"trained_steps_total": 3000, "trained_steps": 1500, "epochs": 12.3})
    assert warm == "3,000 steps, this run 1,500 of them, 12.3 epochs (this run)"
    assert _training_line({"trained_steps_total": 1500, "trained_steps": 1500, "epochs": 12.3}) == "1,500 steps, 12.3 epochs"


def test_a_caption_over_the_cap_is_one_line_and_skips_only_its_image(tmp_path, capsys):
    """10,000 characters and more are refused (the encoder reads ~30 words): a batch goes on."""
    from taco.text.base import MAX_CAPTION_CHARS

    for name, caption in (("long", "a" * (MAX_CAPTION_CHARS + 1)), ("short", "a cat")):
        Image.open(CHELSEA).resize((64, 48)).save(tmp_path / f"{name}.png")
        (tmp_path / f"{name}.txt").write_text(caption)
    status = main(["compress", str(tmp_path / "long.png"), str(tmp_path / "short.png"), "-m", "taco-tiny",
                   "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 3 and "Traceback" not in err
    assert "long.png: caption 'aaa" in err and f"has {MAX_CAPTION_CHARS + 1:,} characters" in err
    assert (tmp_path / "out" / "short.taco").is_file() and not (tmp_path / "out" / "long.taco").exists()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("argv", [
    ["bench", "--quick", "--profile"],  # was torch's "Found no NVIDIA driver" traceback
    ["bench", "--quick"],
    ["evaluate", "samples", "-m", "taco-tiny"],
    ["train", "--max-steps", "1"],
    ["caption", str(SAMPLES), "-m", "no-such-captioner"],
])
def test_a_gpu_this_machine_lacks_is_one_line_for_every_command(argv, tmp_path, monkeypatch, capsys):
    import taco.cli as cli

    if "taco.bench.cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "taco.bench.cli"))
    out = ["-o", str(tmp_path / "out")] if argv[0] == "evaluate" else (
        ["--out-dir", str(tmp_path / "out")] if argv[0] == "train" else [])
    assert main([*argv, *out, "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"taco {argv[0]}: error: device 'cuda': torch sees no CUDA GPU here "
                   "(no driver or no device): use the CPU"]
    assert not (tmp_path / "out").exists()


def test_every_device_option_is_the_same(monkeypatch):
    """evaluate, caption, train and bench: one --device, auto by default (train's: its config's,
    itself auto)."""
    import argparse

    import taco.cli as cli

    if "taco.bench.cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "taco.bench.cli"))
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    options = {name: next(a for a in sub.choices[name]._actions if "--device" in a.option_strings)
               for name in ("evaluate", "caption", "train", "bench")}
    assert {name: o.default for name, o in options.items()} == {
        "evaluate": "auto", "caption": "auto", "train": None, "bench": "auto"}
    assert all(o.help.startswith("torch device: auto, cpu, cuda, cuda:N, mps (default: auto, ")
               for o in options.values())


def test_info_and_decompress_refuse_a_file_longer_than_its_header_allows_unread(tmp_path, capsys, monkeypatch):
    import io
    import tracemalloc

    src = tmp_path / "c.png"
    Image.open(CHELSEA).resize((64, 48)).save(src)
    assert main(["compress", str(src), "--caption", "", "-m", "elic-tiny", "-o", str(tmp_path / "c.taco")]) == 0
    good = (tmp_path / "c.taco").read_bytes()
    big = tmp_path / "big.taco"
    big.write_bytes(good)
    with big.open("r+b") as f:  # 1 GiB of appended zeros, sparse: read whole, it would take 1 GiB
        f.truncate(1 << 30)
    capsys.readouterr()
    for argv in (["info", str(big)], ["decompress", str(big), "-o", str(tmp_path / "x.png")]):
        tracemalloc.start()
        try:
            assert main(argv) == 2
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 64 << 20, peak  # the appended GiB is never read
        err = capsys.readouterr().err
        assert f"{big}: corrupt .taco file: 1,073,741,824 bytes, more than a file of a 64x48 image" in err
    # standard input is read one byte past the bound, not to its end
    stream = io.BytesIO(good + bytes(10 << 20))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream))
    assert main(["info", "-"]) == 2
    assert "more bytes than a file of a 64x48 image can have" in capsys.readouterr().err
    assert stream.tell() < 1 << 20
