"""The dashboard's callers view (`C`): running servers, their clients and pending prompts, live."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from stsdash.broker.ipc import PendingPrompt
from stsdash.broker.runner import serving
from stsdash.broker.status import ClientStatus, ServerStatus
from stsdash.engine import RefreshEngine
from stsdash.settings import Settings
from stsdash.timeutil import utcnow
from stsdash.ui.app import StsdashApp
from stsdash.ui.screens.callers import CallersScreen, caller_rows
from tests.broker_world import write_world

_NO_PROXY = {"http": None, "https": None}


async def until(pilot, condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        await pilot.pause(0.05)


def table_text(screen: CallersScreen) -> str:
    from textual.widgets import DataTable

    table = screen.query_one(DataTable)
    return "\n".join(
        " | ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)
    )


async def test_callers_view_lists_a_server_and_its_clients(aws_home, sts_proxy, moto_auth, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    write_world(aws_home, sts_proxy, moto_auth.seed)
    app = StsdashApp(engine=RefreshEngine(settings=Settings()), watch_files=False, broker=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.loaded.wait()
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, CallersScreen), what="the callers view")
        screen = app.screen
        assert isinstance(screen, CallersScreen)
        assert "Nobody is being served" in str(screen.query_one("#callers-empty").render())
        stop = threading.Event()
        started = threading.Event()

        def serve() -> None:
            engine = RefreshEngine(settings=Settings())
            with serving("plain", first=None, command="serve", engine=engine, use_dialog=False) as server:
                requests.get(server.url, headers={"Authorization": server.token, "User-Agent": "Boto3/9.9 x"},
                             timeout=10, proxies=_NO_PROXY)
                started.set()
                stop.wait(30)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            await until(pilot, lambda: "Boto3/9.9" in table_text(screen), what="the client row")
            text = table_text(screen)
            assert "server pid" in text and "plain" in text and "1 request," in text
        finally:
            stop.set()
            thread.join(timeout=10)
        await until(pilot, lambda: "server pid" not in table_text(screen), what="the server to go")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CallersScreen), what="the view to close")


def test_caller_rows_put_prompts_first_and_escape_control_bytes():
    now = time.time()
    server = ServerStatus(pid=42, profile="dev", url="http://127.0.0.1:1/credentials", command="serve",
                          expires_at=utcnow(), refreshes=1, error=None,
                          clients=(ClientStatus("aws-cli/2\x1b[31m", 3, 1, now),))
    prompt = PendingPrompt(pid=7, caller="credential-process dev (pid 7)", serial="arn:mfa/alice",
                           profiles=("dev", "prod"), since=now)
    login = PendingPrompt(pid=8, caller="serve sso0", serial="corp", profiles=("sso0",), since=now,
                          kind="SSO login")
    rows = caller_rows([server], [prompt, login])
    assert rows[0][0] == "MFA prompt" and "arn:mfa/alice" in rows[0][3] and rows[0][1] == "dev, prod"
    assert rows[1][0] == "SSO login" and "a login to corp" in rows[1][3]
    assert rows[2][0] == "server pid 42"
    assert rows[3][2] == "aws-cli/2?[31m" and "3 requests, 1 refused" in rows[3][3]
