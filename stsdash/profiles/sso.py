"""SSO session discovery: the [sso-session] sections and legacy start URLs, with their cached tokens."""

from __future__ import annotations

from datetime import datetime

from stsdash.awsfiles.ssocache import read_token, token_filename
from stsdash.errors import FileFormatError
from stsdash.profiles.classify import str_value
from stsdash.profiles.files import ProfileFiles
from stsdash.profiles.model import Kind, Profile, SsoSession


def discover_sso_sessions(
    files: ProfileFiles, profiles: dict[str, Profile], now: datetime
) -> dict[str, SsoSession]:
    """Every [sso-session] plus one session per legacy start URL, each with the profiles that use it."""
    sso_cache = files.paths.sso_cache
    sessions: dict[str, SsoSession] = {}
    for name, values in files.sso_sessions.items():
        scopes = str_value(values, "sso_registration_scopes") or ""
        s = SsoSession(
            name=name,
            legacy=False,
            start_url=str_value(values, "sso_start_url"),
            region=str_value(values, "sso_region"),
            scopes=[x.strip() for x in scopes.split(",") if x.strip()],
            cache_file=sso_cache / token_filename(name),
            line=files.lines.get(("sso-session", name)),
        )
        missing = [k for k in ("sso_start_url", "sso_region") if k not in values]
        if missing:
            s.problem = f"[sso-session {name}] is missing {', '.join(missing)}"
        sessions[name] = s
    for p in profiles.values():
        if p.kind is not Kind.SSO:
            continue
        if p.sso_session is not None:
            if p.sso_session in sessions:
                sessions[p.sso_session].profiles.append(p.name)
            continue
        url = p.sso_start_url
        if not url:
            continue
        legacy = sessions.get(url)
        if legacy is None:
            legacy = sessions[url] = SsoSession(
                name=url, legacy=True, start_url=url, region=p.sso_region,
                cache_file=sso_cache / token_filename(url),
            )
        elif not legacy.legacy:
            continue  # a session named like a URL: keep both apart
        legacy.profiles.append(p.name)
    for s in sessions.values():
        _read_token(s, now)
    return sessions


def _read_token(s: SsoSession, now: datetime) -> None:
    try:
        token = read_token(s.cache_file)
    except FileFormatError as exc:
        if s.problem is None:
            # The exception's own hint says the same with a placeholder: name the session once.
            s.problem = f"{exc.message}; log in again (stsdash sso login {s.name}) to replace it"
        return
    if token is None:
        return
    s.token_expires_at = token.expires_at
    s.token_refreshable = bool(
        not s.legacy
        and token.refresh_token
        and token.client_id
        and token.client_secret
        and token.registration_expires_at is not None
        and token.registration_expires_at > now
    )
