"""taco's public API works the same whatever default device the caller set: a notebook's
``torch.set_default_device("cuda")`` or a ``with torch.device("meta"):`` made taco.load blame the
file ("invalid model config ... Cannot copy out of meta tensor") and create_model, compress and
decompress fail ("Tensor.item() cannot be called on meta tensors"). Models are built and loaded on
the CPU, the same bytes come out, and the caller's default device is left as it was
(taco.draws.cpu_default_device). The meta device stands in for a GPU here."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import taco
from taco.codec import clear_named_models, decompress_tensor
from taco.draws import cpu_default_device
from taco.images import load_image
from taco.metrics import compute_metrics
from taco.models import load_checkpoint
from taco.text import build_text_encoder

SAMPLE = Path(taco.__file__).parent / "assets" / "samples" / "skimage-astronaut.png"
CAPTION = "An astronaut in a white suit in front of a flag."


@contextlib.contextmanager
def set_default_meta() -> Iterator[None]:
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(None)


DEFAULTS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "with torch.device": lambda: torch.device("meta"),
    "set_default_device": set_default_meta,
}


def crop() -> torch.Tensor:
    image = load_image(SAMPLE).crop((0, 0, 96, 64))
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)  # (3, 64, 96) uint8


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def results(tmp_path: Path) -> dict[str, object]:
    """What each entry point gives, as comparable values."""
    model = taco.create_model("taco-tiny")
    image = crop()
    data = taco.compress(image, CAPTION, model)
    checkpoint = tmp_path / "tiny.safetensors"
    if not checkpoint.exists():
        taco.save_checkpoint(model, checkpoint)
    clear_named_models()  # decompress without a model loads the file's one here
    x_hat, _ = decompress_tensor(data)
    encoder = build_text_encoder("clip-tiny")
    metrics = compute_metrics(image.float()[None] / 255, x_hat)
    return {
        "create_model": state(model),
        "devices": {p.device.type for p in model.parameters()},
        "load": state(taco.load("elic-small-q4")),
        "load checkpoint": state(taco.load(checkpoint)),
        "load_checkpoint": state(load_checkpoint(checkpoint)),  # taco.models', not through taco.load
        "compress": data,
        "compress_image": taco.compress_image(image, CAPTION, model).data,
        "compress_batch": [r.data for r in taco.compress_batch([image, image], [CAPTION] * 2,
                                                                   model, batch_size=1)],
        "decompress": taco.decompress(data, model).tobytes(),
        "decompress_tensor": x_hat,
        "text": encoder.encode([CAPTION]).tokens,
        "metrics": (metrics.psnr, metrics.lpips),
    }


def same(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.device == b.device and torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("default-device")
    return folder, results(folder)


@pytest.mark.parametrize("default", list(DEFAULTS))
def test_the_api_gives_the_same_results_under_another_default_device(default, expected):
    folder, want = expected
    with DEFAULTS[default]():
        got = results(folder)
        assert torch.get_default_device().type == "meta"  # the caller's, as it was
    assert torch.get_default_device().type == "cpu"
    assert want["devices"] == {"cpu"}
    different = [name for name in want if not same(want[name], got[name])]
    assert not different


def test_torch_default_device_is_per_thread():
    """cpu_default_device relies on it: a thread's default is not another's."""
    seen = []
    with set_default_meta():
        thread = threading.Thread(target=lambda: seen.append(torch.empty(1).device.type))
        thread.start()
        thread.join()
        assert torch.empty(1).device.type == "meta"
    assert seen == ["cpu"]


def test_a_thread_using_its_default_device_is_not_affected_by_taco_work():
    started, stop, seen, errors = threading.Event(), threading.Event(), set(), []

    def user() -> None:
        try:
            with set_default_meta():
                started.set()
                while not stop.is_set():
                    seen.add(torch.zeros(1).device.type)
                    seen.add(torch.get_default_device().type)
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    thread = threading.Thread(target=user)
    thread.start()
    assert started.wait(10)
    try:
        with torch.device("meta"):
            model = taco.create_model("taco-tiny")
            taco.compress(crop(), CAPTION, model)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive() and errors == []
    assert seen == {"meta"}


def test_the_cpu_default_pushes_no_mode():
    """The ordinary path: the helper enters no TorchFunctionMode (it would see every torch call)."""
    with cpu_default_device():
        assert torch._C._len_torch_function_stack() == 0
    with torch.device("meta"), cpu_default_device():
        assert torch.empty(1).device.type == "cpu"
        assert torch.get_default_device().type == "cpu"
