"""The credential server: ECS container protocol on loopback, proven with boto3 and the AWS CLI on moto."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from stsdash.broker.runner import serving
from stsdash.broker.server import PATH, CredentialServer, host_is_loopback, user_agent_product
from stsdash.creds import Credentials
from stsdash.engine import RefreshEngine
from stsdash.settings import Settings
from tests.broker_world import write_world

_NO_PROXY = {"http": None, "https": None}
FAKE = Credentials("ASIAFAKEEXAMPLE", "FAKE-SECRET-EXAMPLE", "FAKE-TOKEN-EXAMPLE",
                   datetime(2030, 1, 1, tzinfo=UTC))


class FakeServed:
    """Stands in for ServedCredentials where only the HTTP side is under test."""

    profile = "dev"
    expiration = FAKE.expiration
    refreshes = 1
    last_error = None

    def __init__(self) -> None:
        self.gets = 0

    def get(self) -> Credentials:
        self.gets += 1
        return FAKE

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def fake_server():
    served = FakeServed()
    with CredentialServer(served) as server:  # type: ignore[arg-type]
        yield server, served


def get(server: CredentialServer, *, token: str | None, host: str | None = None, path: str = PATH,
        method: str = "GET") -> requests.Response:
    headers = {"Host": host or f"127.0.0.1:{server.port}"}
    if token is not None:
        headers["Authorization"] = token
    return requests.request(method, f"http://127.0.0.1:{server.port}{path}", headers=headers,
                            timeout=5, proxies=_NO_PROXY)


def test_answers_the_container_protocol_with_the_token(fake_server):
    server, _ = fake_server
    reply = get(server, token=server.token)
    assert reply.status_code == 200
    assert reply.json() == {
        "AccessKeyId": FAKE.access_key_id,
        "SecretAccessKey": FAKE.secret_access_key,
        "Token": FAKE.session_token,
        "Expiration": "2030-01-01T00:00:00Z",
    }
    assert reply.headers["Cache-Control"] == "no-store"


def test_listens_on_loopback_only_with_a_long_random_token(fake_server):
    server, _ = fake_server
    assert server.url.startswith("http://127.0.0.1:")
    assert len(server.token) >= 40
    other = CredentialServer(FakeServed())  # type: ignore[arg-type]
    try:
        assert other.token != server.token and other.port != server.port
    finally:
        other.stop()


@pytest.mark.parametrize("token", [None, "", "wrong", "Bearer x"])
def test_refuses_without_the_right_token(fake_server, token):
    server, served = fake_server
    reply = get(server, token=token)
    assert reply.status_code == 401
    assert "AccessKeyId" not in reply.text and served.gets == 0


def test_a_prefix_of_the_token_is_not_enough(fake_server):
    server, _ = fake_server
    assert get(server, token=server.token[:-1]).status_code == 401
    assert get(server, token=server.token + "x").status_code == 401


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example",
                                  "localhost.evil.example:9", "10.0.0.1", "127.0.0.1:x"])
def test_refuses_a_host_header_that_is_not_loopback(fake_server, host):
    server, served = fake_server
    reply = get(server, token=server.token, host=host)
    assert reply.status_code == 403
    assert served.gets == 0


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:1234", "127.0.0.1", "[::1]:80", "[::1]"])
def test_loopback_names(host):
    assert host_is_loopback(host)


def test_other_paths_and_methods_are_refused(fake_server):
    server, served = fake_server
    assert get(server, token=server.token, path="/other").status_code == 404
    assert get(server, token=server.token, method="POST").status_code == 405
    assert served.gets == 0


def test_logs_name_callers_but_no_secret(fake_server, caplog):
    server, _ = fake_server
    with caplog.at_level(logging.DEBUG):
        get(server, token=server.token)
        get(server, token="wrong")
        get(server, token=server.token, host="evil.example")
    text = caplog.text
    for secret in (server.token, FAKE.secret_access_key, FAKE.session_token, FAKE.access_key_id):
        assert secret not in text
    assert "served dev to" in text
    agents = {c.agent: c for c in server.snapshot()}
    assert sum(c.requests for c in agents.values()) == 1
    assert sum(c.refused for c in agents.values()) == 2


def test_user_agent_product_is_clean():
    assert user_agent_product("Boto3/1.43.0 md/Botocore#1.43.0 ua/2.1") == "Boto3/1.43.0"
    assert user_agent_product("\x1b[31mred") == "[31mred"
    assert user_agent_product(None) == "unknown client"


# -- end to end: moto behind the STS proxy -----------------------------------------------------------


@pytest.fixture
def world(aws_home, sts_proxy, moto_auth, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    aws_home.env["AWS_ENDPOINT_URL_STS"] = sts_proxy.url
    write_world(aws_home, sts_proxy, moto_auth.seed)
    return aws_home


def _wait_until(condition, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_boto3_container_provider_refreshes_across_an_expiry(world, sts_proxy, moto_auth, monkeypatch):
    import boto3
    import botocore.credentials

    # AssumeRole answers say "expires in 6 s"; botocore refreshes 2 s / 1 s ahead (not 15 / 10 min).
    sts_proxy.expire_in["AssumeRole"] = 6
    monkeypatch.setattr(botocore.credentials.RefreshableCredentials, "_advisory_refresh_timeout", 2)
    monkeypatch.setattr(botocore.credentials.RefreshableCredentials, "_mandatory_refresh_timeout", 1)
    engine = RefreshEngine(settings=Settings())
    with serving("plain", first=None, command="test", engine=engine, use_dialog=False) as server:
        for key, value in server.environment().items():
            monkeypatch.setenv(key, value)
        session = boto3.Session(region_name="us-east-1")
        assert session.get_credentials().method == "container-role"
        sts = session.client("sts", endpoint_url=moto_auth.url)
        first_arn = sts.get_caller_identity()["Arn"]
        first = session.get_credentials().get_frozen_credentials()
        expiry = session.get_credentials()._expiry_time  # botocore keeps no public accessor
        _wait_until(lambda: datetime.now(UTC) > expiry)  # the first credentials are now expired
        second_arn = sts.get_caller_identity()["Arn"]
        second = session.get_credentials().get_frozen_credentials()
    assert ":assumed-role/dev/" in first_arn and ":assumed-role/dev/" in second_arn
    assert second.access_key != first.access_key
    assert sts_proxy.calls["AssumeRole"] >= 2
    assert sts_proxy.calls["GetSessionToken"] == 0


def test_a_hundred_concurrent_requests_cost_one_sts_call(world, sts_proxy):
    from concurrent.futures import ThreadPoolExecutor

    engine = RefreshEngine(settings=Settings())
    with (
        serving("plain", first=None, command="test", engine=engine, use_dialog=False) as server,
        ThreadPoolExecutor(max_workers=20) as pool,
    ):
        replies = list(pool.map(lambda _: get(server, token=server.token), range(100)))
    assert {r.status_code for r in replies} == {200}
    assert len({r.json()["AccessKeyId"] for r in replies}) == 1
    assert sts_proxy.calls["AssumeRole"] == 1


def _start_serve(world, *args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stsdash", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=world.subprocess_env(PYTHONPATH=os.getcwd()), start_new_session=True,
    )
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("# serving"):
            break
        key, _, value = line.removeprefix("export ").strip().partition("=")
        env[key] = value.strip("'")
    else:
        proc.wait(timeout=10)
        raise AssertionError(f"serve failed: {proc.stderr.read() if proc.stderr else ''}")
    return proc, env


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    _out, err = proc.communicate(timeout=10)
    return err


def test_aws_cli_reads_credentials_from_serve(world, moto_auth, sts_proxy):
    proc, env = _start_serve(world, "role0", "--code", "123456")
    try:
        assert set(env) == {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"}
        result = subprocess.run(
            ["aws", "sts", "get-caller-identity", "--endpoint-url", moto_auth.url, "--output", "json"],
            env=world.subprocess_env(**env, AWS_DEFAULT_REGION="us-east-1"),
            capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        err = _stop(proc)
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/dev/" in json.loads(result.stdout)["Arn"]
    assert sts_proxy.token_calls["GetSessionToken"] == 1
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] not in err
    assert "served role0 to " in err


def test_serve_writes_a_status_file_for_the_dashboard(world):
    from stsdash.broker.status import read_servers

    proc, env = _start_serve(world, "plain")
    try:
        requests.get(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], timeout=5, proxies=_NO_PROXY,
                     headers={"Authorization": env["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
                              "User-Agent": "Boto3/1.0 test"})
        _wait_until(lambda: any(s.clients for s in read_servers()))
        (status,) = read_servers()
        assert status.profile == "plain" and status.pid == proc.pid
        assert [c.agent for c in status.clients] == ["Boto3/1.0"]
        files = (Path(os.environ["XDG_RUNTIME_DIR"]) / "stsdash" / "servers").glob("*.json")
        raw = "".join(path.read_text() for path in files)
        assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] not in raw
    finally:
        _stop(proc)
    assert read_servers() == []


def test_serve_without_a_way_to_ask_for_a_code_says_how(world):
    result = subprocess.run(
        [sys.executable, "-m", "stsdash", "serve", "role1"],
        env=world.subprocess_env(PYTHONPATH=os.getcwd()), capture_output=True, text=True, timeout=60,
        start_new_session=True, check=False,
    )
    assert result.returncode == 1
    assert "no terminal, no running dashboard and no desktop dialog" in result.stderr
    assert "stsdash refresh role1" in result.stderr
