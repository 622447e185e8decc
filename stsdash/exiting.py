"""Leaving the process at once (Ctrl-C, `q`) without cutting a file write in half.

Python's normal exit joins every worker thread, and a worker blocked on a stalled endpoint would hold
the terminal until its deadline. `leave_now` abandons those calls instead; the only work it waits for
(briefly) is a critical section: a keyring or file write that must not stop half-way.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import NoReturn

CRITICAL_GRACE = 0.5  # s: the longest a critical write may delay the exit

_busy = 0
_idle = threading.Condition()


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Mark a write that must finish once started; leave_now waits for it (up to CRITICAL_GRACE)."""
    global _busy
    with _idle:
        _busy += 1
    try:
        yield
    finally:
        with _idle:
            _busy -= 1
            _idle.notify_all()


def leave_now(code: int) -> NoReturn:
    """Exit with `code` now: in-flight network calls abandoned, running critical writes finished."""
    http = sys.modules.get("stsdash.providers.http")
    if http is not None:
        http.cancel_all()
    with _idle:
        _idle.wait_for(lambda: _busy == 0, timeout=CRITICAL_GRACE)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
