"""A package taco imports that is not installed (a venv after ``pip install --no-deps``, the GPU
slice before its wheels): one error line naming it and the way to install, exit 2, no traceback
(it was ``ModuleNotFoundError: No module named 'compressai'`` under a traceback)."""

import subprocess
import sys

from taco.cli.common import error_line, missing_package_line
from taco.samples import SAMPLES_DIR, sample_names

# compressai not installed, as far as this process can tell: the import taco's models make fails.
BLOCKED = """
import sys


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "compressai":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NotInstalled())
from taco.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_missing_dependency_is_one_line(tmp_path):
    image = SAMPLES_DIR / sample_names()[0]  # a photo: its model's import is what fails
    out = tmp_path / "x.taco"
    r = subprocess.run([sys.executable, "-c", BLOCKED, "compress", str(image), "-o", str(out),
                        "--caption", "a photo"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "taco compress: error: No module named 'compressai': a package taco needs is not installed here; "
        "install taco's dependencies again (pip install -e . in taco's checkout, or pip install the taco-codec "
        "wheel again)")
    assert not out.exists()


def test_only_packages_taco_requires():
    """taco's own requirements (its installed metadata), an extra's with that extra named; a
    module no requirement gives (a plugin's own import) or a taco module is a bug's traceback."""
    def line(name: str) -> str | None:
        return missing_package_line(ModuleNotFoundError(f"No module named {name!r}", name=name))

    outside = ModuleNotFoundError("No module named 'yaml'", name="yaml")
    assert error_line(outside) == missing_package_line(outside)
    assert line("yaml").startswith("No module named 'yaml': a package taco needs is not installed here; "
                                   "install taco's dependencies again")
    assert "install taco's dependencies again" in line("PIL.Image")  # pillow
    assert line("pycocoevalcap").endswith("it comes with taco's eval extra: pip install -e '.[eval]' "
                                          "(or 'taco-codec[eval]')")
    assert "taco's heif extra" in line("pillow_heif")
    assert line("timm_extra_layers") is None  # a plugin's dependency: its traceback says whose
    assert line("taco.nothing") is None
    assert missing_package_line(ModuleNotFoundError("no name")) is None
    assert missing_package_line(ImportError("cannot import name 'x'", name="yaml")) is None  # not missing: a bug
