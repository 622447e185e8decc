"""No secret access key or session token in anything stsdash shows or leaves behind.

1. The CLI: representative commands (list, refresh, whoami, sso status, keys, errors) run with known
   fake secrets and with the real (moto-made) session secrets they write; stdout, stderr and every
   file they create outside the AWS files and the keyring are scanned.
   `credential-process` is left out on purpose: its protocol is to print the credentials as JSON on
   stdout for botocore to read.
2. The dashboard: screenshots of its main screens, taken against the demo environment, and every
   committed screenshot or snapshot (screenshots/*.svg, tests/__snapshots__/**).
3. The repository: no tracked or new text file holds something shaped like a real AWS access key id.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.support.awsenv import AwsHome

REPO = Path(__file__).resolve().parent.parent
SERIAL = "arn:aws:iam::123456789012:mfa/alice"

# Known fake secrets planted next to the real ones; each is distinctive enough to never occur by chance.
CANARY_SECRET = "canaryFAKEsecretKEY0000leakCHECKxxxxxxxx"
CANARY_TOKEN = "canaryFAKEsessionTOKEN0000leakCHECK" + "z" * 60
CANARY_LEGACY_TOKEN = "canaryFAKElegacySECURITYtoken0000leakCHECK"
CANARY_CONFIG_SECRET = "canaryFAKEconfigSECRET0000leakCHECKyyyyyy"
CANARY_SSO = "canaryFAKEssoACCESStoken0000leakCHECK"
CANARY_REFRESH = "canaryFAKEssoREFRESHtoken0000leakCHECK"
CANARY_CLIENT_SECRET = "canaryFAKEssoCLIENTsecret0000leakCHECK"

SECRET_KEYS = ("aws_secret_access_key", "aws_session_token", "aws_security_token")
JSON_SECRET_KEYS = (
    "accessToken",
    "refreshToken",
    "clientSecret",
    "SecretAccessKey",
    "SessionToken",
    "secretAccessKey",
    "sessionToken",
)


# -- collecting the secrets that exist --------------------------------------------------------------


def _ini_secrets(path: Path) -> set[str]:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(path.read_text())
    except (OSError, configparser.Error):
        return set()
    return {v for s in parser.sections() for k, v in parser.items(s) if k in SECRET_KEYS and v}


def _json_secrets(value: object) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in JSON_SECRET_KEYS and isinstance(item, str) and item:
                found.add(item)
            else:
                found |= _json_secrets(item)
    elif isinstance(value, list):
        for item in value:
            found |= _json_secrets(item)
    elif isinstance(value, str) and value.startswith("{"):
        with contextlib.suppress(ValueError):
            found |= _json_secrets(json.loads(value))
    return found


def secrets_under(aws_dir: Path, extra: Iterable[str] = ()) -> set[str]:
    """Every secret in the AWS files and caches below `aws_dir`, plus `extra`."""
    found = set(extra)
    for name in ("config", "credentials"):
        found |= _ini_secrets(aws_dir / name)
    for cache in (aws_dir / "sso" / "cache", aws_dir / "cli" / "cache"):
        for path in cache.glob("*.json") if cache.is_dir() else ():
            try:
                found |= _json_secrets(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
    return {s for s in found if len(s) >= 8}


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Secrets found in `text`, whole or as a 16-character slice of their middle; never the value."""
    hits = []
    for secret in secrets:
        middle = secret[len(secret) // 2 - 8 : len(secret) // 2 + 8] if len(secret) >= 24 else secret
        if secret in text or middle in text:
            hits.append(f"a secret ending in …{secret[-4:]} ({len(secret)} chars)")
    return hits


# -- 1. the CLI -------------------------------------------------------------------------------------


def run_cli(aws_home: AwsHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-P", "-m", "stsdash", *args],
        env=aws_home.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=aws_home.home,
        check=False,
    )


@pytest.fixture
def planted(aws_home, moto_auth, sts_proxy) -> AwsHome:
    """Real (moto) keys for alice, roles behind her, and canaries in every place a secret can live."""
    seed = moto_auth.seed
    sts_proxy.mfa_serials = {SERIAL}
    aws_home.env["AWS_ENDPOINT_URL_STS"] = sts_proxy.url
    aws_home.env["AWS_ENDPOINT_URL_SSO"] = "http://127.0.0.1:9"  # never reached: tokens are cached
    aws_home.write_config(
        textwrap.dedent(
            f"""\
            [profile alice]
            region = us-east-1

            [profile dev]
            role_arn = {seed.roles["dev"]}
            source_profile = alice
            region = us-east-1

            [profile mfadev]
            role_arn = {seed.roles["admin"]}
            source_profile = alice
            mfa_serial = {SERIAL}
            region = us-east-1

            [profile inconfig]
            aws_access_key_id = AKIAFAKEEXAMPLE00077
            aws_secret_access_key = {CANARY_CONFIG_SECRET}
            region = us-east-1

            [sso-session corp]
            sso_start_url = https://corp.awsapps.com/start
            sso_region = us-east-1

            [profile s]
            sso_session = corp
            sso_account_id = 123456789012
            sso_role_name = ReadOnly
            """
        )
    )
    aws_home.write_credentials(
        textwrap.dedent(
            f"""\
            [alice]
            aws_access_key_id = {seed.access_key_id}
            aws_secret_access_key = {seed.secret_access_key}

            [static]
            aws_access_key_id = AKIAFAKEEXAMPLE00078
            aws_secret_access_key = {CANARY_SECRET}

            [handwritten]
            aws_access_key_id = ASIAFAKEEXAMPLE00079
            aws_secret_access_key = {CANARY_SECRET}x
            aws_session_token = {CANARY_TOKEN}
            aws_security_token = {CANARY_LEGACY_TOKEN}
            """
        )
    )
    import hashlib

    (aws_home.sso_cache / (hashlib.sha1(b"corp").hexdigest() + ".json")).write_text(
        json.dumps(
            {
                "startUrl": "https://corp.awsapps.com/start",
                "region": "us-east-1",
                "accessToken": CANARY_SSO,
                "expiresAt": "2099-01-01T00:00:00Z",
                "clientId": "FAKE-CLIENT",
                "clientSecret": CANARY_CLIENT_SECRET,
                "registrationExpiresAt": "2099-01-01T00:00:00Z",
                "refreshToken": CANARY_REFRESH,
            }
        )
    )
    return aws_home


COMMANDS = [
    ["--help"],
    ["list"],
    ["list", "--json"],
    ["list", "--all"],
    ["list", "--all", "--json"],
    ["refresh", "dev"],
    ["refresh", "dev", "--json"],
    ["refresh", "mfadev", "--code", "123456", "--json"],
    ["refresh", "--stale", "--json"],
    ["whoami", "dev"],
    ["whoami", "dev", "--json"],
    ["whoami", "mfadev", "--json"],
    ["whoami", "alice"],
    ["whoami", "handwritten"],
    ["sso", "status"],
    ["refresh", "s", "--json"],  # the portal is unreachable: an error path
    ["refresh", "static"],  # usage error: nothing to refresh
    ["keys", "import", "static"],
    ["keys", "list"],
    ["list", "--json"],
]


def _log_like_files(aws_home: AwsHome) -> dict[str, str]:
    """Every file the commands created outside the AWS files, caches and the keyring's own store."""
    found = {}
    for path in aws_home.root.rglob("*"):
        rel = path.relative_to(aws_home.root).as_posix()
        if not path.is_file() or rel.startswith("home/.aws/") or "python_keyring" in rel:
            continue
        try:
            found[rel] = path.read_text(errors="replace")
        except OSError:
            continue
    return found


def test_cli_output_and_files_never_hold_secrets(planted, sts_proxy, moto_auth) -> None:
    aws = planted.credentials.parent
    known = {
        moto_auth.seed.secret_access_key,
        CANARY_SECRET,
        CANARY_TOKEN,
        CANARY_LEGACY_TOKEN,
        CANARY_CONFIG_SECRET,
        CANARY_SSO,
        CANARY_REFRESH,
        CANARY_CLIENT_SECRET,
    }
    sts_proxy.inject_error("AccessDenied", "Not this time", status=403, action="GetCallerIdentity", count=1)
    seen_secrets = set(known)
    ran = []
    for args in COMMANDS:
        proc = run_cli(planted, *args)
        # Secrets written by this very command (fresh session keys) count as well.
        seen_secrets |= secrets_under(aws, known)
        assert "Traceback" not in proc.stderr, (args, proc.stderr[-2000:])
        for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            found = leaks(text, seen_secrets)
            assert not found, f"`stsdash {' '.join(args)}` {stream} shows {found}"
        ran.append((args, proc.returncode))
    # The commands did real work: fresh session secrets exist and were checked.
    assert len(secrets_under(aws) - known) >= 2, "no refresh happened; the scan proved nothing"
    assert ("refresh", "dev") in {tuple(a[:2]) for a, rc in ran if rc == 0}
    for rel, text in _log_like_files(planted).items():
        found = leaks(text, seen_secrets)
        assert not found, f"{rel} holds {found}"


def test_the_scan_would_see_a_leak(planted) -> None:
    """credential-process prints secrets by design (botocore reads them from its stdout), so it is not
    in COMMANDS; here it proves the scan finds a secret when one is printed."""
    proc = run_cli(planted, "credential-process", "dev")
    assert proc.returncode == 0, proc.stderr
    assert leaks(proc.stdout, secrets_under(planted.credentials.parent)), "the scan missed printed secrets"


def test_error_messages_never_echo_request_secrets(planted, sts_proxy) -> None:
    """An STS error whose message repeats what was sent (as a broken proxy might) is still shown safely."""
    sts_proxy.inject_raw(b"<html>Bad gateway</html>", status=502, count=10, action="AssumeRole")
    proc = run_cli(planted, "refresh", "dev", "--json")
    assert proc.returncode == 1
    secrets = secrets_under(planted.credentials.parent)
    assert not leaks(proc.stdout + proc.stderr, secrets)


# -- 2. the dashboard -------------------------------------------------------------------------------


def _svg_text(svg: str) -> str:
    """The visible text of a Textual SVG (runs of text are split across <text> elements)."""
    import html

    return html.unescape("".join(re.findall(r">([^<>]*)<", svg)))


def _fixture_secrets() -> set[str]:
    """Fake secret values written in the repository's tests and demo, for scanning stored snapshots."""
    patterns = [
        r"(?:aws_secret_access_key|aws_session_token|aws_security_token)\s*=\s*([A-Za-z0-9/+=._-]{12,})",
        r"(?:secret_access_key|session_token|SecretAccessKey|SessionToken|secretAccessKey|sessionToken"
        r"|accessToken|refreshToken|clientSecret)[\"']?\s*[=:]\s*[\"']([A-Za-z0-9/+=._-]{12,})[\"']",
    ]
    found: set[str] = set()
    for path in [*REPO.glob("tests/**/*.py"), *REPO.glob("stsdash_demo/*.py"), *REPO.glob("bench/*.py")]:
        text = path.read_text(errors="replace")
        for pattern in patterns:
            found |= set(re.findall(pattern, text))
    return {s for s in found if not s.startswith(("self", "creds", "os.", "token", "secret"))}


def _stored_snapshots() -> list[Path]:
    return sorted([*REPO.glob("screenshots/*.svg"), *REPO.glob("tests/__snapshots__/**/*")])


def test_committed_screenshots_and_snapshots_hold_no_secrets() -> None:
    secrets = _fixture_secrets() | {CANARY_SECRET, CANARY_TOKEN}
    token_shape = re.compile(r"(?:FwoGZXIvYXdz|FQoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{16,}")
    for path in _stored_snapshots():
        if not path.is_file():
            continue
        raw = path.read_text(errors="replace")
        for text in (raw, _svg_text(raw)):
            found = leaks(text, secrets)
            assert not found, f"{path.relative_to(REPO)} shows {found}"
            assert not token_shape.search(text), f"{path.relative_to(REPO)} shows a session token"


async def test_dashboard_screens_hold_no_secrets(tmp_path) -> None:
    """Dashboard, details of every kind of row, help, the MFA modal and a refresh, as SVG screenshots."""
    from stsdash.ui.screens.details import DetailsScreen
    from stsdash.ui.screens.mfa import MfaScreen
    from stsdash_demo.runner import DemoKeyring, applied_env, build_app, demo_environment

    shots: dict[str, str] = {}
    with demo_environment(approve_after=None) as demo, applied_env(demo.env):
        app = build_app(watch_files=False)
        async with app.run_test(size=(120, 50)) as pilot:
            await app.loaded.wait()
            await pilot.pause()
            shots["dashboard"] = app.export_screenshot()
            table = app.dashboard.profile_table
            table.focus()
            for row in range(table.row_count):
                table.move_cursor(row=row)
                await pilot.pause()
                await pilot.press("enter")
                for _ in range(100):
                    if isinstance(app.screen, DetailsScreen):
                        break
                    await pilot.pause(0.05)
                if isinstance(app.screen, DetailsScreen):
                    shots[f"details-{row}"] = app.export_screenshot()
                    await pilot.press("escape")
                    await pilot.pause()
            table.move_cursor(row=0)
            await pilot.press("R")  # every stale profile; the demo's roles ask for one MFA code
            for _ in range(200):
                if isinstance(app.screen, MfaScreen):
                    shots["mfa"] = app.export_screenshot()
                    await pilot.press(*"123456", "enter")
                    break
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            shots["after-refresh"] = app.export_screenshot()
            await pilot.press("question_mark")
            await pilot.pause()
            shots["help"] = app.export_screenshot()
        stored = set(DemoKeyring.stored_values())
        secrets = secrets_under(demo.credentials.parent, _json_secrets(list(stored)))
    assert {"dashboard", "mfa", "after-refresh", "help"} <= set(shots), sorted(shots)
    assert secrets, "the demo holds no secrets to look for"
    for name, svg in shots.items():
        (tmp_path / f"{name}.svg").write_text(svg)
        for text in (svg, _svg_text(svg)):
            found = leaks(text, secrets)
            assert not found, f"screenshot {name} shows {found}"


# -- 3. the repository ------------------------------------------------------------------------------

KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
FAKE_MARKERS = ("EXAMPLE", "FAKE", "TEST", "DEMO", "0000")


def _repo_text_files() -> list[Path]:
    try:
        listed = (
            subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=REPO,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [REPO / name for name in listed if name and (REPO / name).is_file()]


def test_repository_holds_no_real_looking_access_key_ids() -> None:
    offenders = []
    for path in _repo_text_files():
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        for match in KEY_ID.finditer(data.decode("utf-8", errors="replace")):
            if not any(marker in match.group() for marker in FAKE_MARKERS):
                offenders.append(f"{path.relative_to(REPO)}: {match.group()[:8]}…")
    assert not offenders, "access key ids that do not look fake (use EXAMPLE/FAKE/TEST/DEMO): " + ", ".join(
        offenders
    )


def test_key_id_scan_catches_a_real_looking_key() -> None:
    sample = "aws_access_key_id = " + "AKIA" + "Q" * 4 + "7" * 12
    assert KEY_ID.search(sample) and not any(m in sample for m in FAKE_MARKERS)
    assert not [
        m
        for m in KEY_ID.findall("AKIAFAKEEXAMPLE00001 ASIAEXAMPLEBILLING00")
        if not any(f in m for f in FAKE_MARKERS)
    ]
