"""`stsdash tui` (the default): the dashboard. Textual is imported only when the command runs."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tui", help="open the dashboard (the default)",
                                   description="Open the dashboard of profiles and SSO sessions.")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a browser for SSO login; show the URL and code only")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from stsdash.exiting import leave_now

    app = build_app(open_browser=not args.no_browser)
    # Our own loop: asyncio.run() would join the default executor's threads on the way out, so a
    # worker blocked on a stalled endpoint would keep the process (and the shell prompt) waiting.
    app.run(loop=asyncio.new_event_loop())
    # The terminal is restored; a worker may still wait on a stalled endpoint. Abandon it rather
    # than let interpreter shutdown join its thread (only a keyring write in progress is awaited).
    leave_now(int(app.return_code or 0))


def build_app(*, open_browser: bool = True, **kwargs):
    """The dashboard wired to the engine and SSO manager for this process's environment.

    `stsdash demo` uses this too, after pointing the environment at its emulators, so the demo runs
    exactly the app users get.
    """
    from stsdash.engine import RefreshEngine
    from stsdash.settings import load_settings
    from stsdash.sso.manager import SsoManager
    from stsdash.ui.app import StsdashApp

    kwargs.setdefault("broker", True)  # answer MFA prompts of programs without a terminal (stsdash.broker)
    settings = load_settings()
    sso = SsoManager(settings=settings)
    engine = RefreshEngine(settings=settings, sso=sso)
    return StsdashApp(engine=engine, sso=sso, settings=settings, open_browser=open_browser, **kwargs)
