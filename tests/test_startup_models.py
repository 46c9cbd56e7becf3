"""``taco models`` imports no NumPy: the built-ins' safetensors headers are read by taco.shards
itself; safetensors' ``safe_open`` imported NumPy for them, half of the command's time (review
SU, session 37)."""

from __future__ import annotations

from pathlib import Path

from taco.resolve import DEFAULT_MODEL

NO_NUMPY = ("numpy", "torch", "compressai", "transformers", "scipy", "matplotlib", "PIL")


def test_models_imports_no_numpy(probe, tmp_path: Path) -> None:
    for args in (["models"], ["models", DEFAULT_MODEL, "taco-minilm-vr"], ["models", "--json"]):
        r = probe(tmp_path, *args)
        assert r["code"] == 0 and DEFAULT_MODEL in r["stdout"], r["stderr"]
        heavy = set(NO_NUMPY) & set(r["modules"])
        assert not heavy, f"taco {' '.join(args)} imports {sorted(heavy)}"
