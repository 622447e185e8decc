"""The only code that writes `~/.aws/credentials`.

Other tools lose comments, reorder sections, replace symlinks and race each other. Here every write
is: take a cross-process lock, read the file, refuse anything unsafe, edit only the lines of the sections
being written, check the result with botocore's own parser, then `atomic_write`.

Editing is done by a small line-based editor rather than configupdater: configupdater reads through
text-mode I/O and writes every line ending back as LF, so a CRLF file (or one with lone CRs) would change
in every section, not just the ones written. The editor below splits lines with universal-newline
rules (as configparser reads them), keeps each line's own ending, and classifies lines with the same rules
as `RawConfigParser._read` (comments, indentation-based continuations, `\\[(.+)\\]` headers, first `=`/`:`).
Lines outside the written sections are copied untouched, so their bytes cannot change. As a safety net,
old and new text are both parsed with `configparser.RawConfigParser` (botocore's parser) and the write is
refused unless exactly the intended sections changed, in exactly the intended way.

Edits inside a section are chosen so they cannot change how any other line is classified: values are
replaced in place (continuation lines of a replaced value are dropped), a stale `aws_security_token` is
deleted with its continuations, missing keys are inserted before the section's first option at that
option's indentation, and new sections are appended at column 0. Only `remove_section` next to oddly
indented neighbours can change a neighbour's meaning; the parser check refuses that case.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import re
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from stsdash.awsfiles import rules
from stsdash.awsfiles.atomic import atomic_write, resolve_target
from stsdash.awsfiles.ini import read_ini
from stsdash.creds import Credentials
from stsdash.errors import CredentialsWriteError, FileFormatError, WriteRefused
from stsdash.timeutil import format_utc

MANAGED_MARKER = rules.MANAGED_MARKER  # key written in every section stsdash owns; botocore ignores it

_ACCESS_KEY = rules.ACCESS_KEY
_SECRET_KEY = rules.SECRET_KEY
_SESSION_TOKEN = rules.SESSION_TOKEN
_EXPIRATION = rules.EXPIRATION
_STALE_TOKEN = rules.SECURITY_TOKEN  # legacy alias; botocore prefers it over aws_session_token
_WRITTEN_KEYS = (_ACCESS_KEY, _SECRET_KEY, _SESSION_TOKEN, _EXPIRATION, MANAGED_MARKER)

# configparser's own patterns (RawConfigParser._SECT_TMPL, _OPT_TMPL with `=`/`:`, NONSPACECRE).
_SECTCRE = re.compile(r"\[(?P<header>.+)\]")
_OPTCRE = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_NONSPACE = re.compile(r"\S")
_EOL = re.compile(r"\r\n|\r|\n")  # universal newlines: what ends a line when configparser reads the file
# configparser's DEFAULT section is merged into every section; parse it as a plain section instead.
_NO_DEFAULT = "\x00stsdash-no-default-section"
_CONFIGPARSER_DEFAULT = rules.DEFAULT_SECTION

_NOT_OURS_HINT = (
    "stsdash only writes sections it created. Choose another target section for this profile in "
    f"stsdash's settings, or add `{MANAGED_MARKER} = true` to the section if stsdash may overwrite it."
)
_LONG_TERM_HINT = (
    "Long-term keys are never overwritten. Move them to the OS keyring with `stsdash keys import`, "
    "or choose another target section for this profile in stsdash's settings."
)

_BAD_INPUT_HINT = (
    "The credentials provider returned something stsdash cannot write safely; nothing was written."
)

_thread_locks: dict[Path, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@dataclass(frozen=True)
class SectionUpdate:
    section: str
    credentials: Credentials  # temporary: must have session_token and expiration


@dataclass
class _Line:
    text: str  # without the line ending
    eol: str  # "\n", "\r\n", "\r" or "" (last line without newline)


@dataclass
class _Option:
    line: int  # index of the `key = value` line
    indent: int
    continuations: list[int] = field(default_factory=list)  # indices of its continuation lines


@dataclass
class _Section:
    name: str
    header: int  # index of the header line
    end: int = 0  # index of the next header, or len(lines)
    options: dict[str, _Option] = field(default_factory=dict)  # lowercased key -> where


@dataclass
class _Document:
    lines: list[_Line]
    sections: list[_Section]
    eol: str  # the file's line ending, for lines we add

    def section(self, name: str) -> _Section | None:
        for sec in self.sections:
            if sec.name == name and name != _CONFIGPARSER_DEFAULT:
                return sec
        return None

    def render(self) -> bytes:
        return "".join(line.text + line.eol for line in self.lines).encode("utf-8")


class CredentialsWriter:
    """Writes temporary credentials into sections stsdash owns (marked with `x_stsdash_managed = true`)."""

    def __init__(self, path: Path, *, lock_timeout: float = 15.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    def check(self, section: str) -> None:
        """Raise WriteRefused if `write()` would refuse this section as the file is now."""
        _check_section_name(self.path, section)
        target = resolve_target(self.path)
        doc, own = self._load(target, section)
        self._check_owned(doc, own, section)

    def write(self, updates: Sequence[SectionUpdate]) -> None:
        """Write all `updates` in one atomic replace, or nothing at all."""
        if not updates:
            return
        seen: set[str] = set()
        new_values: dict[str, dict[str, str]] = {}
        for update in updates:
            _check_section_name(self.path, update.section)
            if update.section in seen:
                raise ValueError(f"section [{update.section}] appears twice in one write")
            seen.add(update.section)
            new_values[update.section] = _values_for(self.path, update.section, update.credentials)
        target = resolve_target(self.path)
        with self._locked(target):
            doc, own = self._load(target, updates[0].section)
            for name in new_values:
                self._check_owned(doc, own, name)
            old_bytes = doc.render()
            try:
                for name, values in new_values.items():
                    _apply_update(doc, name, values)
            except FileFormatError as exc:
                raise self._edit_refused(updates[0].section) from exc
            expected = {name: dict(values) for name, values in own.items()}
            for name, values in new_values.items():
                kept = {k: v for k, v in expected.get(name, {}).items() if k != _STALE_TOKEN}
                expected[name] = kept | values
            new_bytes = doc.render()
            self._verify(new_bytes, expected, updates[0].section)
            if new_bytes != old_bytes:
                self._commit(target, new_bytes)

    def remove_section(self, section: str, *, expect_access_key_id: str) -> None:
        """Delete exactly `section`'s lines (after `keys import` has verified the keyring copy).

        Refuses if the section's access key id is not `expect_access_key_id`: the file changed since the
        keys were imported, and those keys would be lost.
        """
        _check_section_name(self.path, section)
        target = resolve_target(self.path)
        with self._locked(target):
            doc, own = self._load(target, section)
            sec = doc.section(section)
            if sec is None:
                raise WriteRefused(
                    self.path,
                    section,
                    "the section does not exist",
                    hint="Nothing was removed; check the profile name.",
                )
            if own[section].get(_ACCESS_KEY) != expect_access_key_id:
                raise WriteRefused(
                    self.path,
                    section,
                    "its access key id is not the one that was imported",
                    hint="The file changed meanwhile; run `stsdash keys import` again.",
                )
            try:
                _remove(doc, sec)
            except FileFormatError as exc:
                raise self._edit_refused(section) from exc
            expected = {name: values for name, values in own.items() if name != section}
            new_bytes = doc.render()
            self._verify(new_bytes, expected, section)
            self._commit(target, new_bytes)

    # -- internals ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, target: Path) -> Iterator[None]:
        """Exclusive across threads (a process-wide lock) and processes (flock on a file next to target)."""
        with _thread_locks_guard:
            tlock = _thread_locks.setdefault(target, threading.Lock())
        timeout_msg = (
            f"{self.path} is locked by another stsdash process "
            f"(waited {self.lock_timeout:g} s for {target.parent / _lock_name(target)})"
        )
        hint = "Try again; if no other stsdash is running, delete that lock file."
        deadline = time.monotonic() + self.lock_timeout
        if not tlock.acquire(timeout=self.lock_timeout):
            raise CredentialsWriteError(timeout_msg, hint=hint)
        try:
            try:
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise CredentialsWriteError(
                    f"cannot create {target.parent}: {exc.strerror or exc}", hint="Check permissions."
                ) from exc
            flock = FileLock(
                target.parent / _lock_name(target),
                timeout=max(0.0, deadline - time.monotonic()),
                mode=0o600,
            )
            try:
                flock.acquire()
            except Timeout as exc:
                raise CredentialsWriteError(timeout_msg, hint=hint) from exc
            except OSError as exc:
                raise CredentialsWriteError(
                    f"cannot lock {self.path}: {exc.strerror or exc}; the file is unchanged",
                    hint="Check free disk space and permissions.",
                ) from exc
            try:
                _remove_orphaned_temp_files(target)
                yield
            finally:
                flock.release()
        finally:
            tlock.release()

    def _load(self, target: Path, section: str) -> tuple[_Document, dict[str, dict[str, str]]]:
        """Read and validate the file. Malformed files are refused, never rewritten."""
        try:
            st = os.stat(target)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise WriteRefused(self.path, section, f"cannot read the file: {exc.strerror or exc}") from exc
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise WriteRefused(
                self.path,
                section,
                f"{target} is not a regular file",
                hint="Point AWS_SHARED_CREDENTIALS_FILE at a regular file.",
            )
        try:
            read_ini(target)  # botocore-compatible validation with line numbers
            data = target.read_bytes() if st is not None else b""
            doc = _parse(data, target)
            own = _own_values(doc.render(), target)
        except FileNotFoundError:
            doc, own = _parse(b"", target), {}
        except FileFormatError as exc:
            raise WriteRefused(
                self.path,
                section,
                f"the file is malformed ({exc.message})",
                hint="Fix the file by hand; stsdash never rewrites a file botocore cannot parse.",
            ) from exc
        except OSError as exc:
            raise WriteRefused(self.path, section, f"cannot read the file: {exc.strerror or exc}") from exc
        return doc, own

    def _check_owned(self, doc: _Document, own: dict[str, dict[str, str]], section: str) -> None:
        defaults = own.get(_CONFIGPARSER_DEFAULT, {})
        if _STALE_TOKEN in defaults:
            raise WriteRefused(
                self.path,
                section,
                f"its [DEFAULT] section sets {_STALE_TOKEN}, which would override "
                "the written session token in every section",
                hint="Remove that key from [DEFAULT].",
            )
        if doc.section(section) is None:
            return  # a new section: ours from now on
        values = own[section]
        if rules.holds_long_term_keys(values):
            raise WriteRefused(self.path, section, "it holds long-term access keys", hint=_LONG_TERM_HINT)
        if not rules.is_managed(values):
            raise WriteRefused(
                self.path,
                section,
                f"stsdash does not own it (no `{MANAGED_MARKER} = true`)",
                hint=_NOT_OURS_HINT,
            )

    def _verify(self, new_bytes: bytes, expected: dict[str, dict[str, str]], section: str) -> None:
        """botocore's parser must see exactly `expected`, section by section, in order."""
        try:
            actual = _own_values(new_bytes, self.path)
        except FileFormatError as exc:
            actual = {"<unparseable>": {"error": exc.reason}}
        if list(actual) != list(expected) or actual != expected:
            raise self._edit_refused(section)

    def _edit_refused(self, section: str) -> WriteRefused:
        return WriteRefused(
            self.path,
            section,
            "the edit would change how botocore reads other lines of the file (unusual indentation?)",
            hint="Nothing was written. Tidy the file by hand (no indented keys or headers) and retry.",
        )

    def _commit(self, target: Path, data: bytes) -> None:
        try:
            atomic_write(target, data)
        except OSError as exc:
            raise CredentialsWriteError(
                f"could not write {self.path}: {exc.strerror or exc}; the file is unchanged",
                hint="Check free disk space and permissions, then try again.",
            ) from exc


def _lock_name(target: Path) -> str:
    return f".{target.name}.stsdash.lock"


def _remove_orphaned_temp_files(target: Path) -> None:
    """atomic_write's temp files left by a writer killed mid-write. Only lock holders create them."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if pattern.fullmatch(name):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


def _check_section_name(path: Path, name: str) -> None:
    """A section name becomes `[name]` on a line of its own: it must parse back as exactly that name."""
    problem = rules.section_name_problem(name)
    if problem:
        raise WriteRefused(path, rules.escaped(name), problem, hint="Choose another target section name.")


def _values_for(path: Path, section: str, creds: Credentials) -> dict[str, str]:
    """The five values stsdash writes, checked so none can break out of its line. Never echoes secrets."""
    if not creds.session_token:
        raise WriteRefused(
            path, section, "the credentials have no session token (long-term keys)", hint=_LONG_TERM_HINT
        )
    if creds.expiration is None or creds.expiration.utcoffset() is None:
        raise WriteRefused(
            path, section, "the credentials have no timezone-aware expiration time", hint=_BAD_INPUT_HINT
        )
    if rules.is_long_term_key_id(creds.access_key_id):
        raise WriteRefused(
            path, section, "the access key id is a long-term (AKIA…) key id", hint=_LONG_TERM_HINT
        )
    values = {
        _ACCESS_KEY: creds.access_key_id,
        _SECRET_KEY: creds.secret_access_key,
        _SESSION_TOKEN: creds.session_token,
        _EXPIRATION: format_utc(creds.expiration),
        MANAGED_MARKER: "true",
    }
    rules.check_values(path, section, values, hint=_BAD_INPUT_HINT)
    return values


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    pos = 0
    for match in _EOL.finditer(text):
        lines.append(_Line(text[pos : match.start()], match.group()))
        pos = match.end()
    if pos < len(text):
        lines.append(_Line(text[pos:], ""))
    return lines


def _parse(data: bytes, path: Path) -> _Document:
    """Locate headers, options and continuation lines, classifying each line as RawConfigParser does."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise FileFormatError(path, 1, "file starts with a UTF-8 byte order mark (BOM)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, None, "invalid UTF-8") from exc
    lines = _split_lines(text)
    eol = next((line.eol for line in lines if line.eol), "\n")
    sections: list[_Section] = []
    current: _Section | None = None
    option: _Option | None = None
    indent_level = 0
    for index, line in enumerate(lines):
        value = line.text.strip()
        if not value or value[0] in "#;":
            continue  # blank lines and full-line comments change no state
        match = _NONSPACE.search(line.text)
        indent = match.start() if match else 0
        if current is not None and option is not None and indent > indent_level:
            option.continuations.append(index)
            continue
        indent_level = indent
        header = _SECTCRE.match(value)
        if header:
            if current is not None:
                current.end = index
            current = _Section(header.group("header"), index)
            sections.append(current)
            option = None
            continue
        if current is None:
            raise FileFormatError(path, index + 1, "line outside any section")
        opt = _OPTCRE.match(value)
        if not opt or not opt.group("option"):
            raise FileFormatError(path, index + 1, "not a `key = value` line")
        key = opt.group("option").rstrip().lower()
        if key in current.options:
            raise FileFormatError(path, index + 1, f"duplicate key {key!r} in [{current.name}]")
        option = _Option(index, indent)
        current.options[key] = option
    if current is not None:
        current.end = len(lines)
    names = [sec.name for sec in sections if sec.name != _CONFIGPARSER_DEFAULT]
    if len(names) != len(set(names)):
        raise FileFormatError(path, None, "duplicate section")
    return _Document(lines, sections, eol)


def _own_values(data: bytes, path: Path) -> dict[str, dict[str, str]]:
    """Each section's own keys as botocore's RawConfigParser reads them ([DEFAULT] kept separate)."""
    parser = configparser.RawConfigParser(default_section=_NO_DEFAULT)
    try:
        text = data.decode("utf-8")
        parser.read_file(io.StringIO(text, newline=None), source=str(path))
    except (UnicodeDecodeError, configparser.Error) as exc:
        raise FileFormatError(path, None, f"botocore's parser rejects it: {type(exc).__name__}") from exc
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _apply_update(doc: _Document, name: str, values: dict[str, str]) -> None:
    sec = doc.section(name)
    if sec is None:
        _append_section(doc, name, values)
        return
    drop: set[int] = set()
    missing: list[str] = []
    for key in (*_WRITTEN_KEYS, _STALE_TOKEN):
        opt = sec.options.get(key)
        if opt is None:
            if key != _STALE_TOKEN:
                missing.append(key)
            continue
        drop.update(opt.continuations)
        if key == _STALE_TOKEN:
            drop.add(opt.line)
            continue
        line = doc.lines[opt.line]
        match = _OPTCRE.match(line.text[opt.indent :].rstrip())
        assert match is not None  # _parse classified this line as an option
        prefix = line.text[: opt.indent + match.start("value")]
        if not match.group("value") and not prefix.endswith((" ", "\t")):
            prefix = line.text[: opt.indent] + match.group("option") + " = "
        line.text = prefix + values[key]
    inserted: list[_Line] = []
    at = sec.header + 1
    if missing:
        # Before the section's first option, at its indentation: right after a header no line can be a
        # continuation, and the first option keeps its classification, so nothing else changes meaning.
        first = min((opt.line for opt in sec.options.values()), default=None)
        if first is None:
            following = next((i for i in range(sec.end, len(doc.lines)) if doc.lines[i].text.strip()), None)
            indent = _indent_of(doc.lines[following].text) if following is not None else 0
        else:
            at, indent = first, _indent_of(doc.lines[first].text)
        eol = doc.lines[sec.header].eol or doc.eol
        inserted = [_Line(" " * indent + f"{key} = {values[key]}", eol) for key in missing]
        if at == len(doc.lines) and doc.lines[at - 1].eol == "":
            # The section ends the file without a final newline: keep it that way.
            doc.lines[at - 1].eol, inserted[-1].eol = eol, ""
    edited: list[_Line] = []
    for index, line in enumerate(doc.lines):
        if index == at:
            edited.extend(inserted)
        if index not in drop:
            edited.append(line)
    if at == len(doc.lines):
        edited.extend(inserted)
    doc.lines = edited
    _reindex(doc)


def _indent_of(text: str) -> int:
    match = _NONSPACE.search(text)
    return match.start() if match else 0


def _append_section(doc: _Document, name: str, values: dict[str, str]) -> None:
    eol = doc.eol
    lines = doc.lines
    if lines:
        if lines[-1].eol == "":
            lines[-1].eol = eol
        if lines[-1].text.strip():
            lines.append(_Line("", eol))  # a blank line between sections
    lines.append(_Line(f"[{name}]", eol))
    lines.extend(_Line(f"{key} = {value}", eol) for key, value in values.items())
    _reindex(doc)


def _remove(doc: _Document, sec: _Section) -> None:
    """Header through the section's last key line; its trailing blank lines too, if a blank line or the
    start of the file precedes it (so the gap between neighbours stays one blank line)."""
    last = sec.header
    for opt in sec.options.values():
        last = max(last, opt.line, *opt.continuations)
    stop = last + 1
    if sec.header == 0 or not doc.lines[sec.header - 1].text.strip():
        while stop < sec.end and not doc.lines[stop].text.strip():
            stop += 1
    del doc.lines[sec.header : stop]
    _reindex(doc)


def _reindex(doc: _Document) -> None:
    """Line indices moved: classify the edited text again (it is verified separately as well)."""
    fresh = _parse(doc.render(), Path("<edited>"))
    doc.lines, doc.sections = fresh.lines, fresh.sections
