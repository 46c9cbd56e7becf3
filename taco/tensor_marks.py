"""Whether tensors have changed since they were last seen: the one rule of taco's caches over
tensors (``taco.bitstream.rans.coder_tables``, ``taco.models.model_fingerprint``,
``taco.models.checkpoint.check_entropy_tables``).

A tensor is unchanged when it is the very same object, torch's version counter has not moved
(it counts in-place ops: ``fill_``, ``load_state_dict``, an optimizer step, ``resize_``,
``set_``), and its data pointer, shape, strides and device are the same. The tensor is held
weakly: a dead reference matches nothing, so a new tensor at a recycled address never passes for
the old one. Writes through ``t.data`` or ``t.numpy()`` are not counted by torch, so not seen.
An inference tensor (made under ``torch.inference_mode``) keeps no version counter and can be
written in place there unseen: it has no marks.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import torch

__all__ = ["Marks", "TensorMark", "tensor_marks", "unchanged"]


@dataclass(frozen=True, eq=False)  # no ==: on live weak references it compares the tensors' values
class TensorMark:
    """What :func:`unchanged` compares of one tensor."""

    ref: weakref.ref[torch.Tensor]
    version: int
    data_ptr: int
    shape: torch.Size
    stride: tuple[int, ...]
    device: torch.device


Marks = tuple[TensorMark, ...]


def tensor_marks(tensors: Sequence[torch.Tensor]) -> Marks | None:
    """The marks of ``tensors`` as they are now, or None when one is an inference tensor."""
    if any(t.is_inference() for t in tensors):
        return None
    return tuple(TensorMark(weakref.ref(t), t._version, t.data_ptr(), t.shape, t.stride(), t.device)
                 for t in tensors)


def unchanged(marks: Marks, tensors: Sequence[torch.Tensor]) -> bool:
    """Whether ``tensors`` are the very tensors ``marks`` were taken of, in order, unwritten,
    unmoved and unresized since."""
    return len(marks) == len(tensors) and all(
        m.ref() is t and m.version == t._version and m.data_ptr == t.data_ptr()
        and m.shape == t.shape and m.stride == t.stride() and m.device == t.device
        for m, t in zip(marks, tensors, strict=True))
