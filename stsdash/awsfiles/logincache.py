"""The AWS CLI's `aws login` cache, read the way botocore reads it (nothing here writes it).

Where the format comes from: botocore's `credentials.LoginProvider` / `LoginCredentialFetcher` and
`utils.LoginTokenLoader`, `utils.generate_login_cache_key`, `utils.get_login_token_cache_directory`
(botocore 1.43.67 source, github.com/boto/botocore, botocore/credentials.py and botocore/utils.py):

- directory: `$AWS_LOGIN_CACHE_DIRECTORY` (expandvars, expanduser), else `~/.aws/login/cache`
  (see awsfiles.paths);
- file: `sha256(<the profile's login_session value>).hexdigest() + ".json"` (a JSONFileCache key);
- content: `{"accessToken": {"accessKeyId", "secretAccessKey", "sessionToken", "accountId",
  "expiresAt": "YYYY-MM-DDTHH:MM:SSZ"}, "refreshToken", "dpopKey", "clientId", ...}`. botocore refuses
  a file without `accessToken`, `refreshToken`, `dpopKey` or `clientId`, and returns the cached keys
  whatever their expiry (it refreshes them through AWS Sign-In with the refresh token and DPoP key).

Only the expiry and the account are read here; the secrets are never loaded into an object.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from stsdash.errors import FileFormatError
from stsdash.timeutil import parse_timestamp

REQUIRED_FIELDS = ("accessToken", "refreshToken", "dpopKey", "clientId")
MAX_CACHE_BYTES = 1 << 20  # a real file is a few KB
_HINT = "Log in again with `aws login --profile PROFILE` to replace it."


def login_cache_filename(login_session: str) -> str:
    return hashlib.sha256(login_session.encode("utf-8")).hexdigest() + ".json"


@dataclass(frozen=True)
class LoginSession:
    expires_at: datetime
    account_id: str | None = None


def read_login_session(path: Path) -> LoginSession | None:
    """The cached session's expiry; None when there is no file. A file botocore would refuse raises
    FileFormatError naming it."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_CACHE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileFormatError(path, None, f"cannot read the `aws login` cache: {exc.strerror or exc}",
                              hint=_HINT) from exc
    if len(data) > MAX_CACHE_BYTES:
        raise FileFormatError(path, None, "the `aws login` cache is larger than 1 MB", hint=_HINT)
    try:
        token = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FileFormatError(path, None, "the `aws login` cache is not valid JSON", hint=_HINT) from exc
    if not isinstance(token, dict):
        raise FileFormatError(path, None, "the `aws login` cache is not a JSON object", hint=_HINT)
    missing = [key for key in REQUIRED_FIELDS if key not in token]
    if missing:
        raise FileFormatError(path, None, f"the `aws login` cache lacks {', '.join(missing)}", hint=_HINT)
    access = token["accessToken"]
    expires = access.get("expiresAt") if isinstance(access, dict) else None
    try:
        if not isinstance(expires, str):
            raise ValueError(expires)
        expires_at, _ = parse_timestamp(expires)
    except ValueError as exc:
        raise FileFormatError(path, None, "the `aws login` cache has no readable accessToken.expiresAt",
                              hint=_HINT) from exc
    account = access.get("accountId")
    return LoginSession(expires_at, account if isinstance(account, str) else None)
