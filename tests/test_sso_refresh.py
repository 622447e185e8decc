"""Refresh-ahead of SSO tokens: refreshed in the CLI's format, then botocore works from the same cache."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import botocore.session
import pytest

from stsdash.awsfiles.ssocache import read_token, token_filename
from stsdash.errors import SsoLoginRequired
from stsdash.timeutil import utcnow
from tests.support.ssoserver import SESSION, sso_manager, sso_session


def _short_lived_login(aws_home, server, ttl: int = 300, *, legacy: bool = False):
    """Log in with a token that is already inside the 15-minute refresh window."""
    server.config.auto_approve = True
    server.config.access_token_ttl = max(1, ttl)  # a server never hands out an expired token
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home, legacy=legacy)
    token = manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    if ttl < 1:  # an already expired token: make it so in the cache, as time would
        path = manager.token_path(session)
        data = json.loads(path.read_text())
        data["expiresAt"] = (datetime.now(UTC) + timedelta(seconds=ttl)).strftime("%Y-%m-%dT%H:%M:%SZ")
        path.write_text(json.dumps(data))
        token = manager.token(session)
    server.config.access_token_ttl = 8 * 3600  # what the refresh will hand out
    return manager, session, token


def test_near_expiry_token_refreshed_then_botocore_uses_it(aws_home, sso_env):
    _, server = sso_env
    aws_home.write_config(
        aws_home.config.read_text()
        + f"\n[profile dev]\nsso_session = {SESSION}\n"
        + "sso_account_id = 100000000002\nsso_role_name = ReadOnlyAccess\n"
    )
    manager, session, old = _short_lived_login(aws_home, server)
    path = aws_home.sso_cache / token_filename(SESSION)
    fresh = manager.ensure_token(session)
    assert fresh.access_token != old.access_token
    assert fresh.expires_at - utcnow() > timedelta(hours=7)
    assert server.counts["refresh"] == 1
    data = json.loads(path.read_text())
    assert data["accessToken"] == fresh.access_token and data["expiresAt"].endswith("Z")
    assert data["refreshToken"] != old.refresh_token  # rotated token stored
    assert data["clientId"] == old.client_id and data["registrationExpiresAt"]
    # botocore's SSO provider, reading the same cache and AWS_ENDPOINT_URL_SSO, needs no refresh of its own.
    creds = botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
    assert creds.access_key.startswith("ASIAFAKE")
    assert server.counts["refresh"] == 1
    assert manager.ensure_token(session).access_token == fresh.access_token  # fresh: no second refresh
    assert server.counts["refresh"] == 1
    assert manager.role_credentials(session, "100000000002", "ReadOnlyAccess").credentials.session_token


def test_failed_refresh_keeps_old_token_and_says_so(aws_home, sso_env):
    _, server = sso_env
    manager, session, old = _short_lived_login(aws_home, server)
    path = aws_home.sso_cache / token_filename(SESSION)
    before = path.read_bytes()
    server.refresh_tokens.clear()  # the refresh token stops working; the access token still does
    token = manager.ensure_token(session)
    assert token.access_token == old.access_token
    assert path.read_bytes() == before
    assert server.counts["refresh_failed"] == 1
    warning = manager.warnings[SESSION]
    assert "refresh failed" in warning and "invalid_grant" in warning and "still using" in warning
    assert old.access_token not in warning and (old.refresh_token or "x") not in warning


def test_expired_token_with_failed_refresh_requires_login(aws_home, sso_env):
    _, server = sso_env
    manager, session, _ = _short_lived_login(aws_home, server, ttl=-10)
    server.revoke_all()
    with pytest.raises(SsoLoginRequired) as err:
        manager.ensure_token(session)
    message = str(err.value)
    assert f"sso login {SESSION}" in message and "could not be refreshed" in message


def test_expired_registration_is_not_used_for_refresh(aws_home, sso_env):
    _, server = sso_env
    manager, session, old = _short_lived_login(aws_home, server)
    path = aws_home.sso_cache / token_filename(SESSION)
    data = json.loads(path.read_text())
    data["registrationExpiresAt"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(data))
    assert manager.ensure_token(session).access_token == old.access_token  # still valid: used as is
    assert server.counts["CreateToken:refresh_token"] == 0


def test_legacy_tokens_never_refresh(aws_home, sso_env):
    _, server = sso_env
    manager, session, old = _short_lived_login(aws_home, server, legacy=True)
    assert manager.ensure_token(session).access_token == old.access_token
    assert server.counts["CreateToken:refresh_token"] == 0


def test_no_token_means_login_required(aws_home, sso_env):
    _, server = sso_env
    with pytest.raises(SsoLoginRequired, match=f"not logged in.*stsdash sso login {SESSION}"):
        sso_manager(aws_home).ensure_token(sso_session(server, aws_home))


def test_concurrent_callers_refresh_once(aws_home, sso_env):
    _, server = sso_env
    _, session, _ = _short_lived_login(aws_home, server)
    managers = [sso_manager(aws_home) for _ in range(8)]  # separate managers share only the lock files
    barrier = threading.Barrier(len(managers))
    results: list[str] = []

    def call(manager):
        barrier.wait()
        results.append(manager.ensure_token(session).access_token)

    threads = [threading.Thread(target=call, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 8 and len(set(results)) == 1
    assert server.counts["CreateToken:refresh_token"] == 1
    assert read_token(aws_home.sso_cache / token_filename(SESSION)).access_token == results[0]
