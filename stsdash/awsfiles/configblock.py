"""The block of `~/.aws/config` that `stsdash sso sync` owns, between clearly marked comment lines.

Only the bytes between `# BEGIN stsdash managed: sso-session NAME` and `# END stsdash managed: sso-session
NAME` are ever replaced; every other byte of the file is kept, so a user's comments, order and line endings
survive any number of syncs. The markers are comments, so botocore and the CLI never see them.
"""

from __future__ import annotations

import configparser
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import filelock

from stsdash.awsfiles.atomic import atomic_write, resolve_target
from stsdash.errors import FileFormatError

BEGIN = "# BEGIN stsdash managed: sso-session {name}"
END = "# END stsdash managed: sso-session {name}"


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
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
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


def block_text(text: str, name: str, path: Path | str = "config") -> str:
    block = find_block(text, name, path)
    return "" if block is None else text[block.start : block.end]


def render(text: str, name: str, body: str) -> str:
    """`text` with the block replaced by one holding `body` (appended when absent). Nothing else changes."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = (
        [begin_marker(name), *body.rstrip("\n").splitlines(), end_marker(name)]
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
    with filelock.FileLock(str(lock_path(path)), timeout=lock_timeout, thread_local=False):
        try:
            raw = resolve_target(path).read_bytes()
        except FileNotFoundError:
            raw = b""
        if raw.startswith(b"\xef\xbb\xbf"):
            raise FileFormatError(path, 1, "the file starts with a UTF-8 BOM, which botocore rejects")
        try:
            old = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileFormatError(path, None, f"not valid UTF-8 ({exc.reason})") from exc
        new = render(old, name, build_body(outside_text(old, name, path)))
        if new != old:
            atomic_write(path, new.encode("utf-8"))
        return old, new
