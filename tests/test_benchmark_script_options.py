"""The benchmark scripts' options (review G): a count of 0 is a usage error at once (it crashed
later with a traceback, or became the default), benchmarks/entropy_layouts.py names the models it
cannot build in CompressAI's layout, benchmarks/memory_model.py keeps torch's thread count unless
told and writes it into each row, and benchmarks/scale_levels.py's first compress does not code
a black pad around an image under 256 px."""

from __future__ import annotations

import pytest
import torch
from PIL import Image


@pytest.mark.parametrize(("script", "argv", "option"), [
    ("startup", ["--runs", "0"], "--runs"),
    ("entropy_layouts", ["--runs", "0"], "--runs"),
    ("entropy_layouts", ["--size", "0"], "--size"),
    ("vr_widths", ["--steps", "0"], "--steps"),
    ("train_throughput", ["--steps", "0"], "--steps"),  # was the default (3 on a CPU)
    ("train_throughput", ["--workers", "-1"], "--workers"),
    ("scale_levels", ["--rounds", "0"], "--rounds"),
    ("memory_model", ["--repeat", "0"], "--repeat"),
    ("memory_model", ["--threads", "0"], "--threads"),
])
def test_a_count_out_of_range_is_a_usage_error(load_script, capsys, script, argv, option):
    main = load_script(f"benchmarks/{script}.py").main
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: must be at least" in err and "Traceback" not in err


@pytest.mark.parametrize(("script", "argv", "words"), [
    ("entropy_layouts", ["--threads", "100000000000000000000"], "argument --threads: must be at most"),
    ("memory_model", ["--threads", "5000"], "argument --threads: must be at most"),
    ("scale_levels", ["--size", "abc"], "argument --size: takes WxH"),
    ("scale_levels", ["--size", "0x0"], "argument --size: sides must be 1 to"),
    ("scale_levels", ["--levels", "0", "64"], "argument --levels: must be 2..256"),
    ("memory_model", ["--sizes", "abc"], "argument --sizes: takes SIDE or WIDTHxHEIGHT"),
    ("memory_model", ["--sizes", "100000"], "argument --sizes: sides must be 1 to"),
])
def test_a_thread_count_or_size_out_of_range_is_a_usage_error(load_script, capsys, script, argv, words):
    """--threads 10**20 reached torch.set_num_threads (OverflowError); --size abc or 0x0 ended
    in a ValueError traceback (review T)."""
    with pytest.raises(SystemExit) as exc:
        load_script(f"benchmarks/{script}.py").main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.mark.parametrize(("model", "why"), [
    ("elic-vr", "is variable-rate"), ("taco-tiny", "is text-guided"),
    ("elic-tinyy", "is not an architecture name"),
])
def test_entropy_layouts_names_the_models_it_cannot_compare(load_script, capsys, model, why):
    with pytest.raises(SystemExit) as exc:
        load_script("benchmarks/entropy_layouts.py").main(["--model", model])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"--model {model} {why}" in err and "elic, elic-small, elic-tiny" in err


def test_memory_model_keeps_torch_s_threads_and_says_them(load_script, monkeypatch):
    mm = load_script("benchmarks/memory_model.py")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # it forced 1 thread without one
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        row = mm.child("encode", "elic-tiny", "64", "unused")
        assert row["threads"] == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert mm.child_env(3)["OMP_NUM_THREADS"] == "3"
    assert "OMP_NUM_THREADS" not in mm.child_env(None)


@pytest.mark.parametrize(("size", "side"), [((1920, 1080), 256), ((128, 96), 96), ((64, 300), 64)])
def test_scale_levels_first_compress_crop_stays_inside_the_image(load_script, size, side):
    image = Image.new("RGB", size, (200, 150, 100))
    crop = load_script("benchmarks/scale_levels.py").first_compress_crop(image)
    assert crop.size == (side, side)
    assert crop.getextrema() == ((200, 200), (150, 150), (100, 100))  # no black pad


@pytest.mark.parametrize(("script", "argv", "words"), [
    ("bitstream_overhead", ["--models", "nosuch"], "model 'nosuch' is neither a checkpoint file"),
    ("scale_levels", ["--models", "elic-smal-q4"], "(did you mean 'elic-small-q4'"),
    ("scale_levels", ["--image", "/nonexistent/photo.png"], "/nonexistent/photo.png"),
    ("train_throughput", ["--models", "nosuch"], "--models: nosuch: no such registry model"),
    ("memory_model", ["--model", "nosuch", "--sizes", "64"], "--model: model 'nosuch' is neither"),
    ("vr_widths", ["--only", "elic-vr", "--only", "nomatch"], "--only 'nomatch' matches no candidate"),
])
def test_a_mistyped_name_or_missing_file_is_a_usage_error(load_script, capsys, tmp_path, script,
                                                          argv, words):
    """--models nosuch ended in a TacoValueError traceback (bitstream_overhead, scale_levels,
    train_throughput), memory_model --model nosuch in its child's CalledProcessError, and
    vr_widths --only nomatch measured nothing and exited 0: now one line, exit 2, nothing run."""
    if script == "memory_model":
        argv = [*argv, "--workdir", str(tmp_path / "work")]
    with pytest.raises(SystemExit) as exc:
        load_script(f"benchmarks/{script}.py").main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
    assert not (tmp_path / "work").exists()


def test_bitstream_overhead_fits_an_architecture_alike_every_run(load_script):
    """Its fitted rows' bpp differed from run to run (0.447 to 0.498 for elic-tiny at one step):
    the quantisers' training noise came from torch's unseeded generator. Two fits from the same
    weights end in the same weights, and torch's generator is left as it was."""
    import taco

    bo = load_script("benchmarks/bitstream_overhead.py")
    image = torch.rand(1, 3, 80, 80, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(123)
    untouched = torch.rand(1)
    fitted = []
    for _ in range(2):
        model = taco.create_model("elic-tiny")
        torch.manual_seed(123)
        bo.fit(model, [image], [""], steps=2, crop=64, batch=2)
        assert torch.equal(torch.rand(1), untouched)
        fitted.append({k: v.clone() for k, v in model.state_dict().items()})
    assert all(torch.equal(fitted[0][k], fitted[1][k]) for k in fitted[0])
