from __future__ import annotations

import atexit
import errno
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import torch

from taco.samples import SAMPLES_DIR as SAMPLES

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# taco's cache (CLIP's BPE files, written at first use) in a folder of this test process's own:
# pytest-xdist's workers writing one ~/.cache/taco at once listed each other's temporaries (tests
# copy the folder), and the suite leaves the user's home alone. Child processes inherit it.
os.environ["TACO_CACHE_DIR"] = tempfile.mkdtemp(prefix="taco-tests-cache-")
atexit.register(shutil.rmtree, os.environ["TACO_CACHE_DIR"], True)

# Small convolutions run several times faster on one thread than on two competing ones; tests
# that are about thread counts start their own subprocesses.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """README's ``-n logical`` (or ``auto``): one worker per CPU, at most 4 (each imports torch;
    the slowest tests start child processes of their own). A hook, not ``--maxprocesses`` in
    addopts, so that pytest without pytest-xdist still runs. ``PYTEST_XDIST_AUTO_NUM_WORKERS``
    (pytest-xdist's own setting) is the number, as without this hook."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "").strip().isdigit():
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cpus or 1))


@pytest.fixture(scope="session")
def load_script() -> Callable[[str], ModuleType]:
    """``load_script("scripts/x.py")``: a file of scripts/ or examples/ (no packages) imported as
    module ``x``, afresh at every call (its import-time effects, a backbone's registration, run
    again), and left in ``sys.modules`` under its file's stem."""

    def load(relative: str) -> ModuleType:
        path = REPO / relative
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # a dataclass looks its module up while it is made
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(autouse=True)
def _single_thread_determinism():
    """Every test starts with one torch thread and seed 0; a test that changes the thread count
    (``taco bench --threads``, ...) gets it put back."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


@pytest.fixture()
def seed0_bits_of_this_cpu_kind() -> None:
    """Skips a test that pins the bits of seeded initial weights on a CPU whose torch draws
    others: ``normal_`` has other bits on torch's non-vectorised CPU path (no AVX2: older x86,
    aarch64) than on its AVX2/AVX-512 one, which CI's x86 machines take (found with
    ``ATEN_CPU_CAPABILITY=default``). MKL's path (``MKL_ENABLE_INSTRUCTIONS``) needs no skip: the
    scale tables no longer follow it (taco.models.entropy.portable_scale_table)."""
    if torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"):
        pytest.skip("the pinned seed-0 weights are those of torch's AVX2/AVX-512 CPU path")


@pytest.fixture()
def register_texty(registry_restored, load_script) -> Callable[[int, int], None]:
    """``register_texty(N, M)``: registers ``texty-tiny`` (architecture ``texty``),
    examples/mean_scale_backbone.py's model taking a caption it ignores, text-guided (clip-tiny),
    at widths N and M; the registry is restored after the test."""
    from taco.models import register_architecture

    base = load_script("examples/mean_scale_backbone.py").MeanScaleHyperprior

    class Texty(base):  # type: ignore[misc, valid-type]
        uses_text = True

        def analysis(self, x, text=None, *, stripe_rows=None):
            return self.g_a(x)

        def forward(self, x, text=None, quality=None):
            return self._forward_y(self.analysis(x, text), quality)

        def compress(self, x, text=None, quality=None):
            return super().compress(x, quality)

    def register(n: int, m: int) -> None:
        register_architecture("texty", Texty, textless=False, configs={
            "texty-tiny": {"N": n, "M": m, "text_encoder": {"name": "clip-tiny"}}})

    return register


@pytest.fixture()
def cli_help(capsys, monkeypatch) -> Callable[[str], str]:
    """``cli_help("compress")``: ``taco compress --help``'s text at 80 columns (``""``:
    ``taco --help``'s), as printed."""
    from taco.cli import main

    def help_of(command: str) -> str:
        monkeypatch.setenv("COLUMNS", "80")
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"] if command else ["--help"])
        assert exit_.value.code == 0
        return capsys.readouterr().out

    return help_of


@pytest.fixture()
def registry_restored():
    """Leaves the architecture tables (ARCHITECTURES, TEXTLESS_ARCHITECTURES, BUILDERS,
    MODEL_CONFIGS) as they were after a test registers a backbone in process."""
    from taco.models import architecture, config, registry

    saved = (list(config.ARCHITECTURES), list(config.TEXTLESS_ARCHITECTURES),
             dict(architecture.BUILDERS), dict(registry.MODEL_CONFIGS))
    yield
    config.ARCHITECTURES[:], config.TEXTLESS_ARCHITECTURES[:] = saved[0], saved[1]
    architecture.BUILDERS.clear()
    architecture.BUILDERS.update(saved[2])
    registry.MODEL_CONFIGS.clear()
    registry.MODEL_CONFIGS.update(saved[3])
    from taco.codec import clear_named_models

    clear_named_models()  # what the names built during the test


@pytest.fixture(scope="session")
def elic_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint file of ``elic-small`` built from seed 0, written as a built-in is shipped
    (fp16, compact tables): a small real single-rate model that ``--model PATH`` loads without an
    "untrained" note, for the tests of formats, hostile files and start-up. Made here rather than
    taken from the package, whose built-ins change (issue 14); its files name "elic-small"."""
    from taco.models import create_model, save_checkpoint

    path = tmp_path_factory.mktemp("elic-checkpoint") / "elic-small-seed0.safetensors"
    return save_checkpoint(create_model("elic-small", seed=0), path, half=True, compact_tables=True)


@pytest.fixture(scope="session")
def tiny_taco():
    from taco.models import create_model

    return create_model("taco-tiny", seed=0)


@pytest.fixture(scope="session")
def with_text_encoder(tmp_path_factory, tiny_taco):
    """A function (folder, spec) -> ``folder/model.safetensors``: the seed-0 taco-tiny checkpoint
    with ``spec`` as its header's text encoder entry (an unknown one, a folder of one's own),
    written as it is, unchecked."""
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from taco.models import save_checkpoint

    source = save_checkpoint(tiny_taco, tmp_path_factory.mktemp("with-text-encoder") / "tiny.safetensors")
    with safe_open(str(source), framework="pt") as f:
        meta = dict(f.metadata())
    tensors = load_file(str(source))

    def write(folder: Path, spec: dict) -> Path:
        header = json.loads(meta["taco"])
        header["config"]["text_encoder"] = spec
        path = folder / "model.safetensors"
        save_file(tensors, str(path), {**meta, "taco": json.dumps(header)})
        return path

    return write


@pytest.fixture(scope="session")
def tiny_elic():
    from taco.models import create_model

    return create_model("elic-tiny", seed=0)


@pytest.fixture(scope="session")
def sample_image():
    from PIL import Image

    return Image.open(SAMPLES / "skimage-chelsea.png").convert("RGB")


@pytest.fixture
def clip_checkpoint_and_photo(tmp_path, sample_image) -> tuple[Path, Path]:
    """A taco-tiny checkpoint whose text encoder is CLIP (no CLIP weights exist here, so coding
    with it fails where CLIP is needed) and a 64x64 photo to give it: (checkpoint, photo)."""
    import taco
    from taco.models import save_checkpoint

    model = taco.create_model("taco-tiny", text_encoder={"name": "clip"})
    path = save_checkpoint(model, tmp_path / "clip.safetensors")
    image = tmp_path / "cat.png"
    sample_image.crop((0, 0, 64, 64)).save(image)
    return path, image


class OneCallCodec(torch.nn.Module):
    """A minimal latent codec of a new backbone (docs/models.md, "Adding a backbone"): it codes
    itself (``one_stream``) in one call, here by handing the work to a reference codec."""

    one_stream = True

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, y, quality=None):
        return self.inner(y, quality)

    def compress(self, y, quality=None):
        return self.inner.compress(y, quality)

    def decompress(self, strings, shape):
        return self.inner.decompress(strings, shape)

    def num_symbols(self, shape):
        return self.inner.num_symbols(shape)

    def gain_vectors(self, quality):
        return self.inner.gain_vectors(quality)


@pytest.fixture(scope="session")
def one_call_codec() -> type[OneCallCodec]:
    """:class:`OneCallCodec`, the latent codec of a minimal new backbone."""
    return OneCallCodec


def spread(model) -> None:
    """Scale outputs x300 + 4 in the entropy parameter networks: scales spread over the whole
    table, as a trained model's do (a random model's all sit below the first entry, where no
    index can flip). The coding copy and fingerprint are refreshed."""
    from taco.models.checkpoint import invalidate_fingerprint

    with torch.no_grad():
        for net in [*model.latent_codec.anchor_parameters, *model.latent_codec.nonanchor_parameters]:
            c = net[-1].out_channels // 2
            net[-1].weight[:c] *= 300.0
            net[-1].bias[:c] = net[-1].bias[:c] * 300.0 + 4.0
    model.update(force=True)
    invalidate_fingerprint(model)


@pytest.fixture(scope="session")
def spread_scales():
    """:func:`spread`: a random reference-layout model's scales spread as a trained model's are."""
    return spread


#: Runs ``taco ARGS`` and writes its exit status, what got imported and which of CompressAI's
#: deferred modules ran to the file named by $TACO_PROBE_OUT.
TACO_PROBE = r"""
import json, os, sys
from taco.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:
    code = e.code
from taco.compressai_loader import is_pending
ran = [m for m in ("scipy.stats", "compressai.datasets", "compressai.registry",
                   "compressai.transforms") if m in sys.modules and not is_pending(sys.modules[m])]
with open(os.environ["TACO_PROBE_OUT"], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules), "ran": ran}, f)
"""


def run_probe(tmp_path: Path, *args: str) -> dict:
    """``taco ARGS`` in a fresh interpreter (in ``tmp_path``, this checkout's taco): its exit
    status ``code``, the ``modules`` imported by its end, the deferred CompressAI modules that
    ``ran``, its ``stdout`` and ``stderr``."""
    import json
    import os
    import subprocess
    import sys

    out = tmp_path / "probe.json"
    env = {**os.environ, "TACO_PROBE_OUT": str(out), "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
           "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-c", TACO_PROBE, *args], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=300)
    assert out.is_file(), r.stderr
    result = json.loads(out.read_text())
    result["stdout"], result["stderr"] = r.stdout, r.stderr
    return result


@pytest.fixture(scope="session")
def probe():
    """:func:`run_probe`: what a taco command imports, run in a fresh interpreter."""
    return run_probe


@pytest.fixture()
def photos(tmp_path):
    """Three small photos in a folder (a.png, b.png, c.png: the chelsea sample at 64x48)."""
    from PIL import Image

    d = tmp_path / "photos"
    d.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        Image.open(SAMPLES / "skimage-chelsea.png").resize((64, 48)).save(d / name)
    return d


@pytest.fixture()
def walls(tmp_path: Path) -> Path:
    """A dataset folder ``tmp_path / "ds"`` of two 64x48 plain images (0.png, 1.png), each with
    its sidecar caption "a blue wall" (0.txt, 1.txt)."""
    from PIL import Image

    data = tmp_path / "ds"
    data.mkdir()
    for i in range(2):
        Image.new("RGB", (64, 48), (30 * i, 90, 150)).save(data / f"{i}.png")
        (data / f"{i}.txt").write_text("a blue wall", encoding="utf-8")
    return data


# --------------------------------------------------------------------------- failing writes
# The one place that names taco.atomic's private write loop: tests make writes fail (a full
# disk, a file too large, an interrupt) or hang through the fixtures
# ``fail_writes`` and ``hang_in_write``.


@dataclass
class FailedWrites:
    """What :func:`fail_writes` saw: ``seen`` writes (of its target), ``failed`` of them."""

    seen: int = 0
    failed: int = 0


def _error(error: int | BaseException) -> BaseException:
    return OSError(error, os.strerror(error)) if isinstance(error, int) else error


@pytest.fixture()
def fail_writes(monkeypatch):
    """``fail_writes(error=ENOSPC, *, nth=1, once=False, target=None, written=None)``: from the
    ``nth`` write of a file's contents by taco.atomic on (only that one with ``once``), a write
    writes ``written`` bytes (None: half of them), then raises ``error`` (an errno, raised as the
    system raises it, or any exception). ``target``: count and fail only the writes of the file of
    that name. Returns a :class:`FailedWrites` that counts them. Undone with the test (or by
    ``monkeypatch.undo()``)."""
    import taco.atomic

    def install(error: int | BaseException = errno.ENOSPC, *, nth: int = 1, once: bool = False,
                target: str | None = None, written: int | None = None) -> FailedWrites:
        write_all, record = taco.atomic._write_all, FailedWrites()

        def failing(f, data):  # noqa: ANN001, ANN202
            if target is None or Path(f.name).name.startswith(f".{target}.tmp-"):
                record.seen += 1
                if record.seen == nth or (record.seen > nth and not once):
                    record.failed += 1
                    f.write(data[: len(data) // 2 if written is None else written])
                    raise _error(error)
            write_all(f, data)

        monkeypatch.setattr(taco.atomic, "_write_all", failing)
        return record

    return install


def hang_in_write_source(marker: str | os.PathLike[str], *, nth: int = 1, target: str | None = None) -> str:
    """Python source that a child process runs first: the ``nth`` write of a file's contents by
    taco.atomic (of the file named ``target`` only, if given) writes half its bytes, flushes and
    fsyncs them, creates the file ``marker`` and waits 600 s for the signal the test sends."""
    return (
        "import os as _os, time as _time\n"
        "import taco.atomic as _atomic\n"
        f"_marker, _nth, _target = {os.fspath(marker)!r}, {nth!r}, {target!r}\n"
        "_write_all, _calls = _atomic._write_all, [0]\n"
        "def _hang(f, data):\n"
        "    if _target is None or _os.path.basename(f.name).startswith('.' + _target + '.tmp-'):\n"
        "        _calls[0] += 1\n"
        "        if _calls[0] == _nth:\n"
        "            f.write(data[: len(data) // 2]); f.flush(); _os.fsync(f.fileno())\n"
        "            open(_marker, 'w').close()\n"
        "            _time.sleep(600)\n"
        "    _write_all(f, data)\n"
        "_atomic._write_all = _hang\n"
    )


@pytest.fixture(scope="session")
def hang_in_write() -> Callable[..., str]:
    """:func:`hang_in_write_source`: source that makes a child process hang inside a write."""
    return hang_in_write_source


# --------------------------------------------------------------------------- declared sizes


def _write_png(path: Path, width: int, height: int, bits: int, pixels: bytes) -> Path:
    """A PNG at ``path`` of a header declaring ``width`` x ``height`` (8-bit RGB, or 1-bit grey
    for ``bits=1``) and one IDAT chunk ``pixels``, taken as they are."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, bits, 2 if bits == 8 else 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels)
                     + chunk(b"IEND", b""))
    return path


def declared_png(path: Path, width: int, height: int, bits: int = 8) -> Path:
    """A PNG at ``path`` that declares ``width`` x ``height`` (8-bit RGB, or 1-bit grey for
    ``bits=1``) and holds a few bytes of pixels: its header opens, its pixels do not decode
    (nothing large written to disk or decoded)."""
    import zlib

    return _write_png(path, width, height, bits, zlib.compress(b"\0" * 64))


@pytest.fixture()
def png_header() -> Callable[..., Path]:
    """:func:`declared_png`: ``png_header(path, width, height, bits=8)``."""
    return declared_png


@pytest.fixture()
def broken_png() -> Callable[[Path], Path]:
    """``broken_png(path)``: an 8x8 PNG at ``path`` whose header reads but whose pixel data is
    not zlib data (a damaged file: opening it works, decoding it fails)."""
    return lambda path: _write_png(path, 8, 8, 8, b"not zlib data")


# --------------------------------------------------------------------------- symbolic link loops


class LinkLoops:
    """Outputs that are a loop of symbolic links (``ln -s NAME NAME``), and taco's one-line
    refusal of them (tests/test_link_loops.py, tests/evaluation/test_output_link_loops.py)."""

    #: How taco says why: the OS's words for ELOOP.
    reason = "too many levels of symbolic links"

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def make(self, path: Path) -> Path:
        """``path`` made a link to itself."""
        path.symlink_to(path.name)
        return path

    def assert_refused(self, command: str, path: Path) -> None:
        """stderr so far ends with ``taco COMMAND: error: PATH: <reason>``, without a traceback."""
        err = self.capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"taco {command}: error: {path}: {self.reason}"), err
        assert not any("Traceback" in line for line in err), err


@pytest.fixture()
def link_loops(capsys: pytest.CaptureFixture[str]) -> LinkLoops:
    """:class:`LinkLoops`: ``link_loops.make(path)``, ``link_loops.assert_refused(command, path)``."""
    return LinkLoops(capsys)


# --------------------------------------------------------------------------- a home of its own


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of its own (``$HOME``, what ``~`` expands to), the current folder beside
    it (``tmp_path / "cwd"``, empty)."""
    home = tmp_path / "home"
    home.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    return home


# --------------------------------------------------------------------------- real file modes
# Root passes every file mode check; capsh without the capabilities that bypass them meets the
# modes as another user does.

CAPSH = shutil.which("capsh")
NO_BYPASS = "cap_dac_override,cap_dac_read_search,cap_fowner"


@pytest.fixture(scope="session")
def without_bypass() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``without_bypass(ARGS, cwd=None)``: ``python ARGS`` (``["-m", "taco", ...]``, ``["-c", CODE,
    ...]``) run as root without the capabilities that bypass file modes (capsh), its output
    captured as text. Skips the test without capsh or root."""
    if CAPSH is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs capsh and root, to run without the permission bypass")

    def run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        command = shlex.join([sys.executable, *args])
        return subprocess.run([CAPSH or "capsh", f"--drop={NO_BYPASS}", "--", "-c", command], cwd=cwd,
                              capture_output=True, text=True, timeout=300, check=False)

    return run


# --------------------------------------------------------------------------- reads of the moment


@pytest.fixture()
def transient_photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two readable 24x16 photos in tmp_path, a.png and b.png; taco.data does not pause between
    the tries of a read that failed for the moment (TRANSIENT_PAUSE_S 0)."""
    from PIL import Image

    import taco.data

    monkeypatch.setattr(taco.data, "TRANSIENT_PAUSE_S", 0.0)
    for name, colour in (("a", (200, 10, 10)), ("b", (10, 200, 10))):
        Image.new("RGB", (24, 16), colour).save(tmp_path / f"{name}.png")
    return tmp_path


@pytest.fixture()
def failing_loads(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, int]]:
    """``failing_loads(FAILS, otherwise="failed")``: taco.data's load_image raises, for a file
    named in FAILS (name -> errors), its next error chained in an ImageReadError (``from`` it, as
    taco.images.load_image does), the error's strerror its reason (``otherwise`` for one without);
    -> the reads by file name."""
    import taco.data
    from taco.images import ImageReadError

    def install(fails: dict[str, list[BaseException]], otherwise: str = "failed") -> dict[str, int]:
        real = taco.data.load_image
        reads: dict[str, int] = {}

        def load(path: Path, **kwargs: object):  # noqa: ANN202
            name = Path(path).name
            reads[name] = reads.get(name, 0) + 1
            if fails.get(name):
                cause = fails[name].pop(0)
                raise ImageReadError(path, getattr(cause, "strerror", None) or otherwise) from cause
            return real(path, **kwargs)

        monkeypatch.setattr(taco.data, "load_image", load)
        return reads

    return install
