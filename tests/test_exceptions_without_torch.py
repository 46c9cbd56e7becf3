"""Every error and warning class in ``taco.__all__`` resolves without importing torch, so that
``except taco.SizeBudgetError`` or ``except taco.CaptionTooLongError`` costs no torch import
(2.5-3 s); the classes are the same ones their torch modules (taco.codec, taco.text.base) use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import taco

CLASSES = [name for name in taco.__all__
           if isinstance(getattr(taco, name), type) and issubclass(getattr(taco, name), BaseException | Warning)]


def test_the_error_classes_are_found() -> None:
    assert {"SizeBudgetError", "ImageSizeError", "CaptionTooLongError", "CaptionTextError",
            "CaptionTruncatedWarning", "TextEncoderUnavailable", "TacoError"} <= set(CLASSES)


@pytest.mark.parametrize("name", CLASSES)
def test_an_error_class_resolves_without_torch(name: str) -> None:
    code = f"import sys, taco; taco.{name}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]


def test_the_torch_modules_use_the_same_classes() -> None:
    import taco.codec
    import taco.text
    import taco.text.base

    assert taco.codec.SizeBudgetError is taco.SizeBudgetError
    assert taco.codec.ImageSizeError is taco.ImageSizeError
    for name in ("CaptionTooLongError", "CaptionTextError", "CaptionTruncatedWarning",
                 "TextEncoderUnavailable"):
        assert getattr(taco.text.base, name) is getattr(taco.text, name) is getattr(taco, name)
    assert issubclass(taco.SizeBudgetError, ValueError)
    assert issubclass(taco.TextEncoderUnavailable, RuntimeError)
    assert issubclass(taco.CaptionTruncatedWarning, taco.TacoWarning)
