"""A mistyped command, option or choice is refused with the closest names (taco.cli.Parser,
CommandParser), as an unknown model or config key is (taco.messages.did_you_mean); an argument
in the wrong place (an output or caption named as an input, demo's image without --image) with
what it was likely meant as."""

from __future__ import annotations

import pytest

from taco.cli import main


def error_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_a_mistyped_option_names_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "compress", "--forse", "x.png")
    assert line == "taco compress: error: unrecognized arguments: --forse (did you mean '--force'?)"


def test_an_option_with_a_value_is_matched_by_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "evaluate", "--limt=3", "samples")
    assert line.endswith("unrecognized arguments: --limt=3 (did you mean '--limit'?)")


def test_an_option_like_none_gets_no_hint(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "info", "-q", "x.taco")
    assert line == "taco info: error: unrecognized arguments: -q"


def test_a_mistyped_command_names_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "compres", "x.png")
    assert line.startswith("taco: error: argument COMMAND: invalid choice: 'compres' (choose from ")
    assert line.endswith(" (did you mean 'compress' or 'decompress'?)")


def test_a_mistyped_choice_names_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "evaluate", "--fid", "ful", "samples")
    assert line.endswith("invalid choice: 'ful' (choose from 'auto', 'full', 'patches', 'off') "
                         "(did you mean 'full'?)")


def test_options_are_not_alike_by_their_dashes_alone(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_of(capsys, "compress", "--no-such-option", "x.png")
    assert line == "taco compress: error: unrecognized arguments: --no-such-option"


def test_an_upper_case_model_name_gets_the_hint_but_is_not_taken(
        tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """Model names stay case-sensitive: TACO-MINILM-SMALL-Q4 is refused, with the name meant."""
    from PIL import Image

    Image.new("RGB", (64, 64)).save(tmp_path / "x.png")
    assert main(["compress", str(tmp_path / "x.png"), "--caption", "hi", "--model", "TACO-MINILM-SMALL-Q4"]) == 2
    err = capsys.readouterr().err
    assert "model 'TACO-MINILM-SMALL-Q4' is neither a checkpoint file nor a built-in model " \
           "(did you mean 'taco-minilm-small-q4'" in err, err


@pytest.fixture()
def here(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """tmp_path as the current folder, with a.png, x.taco (its bytes do not matter: refused
    first) and a folder imgs/ holding b.png."""
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (16, 16)).save("a.png")
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (16, 16)).save("imgs/b.png")
    (tmp_path / "x.taco").write_bytes(b"TACO")
    return tmp_path


def last_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_an_output_named_as_an_input_is_said_to_take_o(here, capsys: pytest.CaptureFixture[str]) -> None:
    """``taco decompress x.taco out.png`` said only ``out.png: no such file or folder``."""
    from PIL import Image

    assert last_line(capsys, "decompress", "x.taco", "out.png") == (
        "taco decompress: error: out.png: no such file or folder (the output is given with -o: "
        "taco decompress x.taco -o out.png)")
    assert last_line(capsys, "compress", "a.png", "out dir/out.taco") == (
        "taco compress: error: out dir/out.taco: no such file or folder (the output is given with -o: "
        "taco compress a.png -o 'out dir/out.taco')")
    Image.new("RGB", (16, 16)).save("-a.png")  # a name read as an option, pasted as it is
    assert last_line(capsys, "compress", "--", "-a.png", "out.taco") == (
        "taco compress: error: out.taco: no such file or folder (the output is given with -o: "
        "taco compress ./-a.png -o out.taco)")


@pytest.mark.parametrize("argv", [
    ("compress", "imgs", "out.taco"),  # a folder's outputs go to a folder: -o out.taco is no fix
    ("compress", "a.png", "imgs/b.png", "out.taco"),  # several: the same
    ("decompress", "out.png", "x.taco"),  # the first: an input mistyped, more likely
    ("info", "x.taco", "out.png"),  # info writes nothing
    ("compress", "a.png", "b.png"),  # an input's suffix: an input mistyped
])  # fmt: skip
def test_a_missing_input_not_meant_as_the_output_gets_no_o_hint(here, capsys, argv) -> None:  # noqa: ANN001
    line = last_line(capsys, *argv)
    assert line.endswith(": no such file or folder"), line


def test_a_caption_named_as_an_input_is_said_to_take_caption(here, capsys: pytest.CaptureFixture[str]) -> None:
    """``taco compress a.png "A woman"`` said only ``A woman: no such file or folder``."""
    assert last_line(capsys, "compress", "a.png", "A woman") == (
        "taco compress: error: A woman: no such file or folder (a caption? --caption 'A woman')")
    assert last_line(capsys, "compress", "A woman's face", "a.png") == (
        "taco compress: error: A woman's face: no such file or folder (a caption? "
        "--caption \"A woman's face\")")
    for argv in (("compress", "a.png", "my pics/b"), ("compress", "a.png", "nothing"),
                 ("decompress", "x.taco", "A woman")):  # a path; one word; no caption there
        line = last_line(capsys, *argv)
        assert line.endswith(": no such file or folder"), line


def test_demo_given_an_image_as_an_argument_names_image(here, capsys: pytest.CaptureFixture[str]) -> None:
    """``taco demo a.png`` said only ``unrecognized arguments: a.png``."""
    assert error_of(capsys, "demo", "a.png") == (
        "taco demo: error: unrecognized arguments: a.png (an image is given with --image: "
        "taco demo --image a.png)")
    # a built-in sample's name, which --image takes too
    assert error_of(capsys, "demo", "-m", "elic-tiny", "skimage-coffee.png").endswith(
        "(an image is given with --image: taco demo --image skimage-coffee.png)")
    for argv, stray in ((("demo", "--image", "a.png", "imgs/b.png"), "imgs/b.png"),  # --image given
                        (("demo", "a.png", "imgs/b.png"), "a.png imgs/b.png"),  # two words
                        (("demo", "x.taco"), "x.taco")):  # not an image
        assert error_of(capsys, *argv) == f"taco demo: error: unrecognized arguments: {stray}"
