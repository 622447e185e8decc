"""`stsdash exec --server PROFILE -- CMD`: run CMD next to a credential server instead of with fixed keys.

CMD gets AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN, no keys and no
AWS_PROFILE, so every SDK in it fetches credentials from the server and fetches again before they
expire, for as long as CMD runs. The server lives in this process and stops when CMD ends; CMD's exit
status is stsdash's. Codes are asked on this terminal, else in the dashboard, else in a desktop dialog.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping


def run_with_server(args: argparse.Namespace, command: list[str], extra_env: Mapping[str, str]) -> int:
    """Serve args.profile, run `command` with the server's variables (plus `extra_env`); its status."""
    from stsdash.broker.child import run_child, server_environment
    from stsdash.broker.runner import serving
    from stsdash.commands.refresh import TerminalCodes
    from stsdash.engine import RefreshEngine
    from stsdash.errors import UsageError
    from stsdash.regions import resolve_region

    if args.code is not None and not (args.code.strip().isdigit() and len(args.code.strip()) == 6):
        raise UsageError("--code must be exactly 6 digits")
    # Refusals and failures only: per-request lines would be mixed into CMD's own output.
    logging.basicConfig(level=logging.WARNING, format="stsdash exec --server: %(message)s", stream=sys.stderr)
    engine = RefreshEngine()
    profile = engine.load().profiles.get(args.profile)
    if profile is None:
        raise UsageError(f"profile {args.profile}: no such profile", hint="`stsdash list` shows them all.")
    region = resolve_region(args.region, profile.region, os.environ)
    first = TerminalCodes(args.code, what=f"exec --server {args.profile}")
    what = " ".join(command)
    with serving(args.profile, first=first, command=what[:80], engine=engine) as server:
        env = server_environment(os.environ, server.environment(), region)
        env.update(extra_env)
        return run_child(command, env)
