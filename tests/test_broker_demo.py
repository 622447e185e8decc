"""`stsdash demo` shows the broker: a credential server for an SSO profile with a boto3 client polling it,
and (with --prompt) a caller without a terminal whose MFA prompt goes to the dashboard."""

from __future__ import annotations

import os
import time

from stsdash.broker.ipc import PromptSocket
from stsdash.broker.status import read_servers
from stsdash_demo.callers import PROMPTED_PROFILE, SERVED_PROFILE, demo_callers
from stsdash_demo.home import SCRUB_PREFIXES
from stsdash_demo.runner import demo_environment


def _wait_until(condition, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_demo_callers_reach_the_callers_view_and_the_prompt_socket(monkeypatch):
    monkeypatch.setattr("stsdash_demo.callers.PROMPT_AFTER", 0.0)
    asked: list[str] = []
    with demo_environment(approve_after=None) as demo:
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES)}
        env.update(demo.env, PYTHONPATH=os.getcwd())
        # The dashboard's side of the socket, without the UI: record who asks, cancel the prompt.
        sock = PromptSocket(lambda request, prompt: asked.append(prompt.caller) and None, env=demo.env)
        assert sock.start()
        try:
            with demo_callers(env, sts_url=demo.moto.url, prompt=True):
                _wait_until(lambda: any(s.clients for s in read_servers(demo.env)))
                _wait_until(lambda: bool(asked))
                (server,) = read_servers(demo.env)
        finally:
            sock.stop()
        assert read_servers(demo.env) == []
    assert server.profile == SERVED_PROFILE
    # botocore's container fetcher sends urllib3's user agent, not boto3's
    assert server.clients[0].agent.startswith("python-urllib3/") and server.clients[0].requests >= 1
    assert asked[0].startswith(f"credential-process {PROMPTED_PROFILE}")
