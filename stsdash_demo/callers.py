"""The demo's callers: a credential server with an SDK polling it, and optionally a background caller
that needs an MFA code, so the dashboard's callers view (`C`) and prompt routing have something to show.

They run as separate processes with the demo's environment, exactly as a user's would: `stsdash serve`
for an SSO profile, a boto3 loop reading credentials from it (the ECS container provider), and, with
`--prompt`, `stsdash credential-process` for an MFA role with no terminal, whose code prompt appears in
the dashboard.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

SERVED_PROFILE = "acme-dev"
PROMPTED_PROFILE = "prod-readonly"
PROMPT_AFTER = 6.0  # s after start: time to look around before the background caller asks

CLIENT = """\
import sys, time
import boto3
sts = boto3.Session(region_name="eu-west-1").client("sts", endpoint_url=sys.argv[1])
while True:
    sts.get_caller_identity()
    time.sleep(5)
"""


@contextlib.contextmanager
def demo_callers(env: dict[str, str], *, sts_url: str, prompt: bool = False) -> Iterator[None]:
    """Start the callers (quietly: their output would draw over the dashboard); stop them on exit."""
    procs: list[subprocess.Popen] = []
    try:
        server = subprocess.Popen(
            [sys.executable, "-m", "stsdash", "serve", SERVED_PROFILE],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
        )
        procs.append(server)
        client_env = dict(env)
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("# serving"):
                break
            key, _, value = line.removeprefix("export ").strip().partition("=")
            client_env[key] = value.strip("'")
        if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in client_env:
            procs.append(subprocess.Popen(
                [sys.executable, "-c", CLIENT, sts_url], env=client_env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            ))
        if prompt:
            later = f'sleep {PROMPT_AFTER}; exec "$0" -m stsdash credential-process {PROMPTED_PROFILE}'
            procs.append(subprocess.Popen(
                ["sh", "-c", later, sys.executable],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            ))
        yield
    finally:
        for proc in procs:
            with contextlib.suppress(OSError):
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
