"""The SSO token cache as botocore and the CLI read and write it, and stsdash's copy of both directions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from datetime import UTC, datetime, timedelta

import botocore.session
import pytest
from botocore.tokens import SSOTokenProvider
from botocore.utils import JSONFileCache, SSOTokenLoader

from stsdash.awsfiles.ssocache import (
    Registration,
    SsoToken,
    read_registration,
    read_token,
    registration_filename,
    token_filename,
    write_registration,
    write_token,
)
from tests.support.ssoserver import SESSION, sso_manager, sso_session

ACCOUNT = "100000000001"
ROLE = "ReadOnlyAccess"


def _profile_config(server) -> str:
    return (
        f"[profile dev]\nsso_session = {SESSION}\nsso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\n\n"
        f"[sso-session {SESSION}]\nsso_start_url = {server.start_url}\nsso_region = us-east-1\n"
    )


def _login(aws_home, server) -> SsoToken:
    server.config.auto_approve = True
    manager = sso_manager(aws_home)
    return manager.login(
        sso_session(server, aws_home), flow="device", on_prompt=lambda p: None, open_browser=False
    )


def test_token_filename_known_answers():
    assert token_filename("corp") == "ee0bfd2552fbd840c02cc48b6e823320543c450f.json"
    url = "https://d-abc.awsapps.com/start"
    assert token_filename(url) == hashlib.sha1(url.encode()).hexdigest() + ".json"
    assert token_filename(url + "/") != token_filename(url)  # exactly as configured, no normalising


def test_botocore_written_token_read_by_stsdash(aws_home):
    """A token saved the way SSOTokenProvider saves a refreshed one (datetime -> `…Z`)."""
    from botocore.tokens import _sso_json_dumps

    cache = JSONFileCache(str(aws_home.sso_cache), dumps_func=_sso_json_dumps)
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    SSOTokenLoader(cache).save_token(
        "https://d-abc.awsapps.com/start",
        {
            "startUrl": "https://d-abc.awsapps.com/start",
            "region": "eu-west-1",
            "accessToken": "TESTACCESSTOKEN",
            "expiresAt": expires,
            "clientId": "client-TEST",
            "clientSecret": "FAKESECRET",
            "registrationExpiresAt": "2030-03-01T00:00:00Z",
            "refreshToken": "TESTREFRESH",
        },
        session_name="corp",
    )
    raw = json.loads((aws_home.sso_cache / token_filename("corp")).read_text())
    assert raw["expiresAt"] == "2030-01-02T03:04:05Z"
    token = read_token(aws_home.sso_cache / token_filename("corp"))
    assert token is not None
    assert token.access_token == "TESTACCESSTOKEN" and token.expires_at == expires
    assert token.region == "eu-west-1" and token.client_id == "client-TEST"
    assert token.refresh_token == "TESTREFRESH"
    assert token.registration_expires_at == datetime(2030, 3, 1, tzinfo=UTC)
    assert "TESTACCESSTOKEN" not in repr(token) and "FAKESECRET" not in repr(token)


def test_old_cli_utc_suffix_and_non_tokens(aws_home):
    path = aws_home.sso_cache / "old.json"
    path.write_text(json.dumps({"accessToken": "TESTOLD", "expiresAt": "2030-01-01T00:00:00UTC"}))
    assert read_token(path).expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    path.write_text(
        json.dumps({"clientId": "x", "clientSecret": "FAKE", "expiresAt": "2030-01-01T00:00:00Z"})
    )
    assert read_token(path) is None  # a registration file is not a token


def test_written_format_is_the_clis(aws_home):
    path = aws_home.sso_cache / token_filename("corp")
    token = SsoToken(
        access_token="TESTACCESS",
        expires_at=datetime(2030, 1, 1, 8, 0, 0, 123456, tzinfo=UTC),
        start_url="https://d-abc.awsapps.com/start",
        region="us-east-1",
        client_id="client-TEST",
        client_secret="FAKESECRET",
        registration_expires_at=datetime(2030, 3, 1, tzinfo=UTC),
        refresh_token="TESTREFRESH",
        raw={"accessToken": "old", "someFutureKey": 1},
    )
    write_token(path, token)
    data = json.loads(path.read_text())
    assert list(data) == [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
        "someFutureKey",
    ]
    assert data["expiresAt"] == "2030-01-01T08:00:00Z"
    assert data["registrationExpiresAt"] == "2030-03-01T00:00:00Z"
    assert data["accessToken"] == "TESTACCESS"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p for p in aws_home.sso_cache.iterdir() if p.name.endswith(".tmp")]
    assert read_token(path) == dataclasses.replace(token, expires_at=token.expires_at.replace(microsecond=0))


def test_stsdash_token_read_by_botocore_token_provider(aws_home, sso_env):
    _, server = sso_env
    aws_home.write_config(_profile_config(server))
    token = _login(aws_home, server)
    session = botocore.session.Session(profile="dev")
    frozen = SSOTokenProvider(session).load_token().get_frozen_token()
    assert frozen.token == token.access_token
    assert server.counts["refresh"] == 0  # fresh: botocore used it as written


def test_stsdash_token_used_by_botocore_sso_provider(aws_home, sso_env):
    _, server = sso_env
    aws_home.write_config(_profile_config(server))
    _login(aws_home, server)
    creds = botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
    assert creds.access_key.startswith("ASIAFAKE") and creds.token
    assert server.counts["GetRoleCredentials"] == 1


def test_legacy_profile_token_keyed_by_start_url(aws_home, sso_env):
    _, server = sso_env
    aws_home.write_config(
        f"[profile old]\nsso_start_url = {server.start_url}\nsso_region = us-east-1\n"
        f"sso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\n"
    )
    server.config.auto_approve = True
    manager = sso_manager(aws_home)
    token = manager.login(
        sso_session(server, aws_home, legacy=True), flow="pkce", on_prompt=lambda p: None, open_browser=False
    )
    data = json.loads((aws_home.sso_cache / token_filename(server.start_url)).read_text())
    assert set(data) == {"startUrl", "region", "accessToken", "expiresAt"}  # legacy tokens never refresh
    assert (
        server.counts["CreateToken:urn:ietf:params:oauth:grant-type:device_code"] >= 1
    )  # legacy: device flow
    creds = botocore.session.Session(profile="old").get_credentials().get_frozen_credentials()
    assert creds.access_key.startswith("ASIAFAKE")
    assert token.refresh_token is None


def test_registration_filename_matches_cli_formula():
    def cli(start_url, region, scopes, session_name):
        args = {
            "tool": "botocore",
            "startUrl": start_url,
            "region": region,
            "scopes": scopes,
            "session_name": session_name,
        }
        return hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest() + ".json"

    url = "https://d-abc.awsapps.com/start"
    assert registration_filename(url, "us-east-1", None, "corp") == cli(url, "us-east-1", None, "corp")
    assert registration_filename(url, "us-east-1", [], "corp") == cli(url, "us-east-1", None, "corp")
    scopes = ["sso:account:access", "codewhisperer:completions"]
    assert registration_filename(url, "eu-west-1", scopes, None) == cli(url, "eu-west-1", scopes, None)
    assert registration_filename(url, "us-east-1", None, "corp") != registration_filename(
        url, "us-east-1", None, None
    )


def test_registration_roundtrip_and_garbage(aws_home):
    path = aws_home.sso_cache / "reg.json"
    reg = Registration(
        client_id="client-TEST",
        client_secret="FAKESECRET",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        scopes=["sso:account:access"],
        grant_types=["authorization_code", "refresh_token"],
    )
    write_registration(path, reg)
    data = json.loads(path.read_text())
    assert data == {
        "clientId": "client-TEST",
        "clientSecret": "FAKESECRET",
        "expiresAt": "2030-01-01T00:00:00Z",
        "scopes": ["sso:account:access"],
        "grantTypes": ["authorization_code", "refresh_token"],
    }
    assert read_registration(path) == reg and reg.supports_pkce
    assert "FAKESECRET" not in repr(reg)
    path.write_text("{not json")
    assert read_registration(path) is None


@pytest.mark.parametrize("flow", ["device", "pkce"])
def test_login_caches_registration_under_cli_name(aws_home, sso_env, flow):
    _, server = sso_env
    server.config.auto_approve = True
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home)
    if flow == "pkce":
        import threading

        import requests

        def browser(prompt):
            threading.Thread(
                target=requests.get, args=(prompt.verification_uri,), kwargs={"timeout": 5}
            ).start()
    else:

        def browser(prompt):
            return None

    manager.login(session, flow=flow, on_prompt=browser, open_browser=False)
    path = aws_home.sso_cache / registration_filename(server.start_url, "us-east-1", None, SESSION)
    data = json.loads(path.read_text())
    assert set(data) >= {"clientId", "clientSecret", "expiresAt"}
    assert ("grantTypes" in data) == (flow == "pkce")
    reg_expiry = datetime.fromisoformat(data["expiresAt"].replace("Z", "+00:00"))
    assert reg_expiry > datetime.now(UTC) + timedelta(days=30)
    token = json.loads((aws_home.sso_cache / token_filename(SESSION)).read_text())
    assert token["clientId"] == data["clientId"] and token["registrationExpiresAt"] == data["expiresAt"]
