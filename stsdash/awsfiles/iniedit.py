"""A byte-preserving line editor for INI files read by botocore.

Not configupdater: it reads through text-mode I/O and writes every line ending back as LF, so a CRLF file
(or one with lone CRs) would change in every section, not just the ones written. This editor splits lines
with universal-newline rules (as configparser reads them), keeps each line's own ending, and classifies
lines with the same rules as `RawConfigParser._read` (comments, indentation-based continuations,
`\\[(.+)\\]` headers, first `=`/`:`). Lines outside the edited sections are copied untouched, so their
bytes cannot change.

Edits inside a section are chosen so they cannot change how any other line is classified: values are
replaced in place (continuation lines of a replaced value are dropped), removed keys go with their
continuations, missing keys are inserted before the section's first option at that option's indentation,
and new sections are appended at column 0. Only `remove_section` next to oddly indented neighbours can
change a neighbour's meaning; callers check the result with `own_values` (botocore's own parser).

This module knows nothing about credentials: what to write, and whether it may, is the caller's policy.
"""

from __future__ import annotations

import configparser
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stsdash.errors import FileFormatError

DEFAULT_SECTION = "DEFAULT"

# configparser's own patterns (RawConfigParser._SECT_TMPL, _OPT_TMPL with `=`/`:`, NONSPACECRE).
_SECTCRE = re.compile(r"\[(?P<header>.+)\]")
_OPTCRE = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_NONSPACE = re.compile(r"\S")
_EOL_SPLIT = re.compile(r"(\r\n|\r|\n)")  # universal newlines: where configparser ends a line
# configparser's DEFAULT section is merged into every section; parse it as a plain section instead.
_NO_DEFAULT = "\x00stsdash-no-default-section"


@dataclass
class Line:
    text: str  # without the line ending
    eol: str  # "\n", "\r\n", "\r" or "" (last line without newline)


@dataclass
class Option:
    line: int  # index of the `key = value` line
    indent: int
    continuations: list[int] = field(default_factory=list)  # indices of its continuation lines


@dataclass
class Section:
    name: str
    header: int  # index of the header line
    end: int = 0  # index of the next header, or len(lines)
    options: dict[str, Option] = field(default_factory=dict)  # lowercased key -> where


@dataclass
class Document:
    lines: list[Line]
    sections: list[Section]
    eol: str  # the file's line ending, for lines we add

    def section(self, name: str) -> Section | None:
        """The section named `name` ([DEFAULT] is never returned: it is not a section of its own)."""
        if name == DEFAULT_SECTION:
            return None
        for sec in self.sections:
            if sec.name == name:
                return sec
        return None

    def render(self) -> bytes:
        return "".join(line.text + line.eol for line in self.lines).encode("utf-8")


def split_lines(text: str) -> list[Line]:
    texts, eols = split_text(text)
    return [Line(t, e) for t, e in zip(texts, eols, strict=True)]


def split_text(text: str) -> tuple[list[str], list[str]]:
    """(line texts, their endings), split by universal newlines in one C-level pass (large files)."""
    parts = _EOL_SPLIT.split(text)
    texts, eols = parts[0::2], parts[1::2]
    if texts[-1] == "":
        texts.pop()  # the text ended with a line ending (or was empty)
    else:
        eols.append("")
    return texts, eols


def join_lines(texts: list[str], eols: list[str]) -> str:
    parts: list[str] = [""] * (2 * len(texts))
    parts[0::2], parts[1::2] = texts, eols
    return "".join(parts)


def parse(data: bytes, path: Path) -> Document:
    """Locate headers, options and continuation lines, classifying each line as RawConfigParser does."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise FileFormatError(path, 1, "file starts with a UTF-8 byte order mark (BOM)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, None, "invalid UTF-8") from exc
    return parse_lines(split_lines(text), path)


def parse_lines(lines: list[Line], path: Path, eol: str | None = None) -> Document:
    """`parse` for lines already split (a window of a large file starting at a header, or a whole file).

    `eol` is the line ending for lines added later; default: the first one in `lines`.
    """
    if eol is None:
        eol = next((line.eol for line in lines if line.eol), "\n")
    sections: list[Section] = []
    current: Section | None = None
    option: Option | None = None
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
            current = Section(header.group("header"), index)
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
        option = Option(index, indent)
        current.options[key] = option
    if current is not None:
        current.end = len(lines)
    names = [sec.name for sec in sections if sec.name != DEFAULT_SECTION]
    if len(names) != len(set(names)):
        raise FileFormatError(path, None, "duplicate section")
    return Document(lines, sections, eol)


def own_values(data: bytes, path: Path) -> dict[str, dict[str, str]]:
    """Each section's own keys as botocore's RawConfigParser reads them ([DEFAULT] kept separate)."""
    parser = configparser.RawConfigParser(default_section=_NO_DEFAULT)
    try:
        text = data.decode("utf-8")
        parser.read_file(io.StringIO(text, newline=None), source=str(path))
    except (UnicodeDecodeError, configparser.Error) as exc:
        raise FileFormatError(path, None, f"botocore's parser rejects it: {type(exc).__name__}") from exc
    return {name: dict(parser.items(name)) for name in parser.sections()}


def set_values(doc: Document, name: str, values: Mapping[str, str], *, remove: Iterable[str] = ()) -> None:
    """Give section `name` these `values` (added in this order when missing) and drop the keys in `remove`.

    A missing section is appended at the end of the file.
    """
    sec = doc.section(name)
    if sec is None:
        append_section(doc, name, values)
        return
    drop: set[int] = set()
    for key in remove:
        opt = sec.options.get(key)
        if opt is not None:
            drop.add(opt.line)
            drop.update(opt.continuations)
    missing: list[str] = []
    for key, new_value in values.items():
        opt = sec.options.get(key)
        if opt is None:
            missing.append(key)
            continue
        drop.update(opt.continuations)
        line = doc.lines[opt.line]
        match = _OPTCRE.match(line.text[opt.indent :].rstrip())
        assert match is not None  # parse() classified this line as an option
        prefix = line.text[: opt.indent + match.start("value")]
        if not match.group("value") and not prefix.endswith((" ", "\t")):
            prefix = line.text[: opt.indent] + match.group("option") + " = "
        line.text = prefix + new_value
    inserted: list[Line] = []
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
        inserted = [Line(" " * indent + f"{key} = {values[key]}", eol) for key in missing]
        if at == len(doc.lines) and doc.lines[at - 1].eol == "":
            # The section ends the file without a final newline: keep it that way.
            doc.lines[at - 1].eol, inserted[-1].eol = eol, ""
    edited: list[Line] = []
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


def append_section(doc: Document, name: str, values: Mapping[str, str]) -> None:
    eol = doc.eol
    lines = doc.lines
    if lines:
        if lines[-1].eol == "":
            lines[-1].eol = eol
        if lines[-1].text.strip():
            lines.append(Line("", eol))  # a blank line between sections
    lines.append(Line(f"[{name}]", eol))
    lines.extend(Line(f"{key} = {value}", eol) for key, value in values.items())
    _reindex(doc)


def remove_section(doc: Document, sec: Section) -> None:
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


def _reindex(doc: Document) -> None:
    """Line indices moved: classify the edited lines again (they are verified separately as well)."""
    fresh = parse_lines(doc.lines, Path("<edited>"), doc.eol)
    doc.sections = fresh.sections
