"""botocore's own `sso-oidc` and `sso` clients against the local SSO server: its wire format cannot drift."""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.parse

import boto3
import pytest
import requests
from botocore.config import Config

from stsdash_demo.ssoserver import DEVICE_GRANT, make_accounts

NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture
def clients(aws_home, sso_server):
    oidc = boto3.client("sso-oidc", region_name="us-east-1", endpoint_url=sso_server.url, config=NO_RETRY)
    sso = boto3.client("sso", region_name="us-east-1", endpoint_url=sso_server.url, config=NO_RETRY)
    return oidc, sso


def _register(oidc, **extra):
    return oidc.register_client(clientName="botocore-client-corp", clientType="public", **extra)


def _device_token(oidc, server):
    reg = _register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=server.start_url
    )
    assert server.approve(auth["userCode"]) == 1
    token = oidc.create_token(
        grantType=DEVICE_GRANT,
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        deviceCode=auth["deviceCode"],
    )
    return reg, token


def test_register_client_shape(clients):
    oidc, _ = clients
    reg = _register(oidc, scopes=["sso:account:access"])
    assert reg["clientId"] and reg["clientSecret"]
    assert reg["clientSecretExpiresAt"] > reg["clientIdIssuedAt"] > 1_700_000_000  # epoch seconds


def test_device_flow_pending_then_token(clients, sso_server):
    oidc, _ = clients
    reg = _register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=sso_server.start_url
    )
    assert set(auth) >= {"deviceCode", "userCode", "verificationUri", "verificationUriComplete", "interval"}
    args = dict(
        grantType=DEVICE_GRANT,
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        deviceCode=auth["deviceCode"],
    )
    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as pending:
        oidc.create_token(**args)
    assert pending.value.response["Error"]["Code"] == "AuthorizationPendingException"
    assert pending.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(oidc.exceptions.SlowDownException):  # polled again at once
        oidc.create_token(**args)
    # The browser step: opening the complete verification URL approves the code.
    assert requests.get(auth["verificationUriComplete"], timeout=5).status_code == 200
    time.sleep(sso_server.config.device_interval)
    token = oidc.create_token(**args)
    assert token["tokenType"] == "Bearer" and token["expiresIn"] > 0
    assert token["accessToken"] and token["refreshToken"]
    assert sso_server.logins == 1


def test_device_denied_and_expired(clients, sso_server):
    oidc, _ = clients
    reg = _register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=sso_server.start_url
    )
    sso_server.deny()
    with pytest.raises(oidc.exceptions.AccessDeniedException):
        oidc.create_token(
            grantType=DEVICE_GRANT,
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            deviceCode=auth["deviceCode"],
        )
    sso_server.config.device_code_ttl = 0
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=sso_server.start_url
    )
    with pytest.raises(oidc.exceptions.ExpiredTokenException):
        oidc.create_token(
            grantType=DEVICE_GRANT,
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            deviceCode=auth["deviceCode"],
        )


def test_refresh_rotates_and_rejects_reuse(clients, sso_server):
    oidc, _ = clients
    reg, token = _device_token(oidc, sso_server)
    args = dict(grantType="refresh_token", clientId=reg["clientId"], clientSecret=reg["clientSecret"])
    fresh = oidc.create_token(refreshToken=token["refreshToken"], **args)
    assert fresh["accessToken"] != token["accessToken"]
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(refreshToken=token["refreshToken"], **args)
    sso_server.expire_registrations()
    with pytest.raises(oidc.exceptions.InvalidClientException) as bad:
        oidc.create_token(refreshToken=fresh["refreshToken"], **args)
    assert bad.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def _pkce(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_pkce_authorize_redirect_and_verifier(clients, sso_server):
    oidc, _ = clients
    reg = _register(
        oidc,
        scopes=["sso:account:access"],
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=sso_server.start_url,
    )
    verifier = "v" * 64
    redirect = "http://127.0.0.1:49152/oauth/callback"
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": reg["clientId"],
            "redirect_uri": redirect,
            "state": "s-1",
            "code_challenge_method": "S256",
            "scopes": "sso:account:access",
            "code_challenge": _pkce(verifier),
        },
        quote_via=urllib.parse.quote,
    )
    answer = requests.get(f"{sso_server.url}/authorize?{query}", allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = urllib.parse.urlsplit(answer.headers["Location"])
    params = dict(urllib.parse.parse_qsl(location.query))
    assert location.port == 49152 and params["state"] == "s-1"
    args = dict(
        grantType="authorization_code",
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        code=params["code"],
        redirectUri=redirect,
    )
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(codeVerifier="w" * 64, **args)
    token = oidc.create_token(codeVerifier=verifier, **args)
    assert token["accessToken"]
    with pytest.raises(oidc.exceptions.InvalidGrantException):  # a code works once
        oidc.create_token(codeVerifier=verifier, **args)


def test_pkce_registration_rejects_redirect_with_port(clients):
    oidc, _ = clients
    with pytest.raises(oidc.exceptions.InvalidRedirectUriException):
        _register(
            oidc,
            grantTypes=["authorization_code"],
            redirectUris=["http://127.0.0.1:8080/oauth/callback"],
        )


def test_portal_pagination_credentials_logout(aws_home, sso_server_factory):
    server = sso_server_factory(accounts=make_accounts(250, 3))
    oidc = boto3.client("sso-oidc", region_name="us-east-1", endpoint_url=server.url, config=NO_RETRY)
    sso = boto3.client("sso", region_name="us-east-1", endpoint_url=server.url, config=NO_RETRY)
    _, token = _device_token(oidc, server)
    access = token["accessToken"]
    pages = list(sso.get_paginator("list_accounts").paginate(accessToken=access))
    assert [len(p["accountList"]) for p in pages] == [100, 100, 50]
    accounts = [a for p in pages for a in p["accountList"]]
    assert len({a["accountId"] for a in accounts}) == 250
    assert set(accounts[0]) == {"accountId", "accountName", "emailAddress"}
    small = sso.list_accounts(accessToken=access, maxResults=7)
    assert len(small["accountList"]) == 7 and small["nextToken"]
    roles = sso.list_account_roles(accessToken=access, accountId=accounts[3]["accountId"])
    assert [r["roleName"] for r in roles["roleList"]] == [
        "AdministratorAccess",
        "ReadOnlyAccess",
        "PowerUserAccess",
    ]
    assert roles.get("nextToken") is None
    creds = sso.get_role_credentials(
        accessToken=access, accountId=accounts[3]["accountId"], roleName="ReadOnlyAccess"
    )["roleCredentials"]
    assert "FAKE" in creds["accessKeyId"] and "FAKE" in creds["secretAccessKey"]
    assert creds["expiration"] > time.time() * 1000 + 3_000_000  # epoch milliseconds
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.get_role_credentials(accessToken=access, accountId=accounts[3]["accountId"], roleName="Nope")
    sso.logout(accessToken=access)
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken=access)


def test_portal_rate_limit_answers_429(aws_home, sso_server):
    oidc, sso = (
        boto3.client(s, region_name="us-east-1", endpoint_url=sso_server.url, config=NO_RETRY)
        for s in ("sso-oidc", "sso")
    )
    _, token = _device_token(oidc, sso_server)
    sso_server.set_rate_limit(0.5, burst=3)
    errors = 0
    for _ in range(8):
        try:
            sso.list_accounts(accessToken=token["accessToken"])
        except sso.exceptions.TooManyRequestsException as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            errors += 1
    assert errors >= 3
    assert sso_server.counts["throttled"] >= errors


def test_revoked_token_is_unauthorized(clients, sso_server):
    oidc, sso = clients
    _, token = _device_token(oidc, sso_server)
    sso_server.revoke_all()
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.get_role_credentials(accessToken=token["accessToken"], accountId="100000000000", roleName="x")


def test_role_credentials_minted_by_moto_work_there(aws_home, sso_server_factory, moto_noauth):
    server = sso_server_factory(accounts=make_accounts(2, 1), sts_endpoint=moto_noauth.url, auto_approve=True)
    oidc = boto3.client("sso-oidc", region_name="us-east-1", endpoint_url=server.url, config=NO_RETRY)
    sso = boto3.client("sso", region_name="us-east-1", endpoint_url=server.url, config=NO_RETRY)
    token = _auto_token(oidc, server)
    creds = sso.get_role_credentials(
        accessToken=token["accessToken"], accountId="100000000001", roleName="AdministratorAccess"
    )["roleCredentials"]
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=moto_noauth.url,
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )
    arn = sts.get_caller_identity()["Arn"]
    assert arn.startswith("arn:aws:sts::100000000001:assumed-role/AdministratorAccess/")


def _auto_token(oidc, server):
    reg = _register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=server.start_url
    )
    return oidc.create_token(
        grantType=DEVICE_GRANT,
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        deviceCode=auth["deviceCode"],
    )
