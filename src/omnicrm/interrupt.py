"""SIGTERM as an exit, for commands that write temporary files: a scheduler's timeout or a
``kill`` then unwinds like Ctrl-C, so ``finally`` blocks and temporary directories clean up
(SIGKILL cannot be caught: what it leaves is swept by the next run)."""

from __future__ import annotations

import contextlib
import signal
import threading


def _exit_on_term(signum, frame) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def sigterm_as_exit():
    """Within the block, SIGTERM raises SystemExit (only the main thread can set handlers;
    elsewhere the block runs unchanged). The previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
