"""Where source credentials come from without a call: long-term keys (files or keyring), the stored
MFA session of a device, a still-fresh target section written earlier, and the environment."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stsdash.creds import Credentials
from stsdash.errors import StsdashError
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.profiles import Profile, ProfileSet
    from stsdash.secrets import SecretStore

log = logging.getLogger(__name__)

CACHE_MIN_REMAINING = timedelta(minutes=15)  # botocore reuses cached credentials only with > 15 min left


def long_term(secrets: SecretStore, p: Profile) -> Credentials | None:
    """The IAM user keys of `p`: from the files, else from the keyring. None if it has none."""
    kind = str(p.kind)
    if kind in ("sso", "web-identity"):  # botocore prefers these over keys in the same profile
        return None
    static = p.static_credentials
    if static is not None:
        return None if static.is_temporary else static
    if kind in ("assume-role", "credential-process", "saml"):
        return None
    return secrets.get_long_term(p.name)


def stored_session(
    secrets: SecretStore, serial: str, now: datetime, refresh_ahead: timedelta
) -> Credentials | None:
    """A keyring MFA session with more than refresh_ahead left, else None (then a code is needed)."""
    try:
        stored = secrets.get_mfa_session(serial, now)
    except StsdashError as exc:  # no usable keyring: ask for a code instead of failing the refresh
        log.warning("MFA session for %s not read from the keyring: %s", serial, exc.message)
        return None
    if stored is None or stored.expiration is None:
        return None
    return stored if stored.expiration - now > refresh_ahead else None


def cached_target(profiles: ProfileSet, profile: Profile, now: datetime) -> Credentials | None:
    """The temporary keys in `profile`'s target section when more than 15 minutes are left."""
    section = profiles.profiles.get(profile.target or "")
    creds = section.static_credentials if section else None
    expires = profile.expires_at or (creds.expiration if creds else None)
    if creds is None or not creds.is_temporary or expires is None:
        return None
    if expires - now <= CACHE_MIN_REMAINING:
        return None
    return Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token, expires)


def current(secrets: SecretStore, profiles: ProfileSet, profile: Profile) -> Credentials | None:
    """The credentials botocore would use for `profile` right now, without any call."""
    if profile.target and profile.target != profile.name:
        section = profiles.profiles.get(profile.target)
        creds = section.static_credentials if section else None
        expires = profile.expires_at or (creds.expiration if creds else None)
        if creds is not None and (expires is None or expires > utcnow()):
            return creds
    if profile.static_credentials is not None:
        expires = profile.expires_at
        if expires is None or expires > utcnow():
            return profile.static_credentials
        return None
    return long_term(secrets, profile)


def environment(env: Mapping[str, str]) -> Credentials | None:
    """Keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ token), as botocore's env provider."""
    key = env.get("AWS_ACCESS_KEY_ID")
    secret = env.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return None
    token = env.get("AWS_SECURITY_TOKEN") or env.get("AWS_SESSION_TOKEN") or None
    return Credentials(key, secret, token)
