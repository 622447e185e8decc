"""`stsdash serve PROFILE`: a local credential server (ECS container protocol) for programs you point at it.

Prints the two variables to set (for `eval`), then serves until Ctrl-C. SDKs fetch again by themselves
before the credentials expire; the server refreshes ahead of expiry through the engine. A code, when one
is needed, is asked on this terminal, else in the running dashboard, else in a desktop dialog.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import threading


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a profile's credentials to local programs (ECS container protocol)",
        description="Serve PROFILE's credentials on 127.0.0.1 with a random authorization token. Prints "
        "AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN (or _TOKEN_FILE) for "
        "eval; every SDK then refreshes by itself for as long as this runs.",
    )
    parser.add_argument("profile", metavar="PROFILE")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a random free one)")
    parser.add_argument(
        "--token-file", metavar="PATH",
        help="write the token to PATH (mode 0600) and print AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE instead",
    )
    parser.add_argument("--code", metavar="123456", help="MFA code for the first fetch, if one is needed")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.broker.runner import serving
    from stsdash.commands.refresh import TerminalCodes
    from stsdash.errors import UsageError

    if args.code is not None and not (args.code.isdigit() and len(args.code) == 6):
        raise UsageError("--code must be exactly 6 digits")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be 0..65535")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format="stsdash serve: %(message)s", stream=sys.stderr)
    first = TerminalCodes(args.code, what=f"refresh {args.profile}")
    with serving(args.profile, first=first, port=args.port, command="serve") as server:
        env = server.environment()
        if args.token_file:
            token = env.pop("AWS_CONTAINER_AUTHORIZATION_TOKEN")
            fd = os.open(args.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(token)
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = os.path.abspath(args.token_file)
        for key, value in env.items():
            print(f"export {key}={shlex.quote(value)}")
        print(f"# serving {args.profile} until Ctrl-C", flush=True)
        print(f"stsdash serve: serving {args.profile} at {server.url}", file=sys.stderr, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0
