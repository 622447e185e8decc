"""The rules for what stsdash writes into AWS files, in one place.

The profiles model (which target a profile may use, what `list` reports) and every writer (the
credentials writer, the config block of `sso sync`) import these, so what `list` calls writable is what
the writers accept, and no value from a server, a program or a template reaches a file unchecked.

Every value and name written goes through `value_problem` / `section_name_problem`. They refuse anything
that could end a line for some reader: Python's `str.splitlines` also breaks at \\v, \\f, \\x1c-\\x1e,
\\x85, U+2028 and U+2029, other INI readers at some of those, so all of them are refused, together with
every other control or format character (`str.isprintable`), leading or trailing whitespace (the parser
strips it: what is read back would differ), and over-long text.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from stsdash.errors import WriteRefused

MANAGED_MARKER = "x_stsdash_managed"  # key in every credentials section stsdash owns; botocore ignores it
DEFAULT_SECTION = "DEFAULT"  # configparser merges this section into every other one

ACCESS_KEY = "aws_access_key_id"
SECRET_KEY = "aws_secret_access_key"
SESSION_TOKEN = "aws_session_token"
SECURITY_TOKEN = "aws_security_token"  # legacy alias; botocore prefers it over aws_session_token
EXPIRATION = "aws_credential_expiration"

MAX_NAME_LENGTH = 512
MAX_VALUE_LENGTH = 16384  # STS session tokens are a few KB at most

# Everything str.splitlines() breaks at; configparser itself only breaks at \r and \n.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: keys, secrets, tokens, timestamps
_KEY = re.compile(r"[A-Za-z0-9_.-]+")
# What a value must look like, for the keys whose shape is known. Others only pass the general rules.
VALUE_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    ACCESS_KEY: (_TOKEN, "is not printable ASCII without spaces"),
    SECRET_KEY: (_TOKEN, "is not printable ASCII without spaces"),
    SESSION_TOKEN: (_TOKEN, "is not printable ASCII without spaces"),
    SECURITY_TOKEN: (_TOKEN, "is not printable ASCII without spaces"),
    EXPIRATION: (_TOKEN, "is not printable ASCII without spaces"),
    MANAGED_MARKER: (re.compile("true"), "is not `true`"),
    "sso_account_id": (re.compile(r"[0-9]{12}"), "is not a 12-digit AWS account id"),
    "sso_role_name": (re.compile(r"[\w+=,.@-]{1,64}", re.ASCII), "is not a valid IAM role name"),
    "region": (re.compile(r"[a-z0-9-]{1,64}"), "is not a region name"),
}


def is_managed(values: Mapping[str, object]) -> bool:
    """True when a credentials section carries stsdash's marker (`x_stsdash_managed = true`)."""
    marker = values.get(MANAGED_MARKER)
    return isinstance(marker, str) and marker.strip().lower() == "true"


def session_token_of(values: Mapping[str, object]) -> str | None:
    """The session token botocore would use: aws_security_token wins when both are set."""
    for key in (SECURITY_TOKEN, SESSION_TOKEN):
        if key in values:
            value = values[key]
            return value if isinstance(value, str) else None
    return None


def is_long_term_key_id(key_id: str) -> bool:
    """IAM users' access key ids start with AKIA; temporary ones with ASIA."""
    return key_id.startswith("AKIA")


def holds_long_term_keys(values: Mapping[str, object]) -> bool:
    """A section with an AKIA key id, or a key id without a session token: never overwritten."""
    key_id = values.get(ACCESS_KEY)
    if not isinstance(key_id, str) or not key_id:
        return False
    return is_long_term_key_id(key_id) or not session_token_of(values)


# Keys that botocore's parser copies from a credentials file's [DEFAULT] into every section, where they
# make botocore ignore the keys stsdash writes (another provider wins: assume role, web identity, SSO)
# or override the written session token (the legacy alias wins over aws_session_token).
DEFAULT_SHADOWING_KEYS = (
    "role_arn", "web_identity_token_file", "sso_account_id", "sso_role_name", SECURITY_TOKEN,
)


def defaults_problem(defaults: Mapping[str, object]) -> tuple[str, str] | None:
    """(key, why) when a credentials file's [DEFAULT] section spoils every section written, else None."""
    for key in DEFAULT_SHADOWING_KEYS:
        if key in defaults:
            effect = (
                "overrides the written session token" if key == SECURITY_TOKEN
                else "makes botocore ignore the keys written"
            )
            why = f"its [DEFAULT] section sets {key}, which botocore copies into every section and {effect}"
            return key, why
    return None


def escaped(text: str) -> str:
    """`text` with every non-printable character spelled out, safe to put into a message."""
    return text.encode("unicode_escape").decode("ascii")


def _text_problem(text: str, limit: int) -> str | None:
    if not text:
        return "is empty"
    if len(text) > limit:
        return f"is longer than {limit} characters"
    if not text.isprintable():  # every line break and NUL is non-printable: the fast check first
        if any(ch in LINE_BREAKS for ch in text):
            return "contains a line break"
        if "\x00" in text:
            return "contains a NUL byte"
        return "contains a non-printable character"
    if text != text.strip():
        return "starts or ends with whitespace"
    return None


def section_name_problem(name: str) -> str | None:
    """Why `[name]` could not be written as a header that parses back as exactly `name`, or None."""
    if not name:
        return "the section name is empty"
    problem = _text_problem(name, MAX_NAME_LENGTH)
    if problem in ("contains a line break", "contains a NUL byte", "contains a non-printable character"):
        return "the section name contains a line break or control character"
    if "[" in name or "]" in name:
        return "the section name contains `[` or `]`"
    if problem:
        return f"the section name {problem}"
    if name == DEFAULT_SECTION:
        return "[DEFAULT] is special to botocore's parser (its keys apply to every section)"
    return None


def profile_name_problem(name: str) -> str | None:
    """Why `[profile name]` in a config file would not name profile `name` for botocore, or None.

    botocore splits such a header with shlex and wants exactly two words.
    """
    problem = section_name_problem(name)
    if problem:
        return problem.replace("section name", "profile name")
    try:
        words = shlex.split(name)
    except ValueError:
        words = []
    if words != [name]:
        return "the profile name has spaces or quotes, which botocore reads differently"
    return None


def value_problem(key: str, value: str | None) -> str | None:
    """Why `key = value` could not be written as one line that botocore reads back exactly, or None."""
    if not _KEY.fullmatch(key or ""):
        return f"the key {escaped(key or '')!r} is not a plain name"
    if not isinstance(value, str):
        return f"the value for {key} is empty"
    problem = _text_problem(value, MAX_VALUE_LENGTH)
    if problem is None and key in VALUE_SHAPES:
        pattern, why = VALUE_SHAPES[key]
        if not pattern.fullmatch(value):
            problem = "contains whitespace" if any(ch.isspace() for ch in value) else why
    return f"the value for {key} {problem}" if problem else None


def check_values(path: Path | str, section: str, values: Mapping[str, str], *, hint: str) -> None:
    """Raise WriteRefused for the first unsafe section name, key or value. Never echoes a value."""
    problem = section_name_problem(section)
    shown = escaped(section)
    if problem:
        raise WriteRefused(path, shown, problem, hint="Choose another section name.")
    for key, value in values.items():
        problem = value_problem(key, value)
        if problem:
            raise WriteRefused(path, shown, problem, hint=hint)
