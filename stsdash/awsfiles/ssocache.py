"""File names and formats of the AWS CLI's SSO cache (`~/.aws/sso/cache`), exactly as botocore uses them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stsdash.awsfiles.atomic import atomic_write
from stsdash.errors import FileFormatError
from stsdash.timeutil import format_utc, parse_timestamp


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
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            path, None, f"SSO token cache is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x})",
            hint="Log in again (stsdash sso login SESSION) to replace it.",
        ) from exc
    except OSError as exc:
        raise FileFormatError(
            path, None, f"cannot read SSO token cache: {exc.strerror or exc}",
            hint="Check the file's owner and permissions, or log in again (stsdash sso login SESSION).",
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            path, exc.lineno, f"SSO token cache is not valid JSON ({exc.msg})",
            hint="Log in again (stsdash sso login SESSION) to replace it.",
        ) from exc
    except RecursionError:
        raise FileFormatError(
            path, None, "SSO token cache is JSON nested too deeply",
            hint="Log in again (stsdash sso login SESSION) to replace it.",
        ) from None
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


# --- writing tokens -------------------------------------------------------------------------------

# Key order as the CLI writes it, so a diff of the file against one the CLI wrote stays small.
_TOKEN_KEYS = (
    "startUrl", "region", "accessToken", "expiresAt",
    "clientId", "clientSecret", "registrationExpiresAt", "refreshToken",
)


def token_to_json(token: SsoToken) -> dict:
    """The cache JSON for `token`: the CLI's keys, `…Z` timestamps, absent values left out.

    Keys stsdash does not know (from `raw`) are kept, so a rewrite never drops what another tool stored.
    """
    values = {
        "startUrl": token.start_url,
        "region": token.region,
        "accessToken": token.access_token,
        "expiresAt": format_utc(token.expires_at),
        "clientId": token.client_id,
        "clientSecret": token.client_secret,
        "registrationExpiresAt": (
            format_utc(token.registration_expires_at) if token.registration_expires_at else None
        ),
        "refreshToken": token.refresh_token,
    }
    data = {key: values[key] for key in _TOKEN_KEYS if values[key] is not None}
    for key, value in token.raw.items():
        if key not in _TOKEN_KEYS and key not in data:
            data[key] = value
    return data


def write_token(path: Path, token: SsoToken) -> None:
    """Atomically replace the token file (0600). Callers hold the session's lock around read + write."""
    atomic_write(path, json.dumps(token_to_json(token)).encode("utf-8"), mode=0o600)


# --- client registrations ---------------------------------------------------------------------------


def registration_filename(
    start_url: str, region: str, scopes: list[str] | None, session_name: str | None
) -> str:
    """The CLI's registration cache name, so a login by either tool reuses the other's client."""
    args = {
        "tool": "botocore",
        "startUrl": start_url,
        "region": region,
        "scopes": list(scopes) if scopes else None,
        "session_name": session_name,
    }
    return hashlib.sha1(json.dumps(args, sort_keys=True).encode("utf-8")).hexdigest() + ".json"


@dataclass(frozen=True)
class Registration:
    """An SSO-OIDC client registration. The secret never appears in repr."""

    client_id: str
    client_secret: str = field(repr=False)
    expires_at: datetime
    scopes: list[str] | None = None
    grant_types: list[str] | None = None

    @property
    def supports_pkce(self) -> bool:
        return bool(self.grant_types) and "authorization_code" in (self.grant_types or [])


def read_registration(path: Path) -> Registration | None:
    """The registration in `path`; None when it is missing or unusable (the caller registers again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        expires_at, _ = parse_timestamp(str(data["expiresAt"]))
        return Registration(
            client_id=str(data["clientId"]),
            client_secret=str(data["clientSecret"]),
            expires_at=expires_at,
            scopes=data.get("scopes"),
            grant_types=data.get("grantTypes"),
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        return None


def write_registration(path: Path, registration: Registration) -> None:
    """Atomically write a registration in the CLI's format (`grantTypes` only for PKCE clients)."""
    data: dict = {
        "clientId": registration.client_id,
        "clientSecret": registration.client_secret,
        "expiresAt": format_utc(registration.expires_at),
    }
    if registration.scopes:
        data["scopes"] = list(registration.scopes)
    if registration.grant_types:
        data["grantTypes"] = list(registration.grant_types)
    atomic_write(path, json.dumps(data).encode("utf-8"), mode=0o600)
