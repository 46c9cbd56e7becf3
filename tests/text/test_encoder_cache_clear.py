"""The process-wide text encoders (:func:`taco.text.get_text_encoder`, up to 8, MiniLM ~90 MB each)
are freed by :func:`taco.text.clear_text_encoder_cache`, as docs/reliability.md says."""

from __future__ import annotations

import gc
import weakref

from taco.text import clear_text_encoder_cache, get_text_encoder


def test_clearing_the_cache_frees_the_shared_encoders_and_the_next_call_builds_anew():
    first = get_text_encoder("clip-tiny")
    assert get_text_encoder("clip-tiny") is first  # shared
    ref = weakref.ref(first)
    del first
    clear_text_encoder_cache()
    gc.collect()
    assert ref() is None
    again = get_text_encoder("clip-tiny")
    assert get_text_encoder("clip-tiny") is again
