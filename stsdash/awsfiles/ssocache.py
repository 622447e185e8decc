"""File names and formats of the AWS CLI's SSO cache (`~/.aws/sso/cache`), exactly as botocore uses them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stsdash.errors import FileFormatError
from stsdash.timeutil import parse_timestamp


def token_filename(session_name_or_start_url: str) -> str:
    """`sha1(<sso-session name>)` for sso_session profiles, `sha1(<start url as written>)` for legacy ones."""
    return hashlib.sha1(session_name_or_start_url.encode("utf-8")).hexdigest() + ".json"


@dataclass(frozen=True)
class SsoToken:
    """A cached SSO access token. Secret fields never appear in repr."""

    access_token: str = field(repr=False)
    expires_at: datetime
    start_url: str | None = None
    region: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    registration_expires_at: datetime | None = None
    refresh_token: str | None = field(default=None, repr=False)
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def read_token(path: Path) -> SsoToken | None:
    """The token in `path`; None if the file is missing or holds no `accessToken`.

    A file that is not JSON, or whose `expiresAt` cannot be read, raises FileFormatError naming it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, None, f"cannot read SSO token cache: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            path, exc.lineno, f"SSO token cache is not valid JSON ({exc.msg})",
            hint="Log in again (stsdash sso login SESSION) to replace it.",
        ) from exc
    if not isinstance(data, dict) or not data.get("accessToken"):
        return None
    try:
        expires_at, _ = parse_timestamp(str(data["expiresAt"]))
        reg = data.get("registrationExpiresAt")
        registration_expires_at = parse_timestamp(str(reg))[0] if reg else None
    except (KeyError, ValueError) as exc:
        raise FileFormatError(
            path, None, f"SSO token cache has no readable expiresAt ({exc})",
            hint="Log in again (stsdash sso login SESSION) to replace it.",
        ) from exc
    return SsoToken(
        access_token=data["accessToken"],
        expires_at=expires_at,
        start_url=data.get("startUrl"),
        region=data.get("region"),
        client_id=data.get("clientId"),
        client_secret=data.get("clientSecret"),
        registration_expires_at=registration_expires_at,
        refresh_token=data.get("refreshToken"),
        raw=data,
    )
