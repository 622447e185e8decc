"""Where the AWS files live, found the way botocore finds them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

try:
    import pwd
except ImportError:  # Windows: no passwd database; expanduser knows USERPROFILE there
    pwd = None  # type: ignore[assignment]

# posixpath.expandvars: `$NAME` or `${NAME}`; unknown variables are left as written.
_VAR_RE = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)


@dataclass(frozen=True)
class AwsPaths:
    config: Path
    credentials: Path
    sso_cache: Path
    cli_cache: Path
    login_cache: Path  # `aws login` sessions (awsfiles.logincache)


def aws_paths(env: Mapping[str, str] | None = None) -> AwsPaths:
    """The AWS file locations for `env` (default: os.environ).

    botocore runs `os.path.expandvars` then `os.path.expanduser` on AWS_CONFIG_FILE and
    AWS_SHARED_CREDENTIALS_FILE, and on AWS_LOGIN_CACHE_DIRECTORY (the `aws login` cache); the SSO and
    CLI caches are always under `~/.aws`.
    """
    env = os.environ if env is None else env
    config = env.get("AWS_CONFIG_FILE") or "~/.aws/config"
    credentials = env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    home = _home(env)
    return AwsPaths(
        config=Path(_expand(config, env, home)),
        credentials=Path(_expand(credentials, env, home)),
        sso_cache=Path(home, ".aws", "sso", "cache"),
        cli_cache=Path(home, ".aws", "cli", "cache"),
        # botocore tests presence, not emptiness (utils.get_login_token_cache_directory)
        login_cache=Path(_expand(env.get("AWS_LOGIN_CACHE_DIRECTORY", "~/.aws/login/cache"), env, home)),
    )


def _home(env: Mapping[str, str]) -> str:
    if pwd is None:
        # Windows: os.path.expanduser (what botocore calls) reads USERPROFILE, not HOME.
        if env.get("USERPROFILE"):
            return env["USERPROFILE"]
        if env.get("HOMEPATH"):
            return env.get("HOMEDRIVE", "") + env["HOMEPATH"]
        return os.path.expanduser("~")
    home = env.get("HOME")
    if home:
        return home
    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:  # pragma: no cover - a uid with no passwd entry
        return os.path.expanduser("~")


def _expand(value: str, env: Mapping[str, str], home: str) -> str:
    def var(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("{"):
            name = name[1:-1]
        return env.get(name, match.group(0))

    value = _VAR_RE.sub(var, value) if "$" in value else value
    if not value.startswith("~"):
        return value
    head, sep, tail = value[1:].partition("/")
    if not head:
        base = home
    elif pwd is None:
        return os.path.expanduser(value)  # ~user: ntpath guesses a sibling of the current home
    else:
        try:
            base = pwd.getpwnam(head).pw_dir
        except KeyError:
            return value  # like expanduser: an unknown user is left alone
    return base.rstrip("/") + sep + tail if base != "/" else "/" + tail
