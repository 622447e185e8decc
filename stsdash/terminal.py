"""Text from files, servers and programs never drives the terminal.

Profile names, values, STS reason phrases, OIDC user codes and URLs can carry escape sequences (an OSC 52
clipboard write, a screen clear) or line separators. `printable` shows each such character as a
visible `\\u001b`-style escape (the same spelling is valid inside JSON strings); `SafeStream` applies
it to everything a command writes, so no output path can forget it. The dashboard calls `printable`
on every value it shows.
"""

from __future__ import annotations

import re
from typing import Any, TextIO, cast

# C0 and C1 controls, DEL, line/paragraph separators, zero-width and bidirectional formatting marks.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_KEEP_LINES = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control or invisible formatting character shown as \\uXXXX.

    With keep_newlines, "\\n" and "\\t" stay (for multi-line messages stsdash composes itself).
    """
    pattern = _UNSAFE_KEEP_LINES if keep_newlines else _UNSAFE
    if pattern.search(text) is None:  # the common case: no copy
        return text
    return pattern.sub(_escape, text)


class SafeStream:
    """A text stream wrapper that escapes control characters in everything written through it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text, keep_newlines=True))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, ...
        return getattr(self._stream, name)


def protect_std_streams() -> None:
    """Route sys.stdout and sys.stderr through SafeStream (idempotent)."""
    import sys

    if not isinstance(sys.stdout, SafeStream):
        sys.stdout = cast(TextIO, SafeStream(sys.stdout))
    if not isinstance(sys.stderr, SafeStream):
        sys.stderr = cast(TextIO, SafeStream(sys.stderr))
