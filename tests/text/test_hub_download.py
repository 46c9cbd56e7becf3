"""taco.text.hf.model_folder's download, against a local stand-in for the Hugging Face hub.

A hub that answered taco's probe (a HEAD request) but stalled the request for the file list hung
``taco compress`` forever, its stage line saying "analysis": huggingface_hub's
``snapshot_download`` asks for the list with no timeout. The list is now asked for with
:data:`taco.text.hf.HUB_TIMEOUT`, and a stall ends in one line naming the hub. With a mocked hub (no network): a download fetches
only the repository's top folder and returns the snapshot; one without weights is one line."""

from __future__ import annotations

import hashlib
import json
import threading
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from taco.errors import TacoError
from taco.text import hf

REPO, SHA = "taco-tests/tiny", "1" * 40
FILES = {"config.json": b'{"model_type": "clip"}', "model.safetensors": b"weights",
         "pytorch_model.bin": b"old weights", "onnx/model.onnx": b"not wanted"}


class Missing(TacoError, RuntimeError):
    pass


def serve(stall: threading.Event | None, revisions: list[str] | None = None) -> Iterator[str]:
    """A hub at the returned address: HEAD / answers; with ``stall`` every other request waits
    for it, else the model API and the files of :data:`FILES` answer, at any revision (each
    file request's appended to ``revisions``)."""

    class Hub(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self.answer(head=True)

        def do_GET(self) -> None:
            self.answer(head=False)

        def answer(self, head: bool) -> None:
            if self.path != "/" and stall is not None:
                stall.wait(30)
                return
            body, headers = b"", {}
            if self.path.startswith(f"/api/models/{REPO}"):
                body = json.dumps({"id": REPO, "sha": SHA, "siblings": [{"rfilename": f} for f in FILES],
                                   # what huggingface_hub 0.23's ModelInfo requires
                                   "private": False, "downloads": 0, "likes": 0, "tags": []}).encode()
            elif self.path.startswith(f"/{REPO}/resolve/"):
                revision, file = self.path.removeprefix(f"/{REPO}/resolve/").split("/", 1)
                if revisions is not None:
                    revisions.append(revision)
                body = FILES[file]
                headers = {"X-Repo-Commit": SHA, "ETag": f'"{hashlib.sha1(body).hexdigest()}"'}
            self.send_response(200)
            for key, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(key, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        if stall is not None:
            stall.set()
        server.shutdown()


@pytest.fixture
def hub_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point taco and huggingface_hub at a local hub, with an empty cache.

    taco passes huggingface_hub's ``constants.ENDPOINT`` and ``HF_HUB_CACHE`` explicitly, so
    patching ``constants`` reaches it on every hub version; but huggingface_hub before 1.0 builds
    a file's URL from file_download's import-time copies of ``HUGGINGFACE_CO_URL_TEMPLATE`` and
    (0.23) ``ENDPOINT``, which no argument reaches: those copies are patched too, where present."""
    from huggingface_hub import constants, file_download

    def use(endpoint: str) -> Path:
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # read at its import
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        url = {"ENDPOINT": endpoint,
               "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}"}
        for name, value in url.items():
            monkeypatch.setattr(constants, name, value)
            if hasattr(file_download, name):  # huggingface_hub < 1.0: an import-time copy
                monkeypatch.setattr(file_download, name, value)
        return tmp_path / "hub"
    return use


def test_a_hub_that_stalls_the_file_list_fails_in_one_line(hub_at, monkeypatch) -> None:
    monkeypatch.setattr(hf, "HUB_TIMEOUT", 0.5)
    for endpoint in serve(threading.Event()):
        hub_at(endpoint)
        with pytest.raises(Missing) as caught:
            hf.model_folder(REPO, what="X", fix="FIX", error=Missing)
        assert str(caught.value) == (f"X: cannot download {REPO!r} from the Hugging Face hub "
                                     f"({endpoint}): no answer within 0.5 s. FIX")


def test_a_download_takes_the_top_folder_s_safetensors_and_is_found_offline(hub_at, monkeypatch) -> None:
    revisions: list[str] = []
    for endpoint in serve(None, revisions):
        cache = hub_at(endpoint)
        folder = Path(hf.model_folder(REPO, what="X", fix="FIX", error=Missing))
        assert folder == cache / "models--taco-tests--tiny" / "snapshots" / SHA
        assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    # every file from the commit the file list came from ('main' could move between files)
    assert revisions and set(revisions) == {SHA}
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the cache's refs name the snapshot
    assert hf.model_folder(REPO, what="X", fix="FIX", error=Missing) == str(folder)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A mocked hub whose repository holds the files set on the returned namespace; a
    download writes them into a snapshot folder under ``tmp_path`` and is recorded."""
    huggingface_hub = pytest.importorskip("huggingface_hub")
    from huggingface_hub import constants

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))  # empty
    state = types.SimpleNamespace(files=[], fetched=[], snapshot=tmp_path / "snapshots" / "abc")

    class Api:
        def __init__(self, endpoint=None):  # taco passes the hub's endpoint at call time
            self.endpoint = endpoint

        def model_info(self, name, timeout=None):
            return types.SimpleNamespace(sha=None, siblings=[types.SimpleNamespace(rfilename=f)
                                                             for f in state.files])

    def download(name, file, revision=None, cache_dir=None, endpoint=None):
        state.fetched.append(file)
        path = state.snapshot / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        return str(path)

    monkeypatch.setattr(huggingface_hub, "HfApi", Api)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(hf, "hub_unreachable", lambda timeout=3.0: None)
    return state


def test_a_download_fetches_only_the_top_folder_and_returns_the_snapshot(hub):
    hub.files = ["config.json", "model.safetensors", "vision/model.safetensors"]
    folder = hf.download_model("org/m")
    assert sorted(hub.fetched) == ["config.json", "model.safetensors"]
    assert Path(folder) == hub.snapshot


def test_a_repository_that_downloads_without_weights_is_one_line(hub):
    hub.files = ["config.json", "README.txt"]
    with pytest.raises(Missing, match="^CLIP: the Hugging Face repository 'org/nomodel' lacks files "
                                      "a model needs .* FIX$"):
        hf.model_folder("org/nomodel", what="CLIP", fix="FIX", error=Missing)
