"""`stsdash console`: federation sign-in against a local federation endpoint that checks the Session
JSON it receives, with role sessions from moto, GetFederationToken through moto for IAM users, and SSO
role credentials. The URL is a credential: it must appear only where asked for (--print, the browser).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from stsdash.console import (
    ConsoleCredentials,
    console_credentials,
    destination,
    federation_endpoint,
    login_url,
    signin_token,
)
from stsdash.creds import Credentials
from stsdash.errors import ProviderError, UsageError
from tests.support.awsenv import resolved_credentials
from tests.test_engine import write_profiles

SIGNIN_TOKEN = "FAKE-SIGNIN-TOKEN-EXAMPLE-0123456789"


@dataclass
class Federation:
    url: str = ""
    sessions: list[dict] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    refuse: bool = False

    def answer(self, method: str, body: bytes) -> tuple[int, bytes]:
        if method != "POST":
            return 405, b"POST only in this fake"
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        self.forms.append(form)
        if form.get("Action") != "getSigninToken" or self.refuse:
            return 400, b"Bad Request"
        session = json.loads(form["Session"])
        if set(session) != {"sessionId", "sessionKey", "sessionToken"} or not all(session.values()):
            return 400, b"Session must hold sessionId, sessionKey and sessionToken"
        if "SessionDuration" in form and not 900 <= int(form["SessionDuration"]) <= 43200:
            return 400, b"SessionDuration out of range"
        self.sessions.append(session)
        return 200, json.dumps({"SigninToken": SIGNIN_TOKEN}).encode()


@pytest.fixture
def federation() -> Iterator[Federation]:
    fed = Federation()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, reply = fed.answer(self.command, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_POST = do_GET = _reply

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fed.url = f"http://127.0.0.1:{server.server_address[1]}/federation"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield fed
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def world(aws_home, sts_proxy, moto_auth, monkeypatch, federation):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    seed = write_profiles(aws_home, sts_proxy, moto_auth.seed)
    aws_home.settings.parent.mkdir(parents=True, exist_ok=True)
    aws_home.settings.write_text(f'signin_endpoint = "{federation.url}"\n')
    return seed


def stsdash(aws_home, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"], **extra)
    return subprocess.run([sys.executable, "-m", "stsdash", *args], env=env, capture_output=True, text=True,
                          timeout=120, start_new_session=True, stdin=subprocess.DEVNULL)


def parse_login(url: str, federation: Federation) -> dict[str, str]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == federation.url
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["Action"] == "login" and query["SigninToken"] == SIGNIN_TOKEN
    return query


def test_role_profile_signs_in_with_its_role_session(world, aws_home, federation) -> None:
    run = stsdash(aws_home, "console", "plain", "--print", "--service", "s3")
    assert run.returncode == 0, run.stderr
    query = parse_login(run.stdout.strip(), federation)
    assert query["Destination"] == "https://console.aws.amazon.com/s3/home?region=us-east-1"
    frozen = resolved_credentials("plain-session")  # refreshed first, as everywhere
    assert federation.sessions == [
        {"sessionId": frozen.access_key, "sessionKey": frozen.secret_key, "sessionToken": frozen.token}
    ]
    assert "SessionDuration" not in federation.forms[0]
    assert SIGNIN_TOKEN not in run.stderr


def test_duration_is_sent_for_role_sessions_and_checked(world, aws_home, federation) -> None:
    run = stsdash(aws_home, "console", "plain", "--print", "--duration", "7200", "--region", "eu-west-1")
    assert run.returncode == 0, run.stderr
    assert federation.forms[-1]["SessionDuration"] == "7200"
    landing = parse_login(run.stdout.strip(), federation)["Destination"]
    assert landing.endswith("/console/home?region=eu-west-1")
    bad = stsdash(aws_home, "console", "plain", "--print", "--duration", "60")
    assert bad.returncode == 2 and "900" in bad.stderr


def test_iam_user_signs_in_through_get_federation_token(world, aws_home, federation, sts_proxy) -> None:
    run = stsdash(aws_home, "console", "bob", "--print")
    assert run.returncode == 0, run.stderr
    parse_login(run.stdout.strip(), federation)
    sent = sts_proxy.params_of("GetFederationToken")
    assert len(sent) == 1 and '"Action":"*"' in sent[0]["Policy"]
    assert "SessionDuration" not in federation.forms[-1]  # it would fail for federated-user keys
    session = federation.sessions[-1]
    assert session["sessionId"] != world.access_key_id  # never the long-term key itself
    # an MFA user goes the same way (its long-term keys, no code needed for GetFederationToken)
    assert stsdash(aws_home, "console", "alice", "--print").returncode == 0
    assert len(sts_proxy.params_of("GetFederationToken")) == 2


def test_the_browser_gets_the_url_and_nothing_else_shows_it(world, aws_home, federation, tmp_path) -> None:
    seen = tmp_path / "browser-argv"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {seen}\n')
    browser.chmod(0o755)
    run = stsdash(aws_home, "console", "plain", BROWSER=str(browser))
    assert run.returncode == 0, run.stderr
    parse_login(seen.read_text(), federation)
    assert SIGNIN_TOKEN not in run.stdout + run.stderr
    assert "console opened" in run.stderr


def test_a_refusal_names_the_endpoint_and_no_secret(world, aws_home, federation) -> None:
    federation.refuse = True
    run = stsdash(aws_home, "console", "plain", "--print")
    assert run.returncode == 1
    assert "getSigninToken failed: HTTP 400" in run.stderr and federation.url in run.stderr
    frozen = resolved_credentials("plain-session")
    assert frozen.secret_key not in run.stderr and frozen.token not in run.stderr
    assert run.stdout == ""


class FakeSso:
    def __init__(self) -> None:
        from stsdash.timeutil import utcnow

        self.creds = Credentials("ASIAFAKESSOEXAMPLE", "FAKE-sso-secret", "FAKE-sso-token",
                                 utcnow() + timedelta(hours=1))

    def role_credentials(self, session, account_id: str, role_name: str):
        from stsdash.providers.base import ProviderResult

        return ProviderResult(self.creds, None)


def test_sso_profile_signs_in_with_its_role_credentials(aws_home, federation) -> None:
    from stsdash.engine import RefreshEngine

    aws_home.write_config(
        "[profile corp]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
        "region = us-west-2\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\n"
    )
    sso = FakeSso()
    engine = RefreshEngine(sso=sso)
    console = console_credentials(engine, "corp")
    assert console.credentials == sso.creds and not console.federated
    assert signin_token(federation.url, console) == SIGNIN_TOKEN
    assert federation.sessions[-1]["sessionId"] == "ASIAFAKESSOEXAMPLE"


@pytest.mark.parametrize(
    ("partition", "endpoint", "home"),
    [
        ("aws", "https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com/"),
        ("aws-us-gov", "https://signin.amazonaws-us-gov.com/federation", "https://console.amazonaws-us-gov.com/"),
        ("aws-cn", "https://signin.amazonaws.cn/federation", "https://console.amazonaws.cn/"),
    ],
)
def test_partition_hosts(partition, endpoint, home) -> None:
    assert federation_endpoint(None, partition) == endpoint
    assert destination(partition, None, None) == f"{home}console/home"


def test_endpoint_and_service_checks() -> None:
    with pytest.raises(UsageError, match="no public console"):
        federation_endpoint(None, "aws-iso")
    with pytest.raises(UsageError, match="only on loopback"):
        federation_endpoint("http://example.com/federation", "aws")
    with pytest.raises(UsageError, match="not a URL"):
        federation_endpoint("https://x/federation?Action=login", "aws")
    with pytest.raises(UsageError, match="service"):
        destination("aws", None, "s3/../../evil")
    url = login_url("https://signin.aws.amazon.com/federation", "T&K", "https://console.aws.amazon.com/")
    assert parse_qs(urlsplit(url).query)["SigninToken"] == ["T&K"]


def test_unreachable_endpoint_error_has_no_credentials() -> None:
    creds = Credentials("ASIAFAKEEXAMPLE", "FAKE-SECRET-EXAMPLE", "FAKE-TOKEN-EXAMPLE")
    with pytest.raises(ProviderError) as caught:
        signin_token("http://127.0.0.1:9/federation", ConsoleCredentials(creds, False, "role session"),
                     timeout=2)
    assert "FAKE-SECRET" not in str(caught.value) and "FAKE-TOKEN" not in str(caught.value)
