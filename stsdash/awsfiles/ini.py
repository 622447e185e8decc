"""Read `~/.aws/config` and `~/.aws/credentials` exactly the way botocore does, keeping line numbers.

botocore uses `configparser.RawConfigParser()` with default settings and then turns indented
`key =` blocks into dicts (`configloader.raw_config_parse`). This module re-implements that parse line
by line, because configparser forgets where things were and reports only one error per file. Rules kept:

- full-line comments start with `#` or `;` (after any indentation); inline comments stay in the value;
- `=` or `:` separates (the first one on the line wins); option names are lowercased, values stripped;
- a line indented deeper than its option line continues the value; a blank line inside a value is kept;
- a value starting with a newline (`s3 =` + indented `k = v` lines) becomes a one-level dict;
- `[DEFAULT]` is configparser's special section: its keys appear in every other section;
- duplicate sections/keys, a line before any section, or a line with no separator reject the file.
A UTF-8 BOM is rejected too: configparser sees `\\ufeff[default]` as a line outside any section.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from stsdash.errors import FileFormatError

DEFAULT_SECTION = "DEFAULT"

# A plain `key = value` line at column 0, key and value in printable ASCII without tabs: nearly every
# line of a real file, recognised with one match. Every other line (indented, `:` separator, other
# whitespace, non-ASCII, ...) goes through the general rules, which give the same result for these.
# The key has no `=` or `:`, so the `=` matched is the first separator, as configparser requires.
_PLAIN_OPTION = re.compile(r"([A-Za-z0-9_.\-]+)[ \t]*=[ \t]*((?:[!-~](?:[ -~]*[!-~])?)?)[ \t]*")

_FIX_HINT = "Fix the file by hand; botocore (and every AWS CLI command) rejects it as it is."


@dataclass
class IniSection:
    name: str  # header text as written, e.g. "profile dev"
    line: int  # 1-based line of the header
    values: dict[str, str | dict[str, str]] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class IniFile:
    path: Path
    sections: dict[str, IniSection] = field(default_factory=dict)  # in file order
    # The `[DEFAULT]` section, if any. Its keys are already merged into every section's values.
    defaults: IniSection | None = None


def read_ini(path: Path | str) -> IniFile:
    """Parse `path` like botocore. A missing file (or a non-regular one such as /dev/null) is empty."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return IniFile(path=path)
    except NotADirectoryError:
        return IniFile(path=path)
    except OSError as exc:
        raise FileFormatError(path, None, f"cannot read file: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise FileFormatError(
            path, None, "is a directory, not a file",
            hint="Point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at a file.",
        )
    if not stat.S_ISREG(st.st_mode):
        return IniFile(path=path)  # botocore's os.path.isfile check: treated as absent
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(
            path, None, f"cannot read file: {exc.strerror or exc}",
            hint="Check the file's owner and permissions.",
        ) from exc
    return parse_ini_bytes(data, path)


def parse_ini_bytes(data: bytes, path: Path | str = "<string>") -> IniFile:
    """Decode strictly as UTF-8 (reporting the line of a bad byte), then parse."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise FileFormatError(
            path, 1, "file starts with a UTF-8 byte order mark (BOM), which botocore rejects",
            hint="Save the file as UTF-8 without BOM.",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start].decode("utf-8", errors="replace")
        line = _normalise_newlines(head).count("\n") + 1
        raise FileFormatError(
            path, line, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})",
            hint="Save the file as UTF-8.",
        ) from exc
    return parse_ini_text(text, path)


def _normalise_newlines(text: str) -> str:
    # Text-mode files use universal newlines: \r\n, \r and \n all end a line (and nothing else does).
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def parse_ini_text(text: str, path: Path | str = "<string>") -> IniFile:
    """Parse INI text with RawConfigParser's default rules plus botocore's nested-block step."""
    path = Path(path)
    if text.startswith("\ufeff"):
        raise FileFormatError(
            path, 1, "file starts with a byte order mark (BOM), which botocore rejects",
            hint="Save the file as UTF-8 without BOM.",
        )
    lines = _normalise_newlines(text).split("\n")

    sections: dict[str, IniSection] = {}
    # Each option's first physical line goes straight into its section's values; continuation lines
    # (rare) are kept apart and joined at the end like configparser.
    extra: dict[tuple[str, str], list[str]] = {}
    cont_lines: dict[tuple[str, str], list[int]] = {}  # continuation lines, for error messages
    defaults: IniSection | None = None
    cur_name: str | None = None
    cur_section: IniSection | None = None
    cur_values: dict[str, str | dict[str, str]] | None = None
    optname: str | None = None
    indent_level = 0
    # Blank lines after the current option's last line: part of the value only if a continuation
    # line follows (configparser keeps them, then strips trailing ones), so they are counted lazily.
    blanks = 0
    plain_option = _PLAIN_OPTION.fullmatch

    for lineno, line in enumerate(lines, start=1):
        if not line:
            # A blank line inside a value is part of it (empty_lines_in_values=True).
            if cur_values is not None and optname:
                blanks += 1
            continue
        # Fast path: a plain `key = value` line at column 0 (almost every line in real files).
        match = plain_option(line)
        if match is not None and cur_values is not None:
            key = match[1].lower()
            if key not in cur_values:  # a duplicate is reported by the general path below
                optname = key
                cur_values[key] = match[2]
                cur_section.key_lines[key] = lineno  # type: ignore[union-attr]
                indent_level = 0
                blanks = 0
                continue
        value = line.strip()
        if not value:
            # A blank line inside a value is part of it (empty_lines_in_values=True).
            if cur_values is not None and optname:
                blanks += 1
            continue
        first = value[0]
        if first == "#" or first == ";":
            continue  # full-line comment (indentation allowed); never part of a value
        cur_indent = len(line) - len(line.lstrip()) if line[0].isspace() else 0
        if cur_indent > indent_level and optname and cur_values is not None:
            key_of = (cur_name, optname)
            parts = extra.get(key_of)  # type: ignore[arg-type]
            if parts is None:
                parts = extra[key_of] = []  # type: ignore[index]
            if blanks:
                parts.extend([""] * blanks)
                blanks = 0
            parts.append(value)
            cont_lines.setdefault(key_of, []).append(lineno)  # type: ignore[arg-type]
            continue
        indent_level = cur_indent
        blanks = 0
        # SECTCRE is `\[(?P<header>.+)\]` with match(): the header runs to the LAST `]` on the line.
        close = value.rfind("]") if first == "[" else -1
        if close >= 2:
            name = value[1:close]
            optname = None
            if name == DEFAULT_SECTION:
                if defaults is None:
                    defaults = IniSection(name=name, line=lineno)
                cur_name, cur_section, cur_values = name, defaults, defaults.values
                continue
            if name in sections:
                raise FileFormatError(
                    path, lineno,
                    f"duplicate section [{name}] (first defined on line {sections[name].line})",
                    hint=_FIX_HINT,
                )
            cur_section = sections[name] = IniSection(name=name, line=lineno)
            cur_name, cur_values = name, cur_section.values
            continue
        if cur_values is None:
            raise FileFormatError(
                path, lineno, "line outside any section (add a [section] header above it)",
                hint=_FIX_HINT,
            )
        # OPTCRE's non-greedy option: the first `=` or `:` separates.
        eq = value.find("=")
        colon = value.find(":")
        sep = eq if colon < 0 or (0 <= eq < colon) else colon
        if sep <= 0:
            raise FileFormatError(
                path, lineno, "not a `key = value` line, a [section] header or a comment",
                hint=_FIX_HINT,
            )
        optname = value[:sep].rstrip().lower()
        assert cur_section is not None
        if optname in cur_values:
            first_line = cur_section.key_lines[optname]
            raise FileFormatError(
                path, lineno,
                f"duplicate key {optname!r} in [{cur_name}] (first set on line {first_line})",
                hint=_FIX_HINT,
            )
        cur_values[optname] = value[sep + 1 :].lstrip()
        cur_section.key_lines[optname] = lineno

    if extra:
        # [DEFAULT] first, then sections in file order (the order errors are reported in).
        for (name, key), parts in sorted(extra.items(), key=lambda item: item[0][0] != DEFAULT_SECTION):
            sec = defaults if name == DEFAULT_SECTION else sections[name]
            assert sec is not None
            _finish(sec, key, parts, cont_lines[(name, key)], path)
    if defaults is not None:
        for sec in sections.values():
            # RawConfigParser.options() lists the section's keys, then inherited ones; the section wins.
            for key, val in defaults.values.items():
                if key not in sec.values:
                    sec.values[key] = val
                    sec.key_lines[key] = defaults.key_lines[key]
    return IniFile(path=path, sections=sections, defaults=defaults)


def _finish(sec: IniSection, key: str, parts: list[str], cont: list[int], path: Path) -> None:
    # Join a value with its continuation lines like configparser, then expand a nested block like
    # raw_config_parse.
    first = sec.values[key]
    assert isinstance(first, str)
    joined = "\n".join([first, *parts]).rstrip()
    if joined.startswith("\n"):
        sec.values[key] = _parse_nested(joined, path, [sec.key_lines[key], *cont])
    else:
        sec.values[key] = joined


def _parse_nested(value: str, path: Path, lines: list[int]) -> dict[str, str]:
    # botocore's configloader._parse_nested: split on the first `=` only, keys kept as written.
    parsed: dict[str, str] = {}
    nonblank = iter(lines[1:])
    for part in value.split("\n"):
        part = part.strip()
        if not part:
            continue
        lineno = next(nonblank, lines[0])
        if "=" not in part:
            raise FileFormatError(
                path, lineno, "line in an indented block has no `=`",
                hint="Inside an indented block (e.g. `s3 =`) every line must be `key = value`.",
            )
        key, val = part.split("=", 1)
        parsed[key.strip()] = val.strip()
    return parsed
