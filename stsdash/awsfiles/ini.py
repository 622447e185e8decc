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
import stat
from dataclasses import dataclass, field
from pathlib import Path

from stsdash.errors import FileFormatError

DEFAULT_SECTION = "DEFAULT"

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
    # Raw values: a list of physical-line parts per option, joined at the end like configparser.
    raw: dict[str, dict[str, list[str]]] = {}
    cont_lines: dict[tuple[str, str], list[int]] = {}  # continuation lines, for error messages
    defaults: IniSection | None = None
    cur_name: str | None = None
    cur_raw: dict[str, list[str]] | None = None
    optname: str | None = None
    indent_level = 0

    for lineno, line in enumerate(lines, start=1):
        value = line.strip()
        if not value:
            # A blank line inside a value is part of it (empty_lines_in_values=True).
            if cur_raw is not None and optname:
                cur_raw[optname].append("")
            continue
        first = value[0]
        if first == "#" or first == ";":
            continue  # full-line comment (indentation allowed); never part of a value
        cur_indent = len(line) - len(line.lstrip()) if line[0].isspace() else 0
        if cur_indent > indent_level and optname and cur_raw is not None:
            cur_raw[optname].append(value)
            cont_lines.setdefault((cur_name, optname), []).append(lineno)  # type: ignore[arg-type]
            continue
        indent_level = cur_indent
        # SECTCRE is `\[(?P<header>.+)\]` with match(): the header runs to the LAST `]` on the line.
        close = value.rfind("]") if first == "[" else -1
        if close >= 2:
            name = value[1:close]
            optname = None
            if name == DEFAULT_SECTION:
                if defaults is None:
                    defaults = IniSection(name=name, line=lineno)
                    raw[name] = {}
                cur_name, cur_raw = name, raw[name]
                continue
            if name in sections:
                raise FileFormatError(
                    path, lineno,
                    f"duplicate section [{name}] (first defined on line {sections[name].line})",
                    hint=_FIX_HINT,
                )
            sections[name] = IniSection(name=name, line=lineno)
            cur_name, cur_raw = name, {}
            raw[name] = cur_raw
            continue
        if cur_raw is None:
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
        section = defaults if cur_name == DEFAULT_SECTION else sections[cur_name]  # type: ignore[index]
        assert section is not None
        if optname in cur_raw:
            raise FileFormatError(
                path, lineno,
                f"duplicate key {optname!r} in [{cur_name}] (first set on line {section.key_lines[optname]})",
                hint=_FIX_HINT,
            )
        cur_raw[optname] = [value[sep + 1 :].lstrip()]
        section.key_lines[optname] = lineno

    if defaults is not None:
        _finish(defaults, raw[DEFAULT_SECTION], cont_lines, path)
    for name, sec in sections.items():
        _finish(sec, raw[name], cont_lines, path)
        if defaults is not None:
            # RawConfigParser.options() lists the section's keys, then inherited ones; the section wins.
            for key, val in defaults.values.items():
                if key not in sec.values:
                    sec.values[key] = val
                    sec.key_lines[key] = defaults.key_lines[key]
    return IniFile(path=path, sections=sections, defaults=defaults)


def _finish(
    sec: IniSection, opts: dict[str, list[str]], cont_lines: dict[tuple[str, str], list[int]], path: Path
) -> None:
    # Join values like configparser, then expand nested blocks like raw_config_parse.
    values = sec.values
    for key, parts in opts.items():
        if len(parts) == 1:
            values[key] = parts[0]
            continue
        joined = "\n".join(parts).rstrip()
        if joined.startswith("\n"):
            lines_of = [sec.key_lines[key], *cont_lines.get((sec.name, key), [])]
            values[key] = _parse_nested(joined, path, lines_of)
        else:
            values[key] = joined


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
