"""Prompts that find the user: the dashboard's prompt socket, desktop dialogs, one code per device."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from stsdash.broker.ipc import DashboardUnavailable, PromptSocket, ask_dashboard
from stsdash.broker.paths import socket_path
from stsdash.engine import MfaRequest, RefreshEngine
from stsdash.settings import Settings
from stsdash.ui.app import StsdashApp
from stsdash.ui.screens.mfa import MfaScreen
from tests.broker_world import MFA_ROLES, SERIAL, write_world

REQUEST = MfaRequest(serial=SERIAL, profiles=["role0"], reason="test")


@pytest.fixture
def world(aws_home, sts_proxy, moto_auth, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    aws_home.env["AWS_ENDPOINT_URL_STS"] = sts_proxy.url
    write_world(aws_home, sts_proxy, moto_auth.seed)
    return aws_home


def credential_process(world, profile: str, **env: str) -> subprocess.Popen:
    """`stsdash credential-process PROFILE` the way botocore runs it: pipes, no terminal (new session)."""
    return subprocess.Popen(
        [sys.executable, "-m", "stsdash", "credential-process", profile],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env=world.subprocess_env(PYTHONPATH=os.getcwd(), **env),
    )


async def until(pilot, condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        await pilot.pause(0.05)


def dashboard() -> StsdashApp:
    return StsdashApp(engine=RefreshEngine(settings=Settings()), watch_files=False, broker=True)


async def test_ten_callers_without_a_terminal_get_one_prompt_in_the_dashboard(world, sts_proxy, moto_auth):
    app = dashboard()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.loaded.wait()
        assert app.broker_link is not None
        await until(pilot, lambda: app.broker_link.listening, what="the prompt socket")
        procs = [credential_process(world, name) for name in MFA_ROLES]
        await until(pilot, lambda: isinstance(app.screen, MfaScreen), what="the MFA modal")
        modal = app.screen
        assert isinstance(modal, MfaScreen)
        assert modal.request.serial == SERIAL
        assert "asked by credential-process role" in modal.request.reason
        await until(pilot, lambda: len(app.broker_link.prompts) == 1, what="the pending prompt")
        await pilot.press(*"123456", "enter")
        prompts_after: list[object] = []

        def all_done() -> bool:
            if isinstance(app.screen, MfaScreen) and app.screen is not modal:
                prompts_after.append(app.screen)
            return all(p.poll() is not None for p in procs)

        await until(pilot, all_done, timeout=120, what="ten credential processes")
    outputs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, [err for _out, err in outputs]
    assert prompts_after == []
    payloads = [json.loads(out) for out, _err in outputs]
    assert all(p["Version"] == 1 and p["SessionToken"] and p["Expiration"].endswith("Z") for p in payloads)
    assert sts_proxy.token_calls["GetSessionToken"] == 1  # ONE code, for all ten
    assert sts_proxy.calls["GetSessionToken"] == 1
    assert sts_proxy.calls["AssumeRole"] == 10
    assert ":assumed-role/dev/" in _caller_arn(payloads[-1], moto_auth.url)


def _caller_arn(payload: dict, endpoint: str) -> str:
    import boto3

    client = boto3.client(
        "sts", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=payload["AccessKeyId"], aws_secret_access_key=payload["SecretAccessKey"],
        aws_session_token=payload["SessionToken"],
    )
    return client.get_caller_identity()["Arn"]


def test_a_desktop_dialog_asks_when_no_dashboard_runs(world, sts_proxy, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    asked = tmp_path / "asked"
    zenity = bin_dir / "zenity"
    zenity.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {asked}\necho 234567\n")
    zenity.chmod(0o755)
    proc = credential_process(world, "role3", DISPLAY=":99", PATH=f"{bin_dir}:{os.environ['PATH']}")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["Version"] == 1
    assert sts_proxy.token_calls["GetSessionToken"] == 1
    text = asked.read_text()
    assert "--hide-text" in text and SERIAL in text and "credential-process role3" in text


def test_without_terminal_dashboard_or_dialog_the_error_says_how_to_refresh(world, sts_proxy):
    proc = credential_process(world, "role2", DISPLAY="")
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "no terminal, no running dashboard and no desktop dialog" in err
    assert "`stsdash refresh role2`" in err and "Open the dashboard" in err
    assert sts_proxy.calls["GetSessionToken"] == 0


def test_the_prompt_socket_is_private(aws_home):
    sock = PromptSocket(lambda request, prompt: "345678")
    assert sock.start()
    try:
        mode = stat.S_IMODE(os.stat(sock.path).st_mode)
        assert mode == 0o600
        assert stat.S_IMODE(os.stat(sock.path.parent).st_mode) == 0o700
        assert ask_dashboard(REQUEST, caller="test") == "345678"
    finally:
        sock.stop()
    assert not socket_path().exists()


def test_another_users_connection_is_refused(aws_home, monkeypatch):
    asked: list[MfaRequest] = []
    sock = PromptSocket(lambda request, prompt: asked.append(request) or "345678")
    assert sock.start()
    try:
        real_uid = os.getuid()
        monkeypatch.setattr("stsdash.broker.ipc.os.getuid", lambda: real_uid + 1)
        with pytest.raises(DashboardUnavailable):
            ask_dashboard(REQUEST, caller="test")
    finally:
        sock.stop()
    assert asked == []


def test_a_second_dashboard_leaves_the_socket_to_the_first(aws_home):
    first = PromptSocket(lambda request, prompt: "111111")
    second = PromptSocket(lambda request, prompt: "222222")
    assert first.start()
    try:
        assert not second.start()
        assert ask_dashboard(REQUEST, caller="test") == "111111"
    finally:
        first.stop()


def test_a_stale_socket_is_replaced(aws_home):
    path = socket_path()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: a dashboard that crashed
    with pytest.raises(DashboardUnavailable):
        ask_dashboard(REQUEST, caller="test")
    sock = PromptSocket(lambda request, prompt: None)
    assert sock.start()
    try:
        assert ask_dashboard(REQUEST, caller="test") is None  # cancelled
    finally:
        sock.stop()


def test_garbage_on_the_socket_does_not_reach_the_prompt(aws_home):
    asked: list[MfaRequest] = []
    sock = PromptSocket(lambda request, prompt: asked.append(request) or "345678")
    assert sock.start()
    try:
        for payload in (b"not json\n", b'{"op": "shell"}\n', b'{"op": "code", "profiles": "x"}\n'):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(str(sock.path))
                client.sendall(payload)
                assert client.recv(100) == b""
    finally:
        sock.stop()
    assert asked == []
