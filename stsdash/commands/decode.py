"""`stsdash decode [MESSAGE|-] [--profile P]`: what an "Encoded authorization failure message" says.

Calls STS DecodeAuthorizationMessage with the profile's credentials (they need the
sts:DecodeAuthorizationMessage permission) and prints the verdict, the denied action and resource, the
conditions of the matched statements next to what the request had, then the whole decoded document.
MESSAGE may be the bare token or the whole error text; `-` or nothing reads it from stdin.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash.engine import RefreshEngine


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="decode an AWS 'Encoded authorization failure message'",
        description="Decode an encoded authorization failure message with STS DecodeAuthorizationMessage "
        "and show the denied action, resource and failing conditions.",
    )
    parser.add_argument("message", nargs="?", default="-", metavar="MESSAGE",
                        help="the encoded message or the whole error text; - (default) reads stdin")
    parser.add_argument("--profile", metavar="PROFILE",
                        help="credentials to decode with (default: $AWS_PROFILE, else default)")
    parser.add_argument("--code", metavar="123456", help="MFA code to use if a refresh needs one")
    parser.add_argument("--json", action="store_true", help="print only the decoded JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from stsdash.authz import extract_encoded, parse_decoded, render_text

    text = sys.stdin.read() if args.message == "-" else args.message
    encoded = extract_encoded(text)
    name = args.profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    doc = parse_decoded(decode(name, encoded, code=args.code))
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=True))
    else:
        sys.stdout.write(render_text(doc))
    return 0


def decode(name: str, encoded: str, *, code: str | None = None, engine: RefreshEngine | None = None) -> str:
    """The decoded JSON text, using profile `name`'s current credentials (refreshed when stale)."""
    from stsdash.commands.credentials import resolve
    from stsdash.errors import StsdashError
    from stsdash.providers.endpoints import sts_client_for

    if engine is None:
        from stsdash.engine import RefreshEngine

        engine = RefreshEngine()
    got = resolve(name, code=code, engine=engine, what=f"decode --profile {name}")
    client = sts_client_for(got.profile, engine.load(), os.environ)
    try:
        return client.decode_authorization_message(got.credentials, encoded)
    except StsdashError as exc:
        if getattr(exc, "code", None) == "AccessDenied":
            raise StsdashError(
                exc.message,
                hint=f"Profile {name} needs sts:DecodeAuthorizationMessage; pass a --profile that has it.",
            ) from None
        raise
