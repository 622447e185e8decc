"""The block of `~/.aws/config` that `stsdash sso sync` owns, between clearly marked comment lines.

Only the bytes between `# BEGIN stsdash managed: sso-session NAME` and `# END stsdash managed: sso-session
NAME` are ever replaced; every other byte of the file is kept, so a user's comments, order and line endings
survive any number of syncs. The markers are comments, so botocore and the CLI never see them.
"""

from __future__ import annotations

import configparser
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import filelock

from stsdash.awsfiles import guard, iniedit, rules, snapshot
from stsdash.awsfiles.atomic import atomic_write, resolve_target
from stsdash.errors import FileFormatError, WriteRefused

BEGIN = "# BEGIN stsdash managed: sso-session {name}"
END = "# END stsdash managed: sso-session {name}"

# Lines end where configparser ends them (universal newlines), not where str.splitlines() would: a
# U+2028 inside a user's comment must not make half of that comment look like one of our markers.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_REFUSED_HINT = "Nothing was written. The values came from the SSO portal; ask its administrator."


@dataclass(frozen=True)
class Block:
    start: int  # offset of the BEGIN line
    end: int  # offset just after the END line (and its newline)


def begin_marker(name: str) -> str:
    return BEGIN.format(name=name)


def end_marker(name: str) -> str:
    return END.format(name=name)


def find_block(text: str, name: str, path: Path | str = "config") -> Block | None:
    """The block for sso-session `name`, or None. Unbalanced markers raise FileFormatError."""
    begin, end = begin_marker(name), end_marker(name)
    start = end_offset = None
    offset = 0
    for number, line in enumerate(_LINE.findall(text), start=1):
        stripped = line.strip()
        if stripped == begin:
            if start is not None:
                raise FileFormatError(path, number, f"second '{begin}' before its END line")
            start = offset
        elif stripped == end:
            if start is None or end_offset is not None:
                raise FileFormatError(path, number, f"'{end}' without a matching BEGIN line")
            end_offset = offset + len(line)
        offset += len(line)
    if start is None:
        return None
    if end_offset is None:
        raise FileFormatError(
            path,
            None,
            f"'{begin}' has no END line",
            hint=f"Restore the line '{end}' or delete the whole block, then sync again.",
        )
    return Block(start, end_offset)


def outside_text(text: str, name: str, path: Path | str = "config") -> str:
    """The file without the block: what the user wrote."""
    block = find_block(text, name, path)
    return text if block is None else text[: block.start] + text[block.end :]


def profile_lines(name: str, values: Mapping[str, str], path: Path | str = "config") -> list[str]:
    """`[profile name]` and its `key = value` lines, once the shared rules (awsfiles.rules) pass them.

    Every profile stsdash writes into the config file is made here, so none can carry a line break, a
    control character or a name botocore would read differently.
    """
    problem = rules.profile_name_problem(name)
    if problem:
        raise WriteRefused(path, f"profile {rules.escaped(name)}", problem, hint=_REFUSED_HINT)
    rules.check_values(path, f"profile {name}", values, hint=_REFUSED_HINT)
    return [f"[profile {name}]", *(f"{key} = {value}" for key, value in values.items())]


def _check_block(name: str, body: str, path: Path | str) -> list[str]:
    """The block's lines: `body` split at \\n only, every line printable (nothing else can end a line)."""
    where = f"sso-session {rules.escaped(name)} block"
    problem = rules.section_name_problem(name)
    if problem:
        raise WriteRefused(path, where, problem.replace("section name", "sso-session name"))
    lines = body.rstrip("\n").split("\n") if body.strip() else []
    for number, line in enumerate(lines, start=1):
        if line and not line.isprintable():
            raise WriteRefused(
                path,
                where,
                f"line {number} of the block contains a line break or control character",
                hint=_REFUSED_HINT,
            )
    return lines


def render(text: str, name: str, body: str, path: Path | str = "config") -> str:
    """`text` with the block replaced by one holding `body` (appended when absent). Nothing else changes.

    `body` is lines separated by \\n; a body with any other line break or control character is refused.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    body_lines = _check_block(name, body, path)
    lines = (
        [begin_marker(name), *body_lines, end_marker(name)]
        if body.strip()
        else [
            begin_marker(name),
            end_marker(name),
        ]
    )
    new_block = newline.join(lines) + newline
    block = find_block(text, name)
    if block is not None:
        return text[: block.start] + new_block + text[block.end :]
    if not text:
        return new_block
    prefix = text if text.endswith("\n") else text + newline
    return prefix + newline + new_block


def profile_names(text: str, path: Path | str = "config") -> dict[str, dict[str, str]]:
    """Profiles defined in config text (name -> keys), parsed with botocore's parser rules.

    A file botocore would reject (duplicate section or key) raises FileFormatError: writing to it would
    only add to the damage.
    """
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        raise FileFormatError(path, line, f"cannot parse config: {exc.message}") from exc
    result: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        name = _profile_name(section)
        if name is not None:
            result[name] = dict(parser.items(section))
    return result


def _profile_name(section: str) -> str | None:
    if section == "default":
        return "default"
    if not section.startswith("profile "):
        return None
    try:
        parts = shlex.split(section[len("profile ") :])
    except ValueError:
        return None
    return parts[0] if len(parts) == 1 else None


def lock_path(path: Path) -> Path:
    target = resolve_target(path)
    return target.with_name(target.name + ".stsdash.lock")


def update_block(
    path: Path, name: str, build_body: Callable[[str], str], *, lock_timeout: float = 15.0
) -> tuple[str, str]:
    """Under a file lock, read `path`, let `build_body(outside_text)` make the block, write atomically.

    The builder sees the current file, so profiles added outside the block since a preview are never
    duplicated inside it. Returns (old text, new text); nothing is written when they are equal.
    """
    target = resolve_target(path)
    where = f"sso-session {rules.escaped(name)} block"
    with filelock.FileLock(str(lock_path(path)), timeout=lock_timeout, thread_local=False):
        for _attempt in range(guard.ATTEMPTS):
            raw, st = snapshot.read_raw(Path(path), target)
            guard.check_replaceable(Path(path), where, st)
            if raw.startswith(b"\xef\xbb\xbf"):
                raise FileFormatError(path, 1, "the file starts with a UTF-8 BOM, which botocore rejects")
            try:
                old = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FileFormatError(path, None, f"not valid UTF-8 ({exc.reason})") from exc
            new = render(old, name, build_body(outside_text(old, name, path)), path)
            _verify(old, new, name, path)
            if new == old:
                return old, new
            # Another program (no lock) may have written meanwhile: then read again and rebuild.
            if snapshot.still_is(target, raw, st):
                atomic_write(target, new.encode("utf-8"))
                return old, new
        raise guard.kept_changing(Path(path))


def _verify(old: str, new: str, name: str, path: Path | str) -> None:
    """botocore, reading `new`, must see the user's sections exactly as before plus the block's own.

    A safety net behind the checks on each value: the block may only add or replace its own sections.
    """
    parts = {}
    for label, text in (
        ("before", outside_text(old, name, path)),
        ("after", new),
        ("block", new[slice(*_span(new, name, path))]),
    ):
        try:
            parts[label] = iniedit.own_values(text.encode("utf-8"), Path(path))
        except FileFormatError as exc:
            parts[label] = {"<unparseable>": {"error": exc.reason}}
    before, after, block = parts["before"], parts["after"], parts["block"]
    if set(before) & set(block) or after != before | block or "<unparseable>" in after:
        raise WriteRefused(
            path,
            f"sso-session {rules.escaped(name)} block",
            "the block would change how botocore reads other lines of the file",
            hint="Nothing was written. Check the lines right after the block (indented lines?) and retry.",
        )


def _span(text: str, name: str, path: Path | str) -> tuple[int, int]:
    block = find_block(text, name, path)
    return (0, 0) if block is None else (block.start, block.end)
