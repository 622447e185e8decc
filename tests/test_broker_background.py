"""`stsdash exec PROFILE -- CMD &` in a shell with job control: a background job must not prompt on the
terminal (reading it would stop the job); its MFA prompt goes to the dashboard instead."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import termios
import time
from collections.abc import Callable

from stsdash.engine import RefreshEngine
from stsdash.settings import Settings
from stsdash.ui.app import StsdashApp
from stsdash.ui.screens.mfa import MfaScreen
from tests.broker_world import write_world

PRINT_KEY = "import os; print(os.environ['AWS_ACCESS_KEY_ID'][:4])"


async def until(pilot, condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        await pilot.pause(0.05)


def in_a_terminal_as_a_background_job(argv: list[str], env: dict[str, str], out: str) -> subprocess.Popen:
    """`sh` with job control on a new pseudo-terminal runs `argv > out &` and waits for it."""
    primary, secondary = os.openpty()

    def take_terminal() -> None:  # in the child, after setsid: the pty becomes its controlling terminal
        fcntl.ioctl(secondary, termios.TIOCSCTTY, 0)

    script = 'set -m; "$@" > "$OUT" 2>&1 & wait $!'
    proc = subprocess.Popen(
        ["sh", "-c", script, "sh", *argv], stdin=secondary, stdout=secondary, stderr=secondary,
        env={**env, "OUT": out}, start_new_session=True, preexec_fn=take_terminal,
    )
    os.close(secondary)
    proc.primary_fd = primary  # type: ignore[attr-defined]  # kept open: closing it hangs up the job
    return proc


async def test_a_background_job_asks_the_dashboard_not_the_terminal(
    aws_home, sts_proxy, moto_auth, monkeypatch, tmp_path
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    aws_home.env["AWS_ENDPOINT_URL_STS"] = sts_proxy.url
    write_world(aws_home, sts_proxy, moto_auth.seed)
    out = tmp_path / "job.out"
    app = StsdashApp(engine=RefreshEngine(settings=Settings()), watch_files=False, broker=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.loaded.wait()
        assert app.broker_link is not None
        await until(pilot, lambda: app.broker_link.listening, what="the prompt socket")
        argv = [sys.executable, "-m", "stsdash", "exec", "role4", "--", sys.executable, "-c", PRINT_KEY]
        job = in_a_terminal_as_a_background_job(argv, aws_home.subprocess_env(PYTHONPATH=os.getcwd()),
                                                str(out))
        try:
            await until(pilot, lambda: isinstance(app.screen, MfaScreen), what="the MFA modal")
            assert "asked by exec role4" in app.screen.request.reason
            await pilot.press(*"345678", "enter")
            await until(pilot, lambda: job.poll() is not None, what="the job")
        finally:
            if job.poll() is None:
                job.kill()
            os.close(job.primary_fd)
    assert job.returncode == 0, out.read_text()
    assert out.read_text().strip() == "ASIA"
    assert sts_proxy.token_calls["GetSessionToken"] == 1
