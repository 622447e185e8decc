"""The credentials file as the writer read it: bytes, identity, botocore's view, and per-section windows.

Two jobs that make writing safe and fast on any file:

- **Was it still the file we read?** `unchanged()` compares device, inode, size, mtime and the bytes
  themselves just before the replace, so an update made meanwhile by a tool that takes no lock, or a
  rewrite in place (truncate, then write) caught half-way, is never renamed over.
- **Windows.** Parsing is done once, with `ini.parse_ini_text` (the same fast reader `list` uses, and the
  same errors). The line editor and botocore's own parser then only see the *window* of each section
  written: its header up to the next header. configparser's state resets at every header, so lines outside
  the windows read the same before and after, as long as the next header is still a header: the
  verification includes it. This is what makes a 50 MB file as quick to refresh as to list.
"""

from __future__ import annotations

import bisect
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from stsdash.awsfiles import iniedit
from stsdash.awsfiles.ini import DEFAULT_SECTION, IniFile, parse_ini_bytes
from stsdash.awsfiles.iniedit import Document, Line
from stsdash.errors import FileFormatError


@dataclass(frozen=True)
class Identity:
    """What must not change between reading the file and replacing it."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Identity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class Snapshot:
    path: Path  # the name the user knows
    target: Path  # the real file behind it (symlinks resolved)
    data: bytes
    st: os.stat_result | None  # None: the file does not exist yet
    ini: IniFile
    texts: list[str]
    eols: list[str]
    eol: str  # the file's line ending, for lines stsdash adds
    headers: list[int] | None  # 0-based header lines in order; None: one window, the whole file

    @property
    def identity(self) -> Identity | None:
        return None if self.st is None else Identity.of(self.st)

    def has_section(self, name: str) -> bool:
        return name != DEFAULT_SECTION and name in self.ini.sections

    def window(self, name: str) -> tuple[int, int]:
        """Lines [start, end) of section `name`: its header up to the next header (or the end)."""
        if self.headers is None:
            return 0, len(self.texts)
        start = self.ini.sections[name].line - 1
        return start, self._next_header(start)

    def tail(self) -> tuple[int, int]:
        """The window new sections are appended to: the last section (or the whole file)."""
        if not self.headers:
            return 0, len(self.texts)
        return self.headers[-1], len(self.texts)

    def around(self, name: str) -> tuple[int, int]:
        """Section `name` with the section before it: removing a header can change what precedes it."""
        start, end = self.window(name)
        if self.headers is None:
            return start, end
        index = bisect.bisect_left(self.headers, start)
        return (self.headers[index - 1] if index > 0 else 0), end

    def _next_header(self, start: int) -> int:
        assert self.headers is not None
        index = bisect.bisect_right(self.headers, start)
        return self.headers[index] if index < len(self.headers) else len(self.texts)

    def document(self, start: int, end: int) -> Document:
        lines = [Line(t, e) for t, e in zip(self.texts[start:end], self.eols[start:end], strict=True)]
        return iniedit.parse_lines(lines, self.path, self.eol)

    def text(self, start: int, end: int, lines: list[Line] | None = None) -> str:
        """Window [start, end) (or `lines` in its place) followed by the next header line, for checking."""
        body = (
            iniedit.join_lines(self.texts[start:end], self.eols[start:end])
            if lines is None
            else "".join(line.text + line.eol for line in lines)
        )
        if end < len(self.texts):
            body += self.texts[end] + self.eols[end]
        return body

    def own_values(self, start: int, end: int, lines: list[Line] | None = None) -> dict[str, dict[str, str]]:
        """botocore's parser on a window (plus the next header): each section's own keys."""
        return iniedit.own_values(self.text(start, end, lines).encode("utf-8"), self.path)

    def replaced(self, windows: dict[tuple[int, int], list[Line]]) -> bytes:
        """The whole file with each window's lines replaced."""
        texts, eols = list(self.texts), list(self.eols)
        for (start, end), lines in sorted(windows.items(), reverse=True):
            texts[start:end] = [line.text for line in lines]
            eols[start:end] = [line.eol for line in lines]
        return iniedit.join_lines(texts, eols).encode("utf-8")


def read_raw(path: Path, target: Path) -> tuple[bytes, os.stat_result | None]:
    """The bytes of `target` and the identity they belong to. Raises FileFormatError or OSError."""
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        return b"", None
    assert st is not None
    if not stat.S_ISREG(st.st_mode):
        raise FileFormatError(path, None, f"{target} is not a regular file")
    try:
        data = target.read_bytes()
        st = os.stat(target)  # the identity the bytes belong to (a change during the read shows later)
    except FileNotFoundError:
        return b"", None
    return data, st


def read(path: Path, target: Path) -> Snapshot:
    """Read and validate `target`. Raises FileFormatError (malformed) or OSError (unreadable)."""
    return from_bytes(path, target, *read_raw(path, target))


def from_bytes(path: Path, target: Path, data: bytes, st: os.stat_result | None) -> Snapshot:
    ini = parse_ini_bytes(data, path)  # botocore's rules, with line numbers in every error
    text = data.decode("utf-8")  # parse_ini_bytes has checked it
    texts, eols = iniedit.split_text(text)
    eol = next((e for e in eols if e), "\n")
    headers: list[int] | None = [sec.line - 1 for sec in ini.sections.values()]
    assert headers is not None
    if ini.defaults is not None:
        if data.count(b"DEFAULT]") > 1:
            headers = None  # [DEFAULT] may be repeated; only its first header is known: use one window
        else:
            headers.append(ini.defaults.line - 1)
    if headers is not None:
        headers.sort()
    return Snapshot(path, target, data, st, ini, texts, eols, eol, headers)


def unchanged(snap: Snapshot) -> bool:
    """True when `snap.target` is still exactly what was read: same inode, size, mtime and bytes."""
    return still_is(snap.target, snap.data, snap.st)


def still_is(target: Path, data: bytes, st: os.stat_result | None) -> bool:
    """True when `target` is still the file read as `data` with identity `st` (None: it did not exist)."""
    try:
        now = os.stat(target)
    except FileNotFoundError:
        return st is None
    if st is None or Identity.of(now) != Identity.of(st):
        return False
    try:
        return target.read_bytes() == data
    except OSError:
        return False
