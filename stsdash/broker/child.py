"""Running a command next to a credential server (`stsdash exec --server`).

Unlike plain `exec`, stsdash cannot replace itself with the command: the server must live as long as
the command does. So the command runs as a child; Ctrl-C, SIGTERM and SIGHUP are passed on to it, and
its exit status (or 128 + the signal that ended it) becomes stsdash's.

The child's environment points the SDKs at the server and at nothing else: keys and profile variables
would come first in every SDK's chain, so they are removed.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Mapping

# Anything an SDK would try before the container provider.
SHADOWING = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)


def server_environment(
    base: Mapping[str, str], server_env: Mapping[str, str], region: str | None
) -> dict[str, str]:
    """`base` without credential variables, with the server's two variables and the region."""
    env = {k: v for k, v in base.items() if k not in SHADOWING}
    env.update(server_env)
    if region:
        env["AWS_REGION"] = region
        env["AWS_DEFAULT_REGION"] = region
    return env


def run_child(command: list[str], env: Mapping[str, str]) -> int:
    """Run `command`, forwarding termination signals; its exit status, shell-style."""
    try:
        child = subprocess.Popen(command, env=dict(env))
    except FileNotFoundError:
        print(f"stsdash: exec: {command[0]}: command not found", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"stsdash: exec: {command[0]}: permission denied", file=sys.stderr)
        return 126

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - status if status < 0 else status
