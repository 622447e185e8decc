"""`stsdash keys import|list|remove`: long-term IAM user keys in the OS keyring instead of a plaintext file.

Import order matters: the keyring copy is written and read back first, and only then is the file's
section removed (by CredentialsWriter, which checks the key id is still the imported one). A crash in
between leaves the keys in both places, never in neither.
"""

from __future__ import annotations

import argparse
import sys

_KEY_NAMES = {"aws_access_key_id", "aws_secret_access_key"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="keep long-term IAM user keys in the OS keyring",
        description="Move a profile's long-term access keys from ~/.aws/credentials into the OS keyring "
        "(stsdash then uses them for MFA sessions and roles), list or remove them.",
    )
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="move a profile's keys from the credentials file to the keyring")
    imp.add_argument("profile", metavar="PROFILE")
    imp.set_defaults(handler=run_import)
    lst = sub.add_parser(
        "list",
        help="list long-term keys (keyring and credentials file) with the account each belongs to",
        description="List profiles with long-term keys: in the keyring, then in the AWS files, each with "
        "the account it belongs to (STS GetAccessKeyInfo, cached for good).",
    )
    lst.add_argument("--no-lookup", action="store_true", help="show cached accounts only; no STS call")
    lst.set_defaults(handler=run_list)
    rem = sub.add_parser("remove", help="delete a profile's keys from the keyring")
    rem.add_argument("profile", metavar="PROFILE")
    rem.set_defaults(handler=run_remove)


def run_import(args: argparse.Namespace) -> int:
    from stsdash.awsfiles.ini import read_ini
    from stsdash.awsfiles.paths import aws_paths
    from stsdash.awsfiles.writer import CredentialsWriter
    from stsdash.creds import Credentials
    from stsdash.errors import StsdashError, UsageError
    from stsdash.secrets import SecretStore

    name = args.profile
    paths = aws_paths()
    section = read_ini(paths.credentials).sections.get(name)
    where = f"{paths.credentials}"
    if section is None or "aws_access_key_id" not in section.values:
        raise UsageError(
            f"profile {name}: no keys in {where}",
            hint="`stsdash keys import` moves keys from the credentials file; nothing was changed.",
        )
    values = {k: v for k, v in section.values.items() if isinstance(v, str)}
    if values.get("aws_session_token") or values.get("aws_security_token"):
        raise UsageError(
            f"profile {name}: {where}:{section.line} holds temporary keys; only long-term keys belong in "
            "the keyring"
        )
    if not values.get("aws_secret_access_key"):
        raise UsageError(f"profile {name}: {where}:{section.line} has no aws_secret_access_key")
    extra = sorted(set(section.values) - _KEY_NAMES)
    if extra:
        raise UsageError(
            f"profile {name}: {where}:{section.line} also sets {', '.join(extra)}; removing the section "
            "would lose them",
            hint=f"Move those settings to [profile {name}] in {paths.config} first, then import again.",
        )
    config = read_ini(paths.config).sections
    header = "default" if name == "default" else f"profile {name}"
    if header not in config and not (name == "default" and "profile default" in config):
        raise UsageError(
            f"profile {name}: it is defined only in {where}; after the import it would disappear",
            hint=f"Add [{header}] to {paths.config} (with region or mfa_serial), then import again.",
        )
    creds = Credentials(values["aws_access_key_id"], values["aws_secret_access_key"])
    SecretStore().set_long_term(name, creds)  # verified read-back, or raises with the file untouched
    try:
        CredentialsWriter(paths.credentials).remove_section(name, expect_access_key_id=creds.access_key_id)
    except StsdashError as exc:
        raise StsdashError(
            f"profile {name}: keys stored in the keyring, but [{name}] was not removed from {where}: "
            f"{exc.message}",
            hint="Remove the section by hand, or run the import again.",
        ) from None
    print(f"profile {name}: keys {creds.masked_key_id} moved to the keyring; [{name}] removed from {where}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from stsdash.engine import RefreshEngine
    from stsdash.errors import StsdashError
    from stsdash.keyinfo import KeyAccounts
    from stsdash.providers.endpoints import sts_client_for
    from stsdash.secrets import SecretStore

    store = SecretStore()
    engine = RefreshEngine(secrets=store)
    profiles = engine.load()
    rows = []
    for name in store.list_long_term():
        rows.append((name, store.get_long_term(name), "keyring"))
    for profile in profiles.profiles.values():
        creds = profile.static_credentials
        if creds is not None and not creds.is_temporary and profile.keys_in in ("credentials", "config"):
            rows.append((profile.name, creds, profile.keys_in))
    if not rows:
        print("no long-term keys in the keyring or the AWS files", file=sys.stderr)
    accounts = KeyAccounts()
    for name, creds, where in rows:
        account = "?"
        if creds is not None:
            account = accounts.cached(creds.access_key_id) or "?"
            owner = profiles.profiles.get(name)
            if account == "?" and not args.no_lookup and owner is not None:
                try:
                    account = accounts.lookup(sts_client_for(owner, profiles), creds)
                except StsdashError as exc:
                    account = f"? ({exc.message})"
        print(f"{name}\t{creds.masked_key_id if creds else '?'}\t{where}\t{account}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from stsdash.errors import UsageError
    from stsdash.secrets import SecretStore

    store = SecretStore()
    if store.get_long_term(args.profile) is None:
        raise UsageError(f"profile {args.profile}: no keys in the keyring")
    store.delete_long_term(args.profile)
    print(f"profile {args.profile}: keys removed from the keyring")
    return 0
