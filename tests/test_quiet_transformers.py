"""taco.text.hf.quiet_transformers: blocks nested one after the other run without waiting on the
thread's own lock, and a block after the outer one has ended still quiets transformers' logging."""

from __future__ import annotations


def test_quiet_transformers_blocks_after_nested_ones_still_quiet_and_do_not_hang():
    """Two blocks nested one after the other in an outer one run (no wait for the
    thread's own lock), and a block after the outer one has ended quiets transformers again."""
    import threading

    from transformers.utils import logging

    from taco.text.hf import quiet_transformers

    seen: list[int] = []

    def work() -> None:
        with quiet_transformers():
            with quiet_transformers():
                pass
            with quiet_transformers():
                seen.append(logging.get_verbosity())
        with quiet_transformers():
            seen.append(logging.get_verbosity())
        with quiet_transformers():
            seen.append(logging.get_verbosity())

    before = logging.get_verbosity()
    logging.set_verbosity_info()
    try:
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(20)
        assert not thread.is_alive(), "a nested quiet_transformers block waited for its own thread"
        assert seen == [logging.ERROR] * 3
        assert logging.get_verbosity() == logging.INFO
    finally:
        logging.set_verbosity(before)
