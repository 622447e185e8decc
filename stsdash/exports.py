"""Environment exports for a target shell: `stsdash env`, `stsdash exec` and the dashboard's copy.

Every value is quoted so that the shell reads it back byte for byte and runs nothing: a profile named
``x$(cmd)`` or ``'; rm -rf ~`` stays a string. The quoting rule per target:

* ``sh`` (POSIX sh, bash, zsh, ksh): single quotes; a ``'`` becomes ``'\\''``. Nothing is special
  inside single quotes, not even a newline.
* ``fish``: single quotes; inside them fish still reads ``\\\\`` and ``\\'``, so both are escaped.
* ``powershell``: single quotes; a quote is doubled. PowerShell also takes the typographic single
  quotes U+2018..U+201B as quote characters, so those are doubled too.
* ``dotenv``: single quotes with ``\\\\`` and ``\\'`` escaped (python-dotenv's rule). A value ending in a
  backslash, or holding a CR or ``${`` (python-dotenv expands it even in single quotes), cannot be
  read back as written and is refused.
* ``json``: one object of name → value (``null`` for a variable to remove).

NUL cannot be in an environment variable at all, so a value holding one is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stsdash.errors import UsageError

if TYPE_CHECKING:
    from stsdash.creds import Credentials

FORMATS = ("sh", "fish", "powershell", "dotenv", "json")
CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)
# Older SDKs read AWS_SECURITY_TOKEN before AWS_SESSION_TOKEN; a stale one must not survive.
STALE_VARS = ("AWS_SECURITY_TOKEN",)
REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
PROFILE_VARS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")  # botocore reads the second when the first is unset
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PWSH_QUOTES = "'\u2018\u2019\u201a\u201b"


@dataclass(frozen=True)
class Exports:
    """Variables to set (in order) and variables to remove."""

    set: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()

    def apply(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` with these changes made (what a shell has after evaluating the lines)."""
        out = {k: v for k, v in env.items() if k not in self.unset}
        out.update(self.set)
        return out


def credential_exports(creds: Credentials, region: str | None) -> Exports:
    """The credentials themselves, the region in both variables, and AWS_PROFILE removed.

    AWS_PROFILE and AWS_DEFAULT_PROFILE go so that nothing downstream mixes a profile with these keys; a
    variable with no value here (no session token, no expiry) is removed rather than left over from an
    earlier export.
    """
    from stsdash.timeutil import format_utc

    values: dict[str, str] = {
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
    }
    if creds.session_token:
        values["AWS_SESSION_TOKEN"] = creds.session_token
    if creds.expiration is not None:
        values["AWS_CREDENTIAL_EXPIRATION"] = format_utc(creds.expiration)
    values.update(_region_values(region))
    unset = [n for n in CREDENTIAL_VARS if n not in values]
    return Exports(values, (*PROFILE_VARS, *unset, *STALE_VARS))


def profile_exports(profile_name: str, region: str | None) -> Exports:
    """AWS_PROFILE (and the region) instead of keys; key variables that would win over it are removed."""
    values = {"AWS_PROFILE": profile_name, **_region_values(region)}
    return Exports(values, (*CREDENTIAL_VARS, *STALE_VARS, "AWS_DEFAULT_PROFILE"))


def _region_values(region: str | None) -> dict[str, str]:
    return {name: region for name in REGION_VARS} if region else {}


def render(exports: Exports, fmt: str) -> str:
    """The text to evaluate in `fmt`'s shell (or to load, for dotenv/json); ends with a newline."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}", hint=f"Use one of: {', '.join(FORMATS)}.")
    for name, value in exports.set.items():
        _check(name, value)
        if fmt == "dotenv" and (value.endswith("\\") or "\r" in value or "${" in value):
            # python-dotenv reads `\\'` at the end of a single-quoted value as an escaped quote and
            # runs on into the next line, reads files with universal newlines (CR becomes LF) and
            # expands ${VAR} even in single quotes; no quoting avoids these, so refuse rather than
            # export something else. Credentials and regions never contain any of them.
            raise UsageError(f"{name}: a value with a carriage return, '${{' or a final backslash "
                             "cannot be written as dotenv", hint="Use --format sh or json for this value.")
    for name in exports.unset:
        _check(name, "")
    if fmt == "json":
        doc: dict[str, str | None] = dict(exports.set)
        doc.update({name: None for name in exports.unset if name not in exports.set})
        return json.dumps(doc, indent=2) + "\n"
    gone = [name for name in exports.unset if name not in exports.set]
    lines = _unset_lines(gone, fmt) if gone else []
    lines += [_set_line(name, value, fmt) for name, value in exports.set.items()]
    return "".join(line + "\n" for line in lines)


def _check(name: str, value: str) -> None:
    if not _NAME.fullmatch(name):
        raise UsageError(f"{name!r} is not a valid environment variable name")
    if "\0" in value:
        raise UsageError(f"{name}: the value contains a NUL byte, which no environment can hold")


def _set_line(name: str, value: str, fmt: str) -> str:
    if fmt == "sh":
        return f"export {name}={quote_sh(value)}"
    if fmt == "fish":
        return f"set -gx {name} {quote_fish(value)}"
    if fmt == "powershell":
        return f"$env:{name} = {quote_powershell(value)}"
    return f"{name}={quote_dotenv(value)}"


def _unset_lines(names: list[str], fmt: str) -> list[str]:
    if fmt == "sh":
        return ["unset " + " ".join(names)]
    if fmt == "fish":
        return [f"set -e {name}" for name in names]
    if fmt == "powershell":
        paths = ", ".join(f"Env:{name}" for name in names)
        return [f"Remove-Item -Path {paths} -ErrorAction SilentlyContinue"]
    return []  # a dotenv file can only set


def quote_sh(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_powershell(value: str) -> str:
    return "'" + "".join(c + c if c in _PWSH_QUOTES else c for c in value) + "'"


def quote_dotenv(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def masked(exports: Exports) -> Exports:
    """The same exports with secrets hidden and the key id cut to its last four, for the screen."""
    values = {}
    for name, value in exports.set.items():
        if name in SECRET_VARS:
            value = "****"
        elif name == "AWS_ACCESS_KEY_ID":
            value = "…" + value[-4:]
        values[name] = value
    return Exports(values, exports.unset)
