"""`stsdash prompt [PROFILE]`: a short status for a shell prompt, e.g. `dev 42m 10s` or `dev !expired`.

It runs on every prompt, so it must cost about as much as starting Python: `stsdash.cli` calls
`run_fast` before argparse or any other stsdash module is imported, and this module imports only
os, sys and stsdash.timeutil (re, datetime). The AWS files are read with a minimal line reader instead
of the full profile model; it only needs section names and three or four keys.

Which credentials: the PROFILE argument, else AWS_PROFILE, else AWS_DEFAULT_PROFILE. With no profile
but keys in the environment (inside `stsdash exec`, or after `eval "$(stsdash env …)"`), the status
is that of AWS_CREDENTIAL_EXPIRATION, labelled with STSDASH_EXEC_PROFILE. Nothing at all is printed
when there is nothing to show, so an empty prompt segment stays empty.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from datetime import datetime

EXPIRY_KEYS = ("aws_credential_expiration", "x_security_token_expires", "expiration")
# A profile with one of these gets its keys elsewhere; its own credentials section is not its target.
_NOT_OWN_TARGET = ("role_arn", "sso_account_id", "sso_role_name", "sso_session", "web_identity_token_file",
                   "credential_process")
DEFAULT_TEMPLATE = "{profile}-session"
USAGE = "usage: stsdash prompt [PROFILE]\n"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prompt",
        help="print a short credentials status for a shell prompt",
        description="Print the profile (default: $AWS_PROFILE), its countdown and a mark when expired, "
        "e.g. `dev 42m 10s` or `dev !expired`. Fast enough for every prompt.",
    )
    parser.add_argument("profile", nargs="?", metavar="PROFILE")
    parser.set_defaults(handler=lambda args: run_fast([args.profile] if args.profile else []))


def run_fast(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Print the status line; 0 always except for a usage error (a prompt must not fail loudly)."""
    environ = os.environ if env is None else env
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        sys.stderr.write(USAGE)
        return 2
    line = status_line(argv[0] if argv else None, environ)
    if line:
        sys.stdout.write(line + "\n")
    return 0


def status_line(profile: str | None, env: Mapping[str, str]) -> str:
    from stsdash.timeutil import utcnow

    name = profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE")
    if not name:
        if env.get("AWS_ACCESS_KEY_ID"):
            label = env.get("STSDASH_EXEC_PROFILE") or "env"
            return f"{_printable(label)} {_countdown(_parse(env.get('AWS_CREDENTIAL_EXPIRATION')), utcnow())}"
        return ""
    return f"{_printable(name)} {_countdown(_expiry_of(name, env), utcnow())}"


def _countdown(expires: datetime | None, now: datetime) -> str:
    if expires is None:
        return "?"
    seconds = int((expires - now).total_seconds())
    if seconds <= 0:
        return "!expired"
    hours, rem = divmod(seconds, 3600)
    return f"{hours}h{rem // 60:02d}m" if hours else f"{rem // 60}m{rem % 60:02d}s"


def _expiry_of(name: str, env: Mapping[str, str]) -> datetime | None:
    home = env.get("HOME") or os.path.expanduser("~")
    config = _read_ini(_path(env.get("AWS_CONFIG_FILE"), home, "config"))
    creds = _read_ini(_path(env.get("AWS_SHARED_CREDENTIALS_FILE"), home, "credentials"))
    section = config.get("default" if name == "default" else f"profile {name}") or {}
    if name == "default" and not section:
        section = config.get("profile default") or {}
    own = creds.get(name)
    if own is not None and not any(key in section for key in _NOT_OWN_TARGET):
        found = _section_expiry(own)
        if found is not None or "aws_session_token" in own:
            return found
    target = _settings_target(name, env) or DEFAULT_TEMPLATE.replace("{profile}", name)
    return _section_expiry(creds.get(target) or {})


def _section_expiry(values: Mapping[str, str]) -> datetime | None:
    for key in EXPIRY_KEYS:
        if values.get(key):
            return _parse(values[key])
    return None


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    from stsdash.timeutil import parse_timestamp

    try:
        return parse_timestamp(text)[0]
    except (ValueError, OverflowError, OSError):
        return None


def _path(value: str | None, home: str, leaf: str) -> str:
    if value:
        return os.path.expandvars(os.path.expanduser(value))
    return os.path.join(home, ".aws", leaf)


def _read_ini(path: str) -> dict[str, dict[str, str]]:
    """Section → {key: value}, botocore's basic rules; anything odd is skipped (a prompt never fails)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return {}
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
        elif current is not None and "=" in line and raw[:1] not in " \t":
            key, _, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    return sections


def _settings_target(name: str, env: Mapping[str, str]) -> str | None:
    """The target from stsdash's config.toml (per-profile `target`, else `target_template`), if any."""
    path = env.get("STSDASH_CONFIG")
    if not path:  # platformdirs' user config dir, without importing it
        home = env.get("HOME") or "~"
        if sys.platform == "darwin":
            base = os.path.join(home, "Library", "Application Support")
        else:
            base = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        path = os.path.join(base, "stsdash", "config.toml")
    try:
        with open(os.path.expanduser(path), "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    import tomllib  # only when there is a settings file

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = (doc.get("profiles") or {}).get(name) or {}
    if isinstance(table, dict) and isinstance(table.get("target"), str):
        return table["target"]
    template = doc.get("target_template")
    if isinstance(template, str) and "{profile}" in template:
        return template.replace("{profile}", name)
    return None


def _printable(text: str) -> str:
    """A prompt is re-drawn by the shell: no control byte from a profile name may reach it."""
    return "".join(c if c.isprintable() else "?" for c in text)[:64]
