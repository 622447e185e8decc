"""`stsdash console PROFILE [--service S] [--region R] [--duration S] [--print]`: open the AWS console.

The sign-in URL is a credential (valid 15 minutes): it is opened with the user's browser (`webbrowser`,
which honours $BROWSER) or printed with --print, and written nowhere else.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    from stsdash.commands.credentials import add_profile_arguments

    parser = subparsers.add_parser(
        "console",
        help="open the AWS console signed in as a profile",
        description="Sign in to the AWS console with the profile's credentials through the federation "
        "endpoint (role sessions as they are; IAM users through GetFederationToken) and open it in "
        "the browser.",
    )
    add_profile_arguments(parser)
    parser.add_argument("--service", metavar="NAME", help="console service to open, e.g. s3, ec2, iam")
    parser.add_argument("--duration", type=int, metavar="SECONDS",
                        help="console session length (role sessions 900–43200; IAM users 900–129600)")
    parser.add_argument("--print", action="store_true", dest="print_url",
                        help="print the sign-in URL instead of opening a browser (it is a credential)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.commands.refresh import TerminalCodes
    from stsdash.console import (
        console_credentials,
        console_partition,
        destination,
        federation_endpoint,
        login_url,
        signin_token,
    )
    from stsdash.engine import RefreshEngine
    from stsdash.errors import UsageError
    from stsdash.providers.http import resolve_verify
    from stsdash.regions import resolve_region

    if args.code is not None and not (len(args.code.strip()) == 6 and args.code.strip().isdigit()):
        raise UsageError("--code must be exactly 6 digits")
    engine = RefreshEngine()
    profile = engine.load().profiles.get(args.profile)
    if profile is None:
        raise UsageError(f"profile {args.profile}: no such profile", hint="`stsdash list` shows them all.")
    region = resolve_region(args.region, profile.region, os.environ)
    partition = console_partition(profile, region)
    endpoint = federation_endpoint(engine.settings.signin_endpoint, partition)
    landing = destination(partition, region, args.service)
    console = console_credentials(engine, args.profile, duration=args.duration,
                                  code_provider=TerminalCodes(args.code, what=f"console {args.profile}"))
    verify = resolve_verify(profile.ca_bundle, os.environ)
    token = signin_token(endpoint, console, duration=args.duration, verify=verify)
    url = login_url(endpoint, token, landing)
    if args.print_url:
        print(url)
        return 0
    import webbrowser

    if not webbrowser.open(url):
        raise UsageError("no browser could be opened", hint="Run again with --print and open the URL.")
    print(f"profile {args.profile}: console opened ({console.via}, {region or 'default region'})",
          file=sys.stderr)
    return 0
