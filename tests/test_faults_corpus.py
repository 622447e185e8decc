"""A corpus of hostile and broken inputs, driven through the public CLI as a user would meet them.

Every case checks the exact parts of the message a user needs (file, line, profile, what to do), the
exit code, and that NOTHING was written: every file under the AWS home is byte-identical afterwards
and no temporary file is left behind. Faults the CLI cannot be made to hit from outside (a full disk,
a read-only file system, an unreadable file when running as root, a slow endpoint) are injected into
the stsdash child process with a few lines of Python run before `stsdash.cli.main`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.awsenv import AwsHome

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
NEVER = "2099-01-01T00:00:00Z"

# -- running the CLI --------------------------------------------------------------------------------

_MAIN = "import sys\n{patch}\nfrom stsdash.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def run_cli(
    aws_home: AwsHome, *args: str, patch: str = "", timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """`stsdash ARGS` in a child process with the aws_home environment; `patch` runs first."""
    code = _MAIN.format(patch=textwrap.dedent(patch))
    return subprocess.run(
        [sys.executable, "-P", "-c", code, *args],
        env=aws_home.subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=aws_home.home,
        check=False,
    )


def out(proc: subprocess.CompletedProcess[str]) -> str:
    """stdout + stderr with newlines folded, so messages can be matched regardless of wrapping."""
    return " ".join((proc.stdout + "\n" + proc.stderr).split())


def expect(proc: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    text = out(proc)
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}: {text}"
    for part in parts:
        assert " ".join(part.split()) in text, f"{part!r} not in: {text}"
    assert "Traceback" not in text, text


# -- "nothing was written" ------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and directory (None) under `root`; unreadable entries are recorded as such."""
    found: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            found[os.path.relpath(os.path.join(dirpath, name), root) + "/"] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                found[os.path.relpath(path, root)] = Path(path).read_bytes()
            except OSError as exc:
                found[os.path.relpath(path, root)] = f"<{exc.errno}>".encode()
    return found


# The writer's lock file may appear: it is created before anything is read and holds no data.
_LOCK = re.compile(r"(^|/)\.[^/]+\.stsdash\.lock$|(^|/)\.stsdash-[^/]+\.lock$")


def assert_untouched(before: dict[str, bytes | None], aws_home: AwsHome) -> None:
    after = {k: v for k, v in snapshot(aws_home.home).items() if not _LOCK.search(k)}
    before = {k: v for k, v in before.items() if not _LOCK.search(k)}
    leftovers = [k for k in after if k.endswith(".tmp") or ("/.credentials." in "/" + k and "lock" not in k)]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    changed = sorted(
        k for k in set(before) | set(after) if before.get(k, b"<absent>") != after.get(k, b"<absent>")
    )
    assert not changed, f"files changed: {changed}"


# -- A. malformed AWS files ------------------------------------------------------------------------

GOOD_CONFIG = (
    "[profile alice]\nregion = us-east-1\n\n"
    "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = alice\n"
)
GOOD_CREDS = "[alice]\naws_access_key_id = AKIAFAKEEXAMPLE00001\naws_secret_access_key = fakeSECRETexample\n"

FIX_BY_HAND = "Fix the file by hand; botocore (and every AWS CLI command) rejects it as it is."


@dataclass
class FileCase:
    id: str
    config: bytes
    credentials: bytes
    parts: list[str]  # `{config}` / `{credentials}` are replaced by the paths
    code: int = 2


FILE_CASES = [
    FileCase(
        "duplicate-section",
        (GOOD_CONFIG + "\n[profile dev]\nregion = eu-west-1\n").encode(),
        GOOD_CREDS.encode(),
        ["{config}:8: duplicate section [profile dev] (first defined on line 4)", FIX_BY_HAND],
    ),
    FileCase(
        "duplicate-key",
        GOOD_CONFIG.encode(),
        (GOOD_CREDS + "aws_access_key_id = AKIAFAKEEXAMPLE00002\n").encode(),
        ["{credentials}:4: duplicate key 'aws_access_key_id' in [alice] (first set on line 2)", FIX_BY_HAND],
    ),
    FileCase(
        "duplicate-key-case-insensitive",
        (GOOD_CONFIG + "Source_Profile = alice\n").encode(),
        GOOD_CREDS.encode(),
        ["{config}:7: duplicate key 'source_profile' in [profile dev] (first set on line 6)", FIX_BY_HAND],
    ),
    FileCase(
        "bom-config",
        b"\xef\xbb\xbf" + GOOD_CONFIG.encode(),
        GOOD_CREDS.encode(),
        ["{config}:1: file starts with a UTF-8 byte order mark (BOM)", "Save the file as UTF-8 without BOM."],
    ),
    FileCase(
        "bom-credentials",
        GOOD_CONFIG.encode(),
        b"\xef\xbb\xbf" + GOOD_CREDS.encode(),
        ["{credentials}:1: file starts with a UTF-8 byte order mark (BOM)", "without BOM"],
    ),
    FileCase(
        "invalid-utf8",
        GOOD_CONFIG.replace("us-east-1", "us-east-1\xff").encode("latin-1"),
        GOOD_CREDS.encode(),
        ["{config}:2: invalid UTF-8 (byte 0xff)", "Save the file as UTF-8."],
    ),
    FileCase(
        "latin1-in-credentials",
        GOOD_CONFIG.encode(),
        (GOOD_CREDS + "# café\n").encode("latin-1"),
        ["{credentials}:4: invalid UTF-8 (byte 0xe9)", "Save the file as UTF-8."],
    ),
    FileCase(
        "line-outside-section",
        ("region = us-east-1\n" + GOOD_CONFIG).encode(),
        GOOD_CREDS.encode(),
        ["{config}:1: line outside any section", FIX_BY_HAND],
    ),
    FileCase(
        "not-key-value",
        GOOD_CONFIG.encode(),
        (GOOD_CREDS + "this line has no separator\n").encode(),
        ["{credentials}:4: not a `key = value` line", FIX_BY_HAND],
    ),
]


def _prepare(aws_home: AwsHome, config: bytes, credentials: bytes) -> None:
    aws_home.config.write_bytes(config)
    aws_home.credentials.write_bytes(credentials)
    os.chmod(aws_home.credentials, 0o600)


def _fill(parts: list[str], aws_home: AwsHome) -> list[str]:
    return [p.format(config=aws_home.config, credentials=aws_home.credentials) for p in parts]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
@pytest.mark.parametrize(
    "command", [["list"], ["list", "--json"], ["refresh", "dev"], ["refresh", "--stale"]]
)
def test_malformed_file_is_reported_and_never_rewritten(aws_home, case: FileCase, command: list[str]) -> None:
    _prepare(aws_home, case.config, case.credentials)
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, *command)
    expect(proc, case.code, *_fill(case.parts, aws_home))
    assert proc.stdout == "", "nothing but the error may be printed"
    assert_untouched(before, aws_home)


def test_botocore_rejects_the_same_files(aws_home) -> None:
    """The corpus mirrors botocore: every malformed case above is one botocore refuses as well."""
    import botocore.exceptions
    import botocore.session

    for case in FILE_CASES:
        _prepare(aws_home, case.config, case.credentials)
        with pytest.raises((botocore.exceptions.ConfigParseError, UnicodeDecodeError)):
            botocore.session.Session().full_config  # noqa: B018


def test_ten_megabyte_config_is_read_and_a_late_error_has_its_exact_line(aws_home) -> None:
    filler = "".join(f"# filler comment line {i:08d} " + "x" * 60 + "\n" for i in range(120_000))
    body = filler + GOOD_CONFIG
    assert len(body) > 10_000_000
    _prepare(aws_home, body.encode(), GOOD_CREDS.encode())
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, "list", "--json")
    assert proc.returncode == 0, out(proc)
    names = [p["name"] for p in json.loads(proc.stdout)["profiles"]]
    assert names == ["alice", "dev"]
    assert_untouched(before, aws_home)

    bad_line = body.count("\n") + 1
    _prepare(aws_home, (body + "dangling line\n").encode(), GOOD_CREDS.encode())
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, "refresh", "dev")
    expect(proc, 2, f"{aws_home.config}:{bad_line}: not a `key = value` line", FIX_BY_HAND)
    assert_untouched(before, aws_home)


def test_ten_megabyte_single_line_value(aws_home) -> None:
    """One 10 MB line (a pasted blob): read without error, nothing written."""
    config = GOOD_CONFIG + "[profile blob]\nregion = us-east-1\nx_blob = " + "A" * 10_000_000 + "\n"
    _prepare(aws_home, config.encode(), GOOD_CREDS.encode())
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, "list", "--json")
    assert proc.returncode == 0, out(proc)
    assert "blob" in [p["name"] for p in json.loads(proc.stdout)["profiles"]]
    assert_untouched(before, aws_home)


@pytest.mark.parametrize("which", ["config", "credentials"])
@pytest.mark.parametrize("command", [["list"], ["refresh", "dev"]])
def test_directory_where_a_file_should_be(aws_home, which: str, command: list[str]) -> None:
    _prepare(aws_home, GOOD_CONFIG.encode(), GOOD_CREDS.encode())
    path = getattr(aws_home, which)
    path.unlink()
    path.mkdir()
    (path / "keep").write_text("x")
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, *command)
    expect(
        proc, 2, f"{path}: is a directory, not a file", "Point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE"
    )
    assert_untouched(before, aws_home)


def _unreadable(path: Path) -> tuple[str, dict[str, str]]:
    """Make `path` unreadable: chmod 000 when not root, else refuse reads of it inside the child."""
    if os.geteuid() != 0:
        path.chmod(0)
        return "", {}
    patch = f"""
        import builtins, errno, io, os, pathlib
        _target = os.path.realpath({str(path)!r})
        def _deny(p):
            if os.path.realpath(p) == _target:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(p))
        _rb = pathlib.Path.read_bytes
        def read_bytes(self):
            _deny(self)
            return _rb(self)
        pathlib.Path.read_bytes = read_bytes
        _open = builtins.open
        def open_(file, *a, **k):
            if isinstance(file, (str, os.PathLike)):
                _deny(file)
            return _open(file, *a, **k)
        builtins.open = open_
        io.open = open_
    """
    return patch, {}


@pytest.mark.parametrize("which", ["config", "credentials"])
@pytest.mark.parametrize("command", [["list"], ["refresh", "dev"]])
def test_unreadable_file(aws_home, which: str, command: list[str]) -> None:
    _prepare(aws_home, GOOD_CONFIG.encode(), GOOD_CREDS.encode())
    path = getattr(aws_home, which)
    patch, _ = _unreadable(path)
    try:
        before = snapshot(aws_home.home)
        proc = run_cli(aws_home, *command, patch=patch)
        expect(
            proc, 2, f"{path}: cannot read file: Permission denied", "Check the file's owner and permissions."
        )
    finally:
        path.chmod(0o600)
    assert_untouched(before, aws_home)


# -- profile graph problems -----------------------------------------------------------------------

CYCLE_CONFIG = textwrap.dedent(
    """\
    [profile a]
    role_arn = arn:aws:iam::123456789012:role/a
    source_profile = b

    [profile b]
    role_arn = arn:aws:iam::123456789012:role/b
    source_profile = a

    [profile orphan]
    role_arn = arn:aws:iam::123456789012:role/o
    source_profile = nowhere

    [profile both]
    role_arn = arn:aws:iam::123456789012:role/x
    source_profile = a
    credential_source = Environment

    [profile self]
    role_arn = arn:aws:iam::123456789012:role/s
    source_profile = self
    """
)


@pytest.mark.parametrize(
    ("profile", "parts"),
    [
        ("a", ["profile a:", "source_profile loop: a -> b -> a", "config:1, b at", "config:5)",
               "point one of them at a profile with keys"]),
        ("b", ["profile b:", "source_profile loop: b -> a -> b", "config:5, a at", "config:1)"]),
        ("orphan", ["profile orphan:", "source_profile nowhere does not exist (", "config:9)",
                    "add [profile nowhere] to"]),
        ("self", ["profile self:", "self"]),
        ("both", ["profile both:", "source_profile", "credential_source"]),
    ],
)
def test_source_problems_are_named_and_nothing_is_written(aws_home, profile: str, parts: list[str]) -> None:
    _prepare(aws_home, CYCLE_CONFIG.encode(), GOOD_CREDS.encode())
    before = snapshot(aws_home.home)
    listed = run_cli(aws_home, "list", "--json")
    assert listed.returncode == 0, out(listed)
    row = next(p for p in json.loads(listed.stdout)["profiles"] if p["name"] == profile)
    assert row["status"] == "problem" and row["problem"], row
    proc = run_cli(aws_home, "refresh", profile)
    expect(proc, 2, *parts)
    assert_untouched(before, aws_home)


# -- timestamps and caches ------------------------------------------------------------------------


def test_zone_less_expiry_is_read_as_utc_with_a_warning(aws_home) -> None:
    config = GOOD_CONFIG
    creds = GOOD_CREDS + textwrap.dedent(
        """\

        [dev-session]
        aws_access_key_id = ASIAFAKEEXAMPLE00003
        aws_secret_access_key = fakeSECRETexample
        aws_session_token = FAKETOKENexample
        aws_credential_expiration = 2031-02-03T04:05:06
        x_stsdash_managed = true
        """
    )
    _prepare(aws_home, config.encode(), creds.encode())
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, "list", "--json")
    assert proc.returncode == 0, out(proc)
    dev = next(p for p in json.loads(proc.stdout)["profiles"] if p["name"] == "dev")
    assert dev["expires_at"] == "2031-02-03T04:05:06Z"
    assert dev["status"] == "fresh"
    assert any("no timezone; read as UTC" in w and "[dev-session]" in w for w in dev["warnings"]), dev
    table = run_cli(aws_home, "list")
    expect(
        table,
        0,
        "warning: profile dev: [dev-session] aws_credential_expiration = 2031-02-03T04:05:06",
        "no timezone; read as UTC",
    )
    assert_untouched(before, aws_home)


SSO_CONFIG = textwrap.dedent(
    """\
    [sso-session corp]
    sso_start_url = https://corp.awsapps.com/start
    sso_region = us-east-1

    [profile s]
    sso_session = corp
    sso_account_id = 123456789012
    sso_role_name = ReadOnly
    region = us-east-1
    """
)
CORP_CACHE = hashlib.sha1(b"corp").hexdigest() + ".json"


@pytest.mark.parametrize(
    ("body", "parts"),
    [
        (b'{"accessToken": "FAKE-TOKEN", "expiresAt": ', [":1: SSO token cache is not valid JSON"]),
        (b"\x00\x00\x00\x00", ["SSO token cache is not valid JSON"]),
        (
            b'{"accessToken": "FAKE-TOKEN", "expiresAt": "soon"}',
            ["SSO token cache has no readable expiresAt"],
        ),
        (b'{"accessToken": "FAKE-TOKEN"}', ["SSO token cache has no readable expiresAt"]),
        (b"\xff\xfe{}", ["SSO token cache is not valid UTF-8 (byte 0xff)"]),
    ],
    ids=["truncated", "nul-bytes", "bad-expiry", "no-expiry", "not-utf8"],
)
def test_corrupt_sso_cache_is_reported_and_kept(aws_home, body: bytes, parts: list[str]) -> None:
    _prepare(aws_home, SSO_CONFIG.encode(), b"")
    cache = aws_home.sso_cache / CORP_CACHE
    cache.write_bytes(body)
    before = snapshot(aws_home.home)
    listed = run_cli(aws_home, "list", "--json")
    assert listed.returncode == 0, out(listed)
    session = json.loads(listed.stdout)["sso_sessions"][0]
    assert session["status"] == "problem" and str(cache) in session["problem"], session
    proc = run_cli(aws_home, "refresh", "s")
    expect(proc, 1, "profile s:", str(cache), *parts, "stsdash sso login")
    assert_untouched(before, aws_home)


def test_zone_less_sso_token_expiry_is_read_as_utc(aws_home) -> None:
    _prepare(aws_home, SSO_CONFIG.encode(), b"")
    cache = aws_home.sso_cache / CORP_CACHE
    cache.write_text(json.dumps({"accessToken": "FAKE-TOKEN", "expiresAt": "2099-01-01T00:00:00"}))
    proc = run_cli(aws_home, "list", "--json")
    assert proc.returncode == 0, out(proc)
    assert json.loads(proc.stdout)["sso_sessions"][0]["token_expires_at"] == "2099-01-01T00:00:00Z"


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "parts"),
    [
        ('[profiles.dev]\ntarget = "x]\\n[default"\n', ["profiles.dev.target", "newlines"]),
        ('[profiles.dev]\ntarget = "[default]"\n', ["profiles.dev.target", "brackets"]),
        ('target_template = "{profile}\\n[default]"\n', ["target_template"]),
        ("refresh_ahead = \n", ["config.toml"]),
    ],
    ids=["target-newline", "target-brackets", "template-newline", "not-toml"],
)
def test_hostile_settings_are_refused(aws_home, toml: str, parts: list[str]) -> None:
    _prepare(aws_home, GOOD_CONFIG.encode(), GOOD_CREDS.encode())
    aws_home.settings.parent.mkdir(parents=True, exist_ok=True)
    aws_home.settings.write_text(toml)
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, "refresh", "dev")
    expect(proc, 2, str(aws_home.settings), *parts)
    assert_untouched(before, aws_home)


# -- B. STS answers: every documented error code, broken bodies, network failures ----------------


@pytest.fixture
def sts_home(aws_home, moto_auth, sts_proxy) -> AwsHome:
    """alice's real (moto) keys; `dev` is a plain role, `mfadev` needs her MFA device; STS = the proxy."""
    seed = moto_auth.seed
    sts_proxy.mfa_serials = {SERIAL}
    aws_home.env["AWS_ENDPOINT_URL_STS"] = sts_proxy.url
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
            """
        )
    )
    aws_home.write_credentials(
        "# alice's long-term keys\n[alice]\n"
        f"aws_access_key_id = {seed.access_key_id}\naws_secret_access_key = {seed.secret_access_key}\n"
    )
    return aws_home


def test_sts_home_works(sts_home, sts_proxy) -> None:
    """The baseline every fault below is measured against: a refresh that succeeds and writes."""
    proc = run_cli(sts_home, "refresh", "dev", "--json")
    assert proc.returncode == 0, out(proc)
    assert json.loads(proc.stdout)[0]["ok"] is True
    assert "[dev-session]" in sts_home.credentials.read_text()
    assert sts_proxy.calls["AssumeRole"] == 1


NOT_AUTHORIZED = (
    "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on "
    "resource: arn:aws:iam::123456789012:role/dev"
)
STS_ERRORS = [
    # (code, message, HTTP status, what the user must be told)
    ("AccessDenied", NOT_AUTHORIZED, 403, ["Check the role's trust policy", "set mfa_serial on the profile"]),
    ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403, ["long-term keys"]),
    ("AccessDenied", "Something new", 403, ["check its IAM policies"]),
    (
        "ExpiredToken",
        "The security token included in the request is expired",
        403,
        ["refresh the source profile", "stale aws_session_token"],
    ),
    (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
        ["update the source profile's keys"],
    ),
    (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
        403,
        ["fix the source profile's aws_secret_access_key"],
    ),
    (
        "SignatureDoesNotMatch",
        "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z "
        "(20260101T003000Z - 15 min.)",
        403,
        ["clock is off by more than 15 minutes", "NTP"],
    ),
    (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
        ["Lower duration_seconds", "MaxSessionDuration"],
    ),
    (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
        ["duration_seconds = 3600 or less"],
    ),
    ("ValidationError", "1 validation error detected", 400, ["check the profile's settings"]),
    (
        "RegionDisabledException",
        "STS is not activated in this region for account:123456789012.",
        403,
        ["activate it in IAM account settings", "another region"],
    ),
    ("Throttling", "Rate exceeded", 400, ["rate-limiting", "wait a minute and retry"]),
    ("InternalFailure", "An internal error occurred", 500, ["retry later"]),
]


@pytest.mark.parametrize(
    ("code", "message", "status", "hints"), STS_ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(STS_ERRORS)]
)
def test_sts_error_codes(sts_home, sts_proxy, code: str, message: str, status: int, hints: list[str]) -> None:
    # Enough copies to outlast every retry of the retryable codes.
    sts_proxy.inject_error(code, message, status=status, count=10, action="AssumeRole")
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev")
    expect(proc, 1, f"FAILED dev: profile dev: AssumeRole failed: {code}: {message}", *hints)
    assert_untouched(before, sts_home)
    retried = code in ("Throttling", "InternalFailure")
    assert (sts_proxy.calls["AssumeRole"] > 1) == retried, sts_proxy.calls


def test_sts_error_json_output_carries_the_code(sts_home, sts_proxy) -> None:
    sts_proxy.inject_error("RegionDisabledException", "STS is not activated in this region.", status=403)
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev", "--json")
    assert proc.returncode == 1, out(proc)
    [result] = json.loads(proc.stdout)
    assert result["ok"] is False
    assert result["error"]["code"] == "RegionDisabledException"
    assert "activate it in IAM account settings" in result["error"]["hint"]
    assert_untouched(before, sts_home)


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        pytest.param(
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
            ["invalid MFA one time pass code", "Pass --code"],
        ),
        (
            "MultiFactorAuthentication failed, unable to validate MFA code. "
            "Please verify your MFA serial number is valid and associated with this user.",
            ["unable to validate MFA code", "check mfa_serial"],
        ),
    ],
    ids=["wrong-or-reused-code", "wrong-serial"],
)
def test_mfa_errors(sts_home, sts_proxy, message: str, parts: list[str]) -> None:
    sts_proxy.inject_error("AccessDenied", message, status=403, count=5)
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "mfadev", "--code", "123456")
    expect(proc, 1, "FAILED mfadev: profile mfadev:", *parts)
    assert_untouched(before, sts_home)


def test_reused_code_is_rejected_by_sts_and_nothing_written(sts_home, sts_proxy) -> None:
    """The proxy enforces single use like STS: the second process with the same code fails cleanly."""
    first = run_cli(sts_home, "refresh", "mfadev", "--code", "654321")
    assert first.returncode == 0, out(first)
    # A new home (no cached MFA session) with the same code, inside its 30 s window.
    sts_home.credentials.write_text(sts_home.credentials.read_text().split("\n[mfadev-session]")[0])
    for path in (sts_home.root / "xdg-data").rglob("*"):
        if path.is_file():
            path.unlink()
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "mfadev", "--code", "654321")
    expect(proc, 1, "FAILED mfadev: profile mfadev:", "invalid MFA one time pass code", "Pass --code")
    assert (proc.stdout + proc.stderr).count("profile mfadev:") == 1, out(proc)  # named once, no detour
    assert_untouched(before, sts_home)


def _assume_role_xml(
    *,
    key: str = "ASIAFAKEEXAMPLE00009",
    secret: str = "fakeSECRETexample",
    token: str = "FAKETOKENexample",
    expiration: str = NEVER,
) -> bytes:
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        "<AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId>"
        "<Arn>arn:aws:sts::123456789012:assumed-role/dev/s</Arn></AssumedRoleUser>"
        f"<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
        f"<SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
        "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
    ).encode()


BROKEN_BODIES = [
    ("truncated", 200, _assume_role_xml()[:180], ["AssumeRole", "XML"]),
    ("empty", 200, b"", ["empty AssumeRole response", "check endpoint_url"]),
    ("html-page", 200, b"<html><body>Sign in to the corporate proxy</body></html>", ["AssumeRole"]),
    ("json-instead-of-xml", 200, b'{"Credentials": {}}', ["XML"]),
    (
        "no-result",
        200,
        b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"/>',
        ["AssumeRole response has no AssumeRoleResult element"],
    ),
    (
        "missing-token",
        200,
        _assume_role_xml().replace(b"<SessionToken>FAKETOKENexample</SessionToken>", b""),
        ["AssumeRole response lacks Credentials/SessionToken"],
    ),
    (
        "zone-less-expiration",
        200,
        _assume_role_xml(expiration="2099-01-01T00:00:00"),
        ["AssumeRole response has an Expiration without a timezone"],
    ),
    (
        "bad-expiration",
        200,
        _assume_role_xml(expiration="tomorrow"),
        ["AssumeRole response has an unreadable Expiration"],
    ),
    (
        "entity-expansion",
        200,
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<AssumeRoleResponse>&lol2;</AssumeRoleResponse>",
        ["AssumeRole"],
    ),
    ("error-truncated", 403, b"<ErrorResponse><Error><Code>AccessDen", ["HTTP 403"]),
    ("error-html-502", 502, b"<html>Bad Gateway</html>", ["HTTP 502"]),
]


@pytest.mark.parametrize(
    ("status", "body", "parts"), [c[1:] for c in BROKEN_BODIES], ids=[c[0] for c in BROKEN_BODIES]
)
def test_broken_sts_bodies(sts_home, sts_proxy, status: int, body: bytes, parts: list[str]) -> None:
    sts_proxy.inject_raw(body, status=status, count=10, action="AssumeRole")
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev")
    expect(proc, 1, "FAILED dev: profile dev:", *parts)
    assert_untouched(before, sts_home)


UNUSABLE = "AssumeRole response is unusable: "
INJECTIONS = [
    # Control characters are refused where the answer is read; what gets past that, the writer refuses.
    (
        "token-newline",
        {"token": "FAKE\n[default]\naws_access_key_id = ASIAFAKEEXAMPLE00666"},
        UNUSABLE + "the session token contains a control character",
    ),
    ("token-cr", {"token": "FAKE\r[evil]"}, UNUSABLE + "the session token contains a control character"),
    ("key-newline", {"key": "ASIAFAKE\n[evil]"}, UNUSABLE + "the access key id contains a control character"),
    (
        "secret-space-bracket",
        {"secret": "x [evil] = y"},
        "refusing to write [dev-session]: the value for aws_secret_access_key contains whitespace",
    ),
    (
        "secret-nonascii",
        {"secret": "fake\u2028[evil]"},  # U+2028 LINE SEPARATOR
        UNUSABLE + "the secret access key contains a control character",
    ),
]


@pytest.mark.parametrize(("fields", "reason"), [c[1:] for c in INJECTIONS], ids=[c[0] for c in INJECTIONS])
def test_section_injection_from_sts_response_is_refused(
    sts_home, sts_proxy, fields: dict, reason: str
) -> None:
    from xml.sax.saxutils import escape

    body = _assume_role_xml(**{k: escape(v, {"\r": "&#13;"}) for k, v in fields.items()})
    sts_proxy.inject_raw(body, action="AssumeRole")
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev")
    expect(proc, 1, "FAILED dev: profile dev:", reason)
    assert_untouched(before, sts_home)


def _credentials_sections(aws_home: AwsHome) -> list[str]:
    import configparser

    parser = configparser.RawConfigParser()
    parser.read_string(aws_home.credentials.read_text())
    return parser.sections()


@pytest.mark.parametrize(
    ("extra", "settings"),
    [
        ("role_session_name = ok\n  [evil]\n  aws_access_key_id = ASIAFAKEEXAMPLE00666\n", ""),
        ("role_session_name = a]b[c\n", ""),
        ("", '[profiles.dev]\nrole_session_name = "x\\n[evil]"\n'),
        ("", '[profiles.dev]\nsession_tags = { team = "a\\n[evil]\\naws_access_key_id = x" }\n'),
        ("", '[profiles.dev]\nsession_tags = { "k]\\n[evil" = "v" }\ntransitive_tag_keys = ["k]\\n[evil"]\n'),
    ],
    ids=[
        "session-name-continuation",
        "session-name-brackets",
        "settings-session-name",
        "tag-value",
        "tag-key",
    ],
)
def test_injection_via_session_name_or_tags_never_creates_a_section(
    sts_home, sts_proxy, extra: str, settings: str
) -> None:
    config = sts_home.config.read_text().replace("[profile mfadev]", f"{extra}\n[profile mfadev]", 1)
    sts_home.config.write_text(
        config.replace("region = us-east-1\n" + extra, extra + "region = us-east-1\n", 1)
    )
    if settings:
        sts_home.settings.parent.mkdir(parents=True, exist_ok=True)
        sts_home.settings.write_text(settings)
    before_sections = _credentials_sections(sts_home)
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev")
    text = out(proc)
    assert "Traceback" not in text, text
    after_sections = _credentials_sections(sts_home)
    assert "evil" not in sts_home.credentials.read_text()
    if proc.returncode == 0:
        assert after_sections == [*before_sections, "dev-session"]
        sent = sts_proxy.params_of("AssumeRole")[-1]
        assert re.fullmatch(r"[\w+=,.@-]{2,64}", sent["RoleSessionName"]), sent
    else:
        assert proc.returncode in (1, 2), text
        assert "profile dev" in text or str(sts_home.settings) in text, text
        assert_untouched(before, sts_home)


BRACKET_PROFILE = """
[profile x]y]
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = alice
region = us-east-1
"""


def test_profile_name_with_brackets_never_creates_a_section(sts_home, sts_proxy) -> None:
    sts_home.config.write_text(sts_home.config.read_text() + BRACKET_PROFILE)
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "x]y")
    expect(
        proc,
        2,
        "stsdash: profile x]y: target [x]y-session] cannot be written: the section name contains `[` or `]`",
        "choose another target in settings",
    )
    assert sum(sts_proxy.calls.values()) == 0, "no STS call (and no MFA code) for an unwritable target"
    assert_untouched(before, sts_home)


def test_unwritable_target_is_shown_as_a_problem(sts_home) -> None:
    """`stsdash list` should say up front what `refresh` will refuse."""
    sts_home.config.write_text(sts_home.config.read_text() + BRACKET_PROFILE)
    listed = run_cli(sts_home, "list", "--json")
    assert listed.returncode == 0, out(listed)
    row = next(p for p in json.loads(listed.stdout)["profiles"] if p["name"] == "x]y")
    assert row["status"] == "problem" and "[x]y-session]" in (row["problem"] or ""), row


def test_connection_refused(sts_home) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the child runs: nothing listens there
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev", AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{port}")
    expect(
        proc,
        1,
        f"FAILED dev: profile dev: AssumeRole: cannot reach STS at http://127.0.0.1:{port}/: "
        "connection refused",
        "Nothing is listening there",
    )
    assert_untouched(before, sts_home)


FAST_TIMEOUT = """
    from stsdash.providers.sts import StsClient
    StsClient.__init__.__kwdefaults__.update(timeout=0.5, max_attempts=2)
"""


def test_timeout(sts_home, sts_proxy) -> None:
    sts_proxy.latency = 3.0
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev", patch=FAST_TIMEOUT)
    expect(
        proc,
        1,
        "FAILED dev: profile dev: AssumeRole: cannot reach STS at",
        "timed out waiting for the answer",
        "retry later",
    )
    assert_untouched(before, sts_home)


def test_dropped_connection(sts_home, sts_proxy) -> None:
    sts_proxy.inject_drop(count=10, action="AssumeRole")
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev")
    expect(proc, 1, "FAILED dev: profile dev: AssumeRole: cannot reach STS at", "connection reset")
    assert_untouched(before, sts_home)


# -- C. the disk: read-only home, full disk, unreadable credentials while writing ----------------


def _fail_on_credentials(errno_name: str, where: str) -> str:
    """Child-process patch: os.`where` (replace or fsync) fails with `errno_name` for the credentials file."""
    return f"""
        import errno, os
        _err = errno.{errno_name}
        def _is_ours(arg):
            if isinstance(arg, int):
                try:
                    arg = os.readlink(f"/proc/self/fd/{{arg}}")
                except OSError:
                    return False
            return "credentials" in os.path.basename(str(arg))
        _orig = os.{where}
        def _failing(*args, **kwargs):
            if any(_is_ours(a) for a in args[:2]):
                raise OSError(_err, os.strerror(_err))
            return _orig(*args, **kwargs)
        os.{where} = _failing
    """


@pytest.mark.parametrize(
    ("errno_name", "where", "reason"),
    [
        ("EROFS", "replace", "Read-only file system"),
        ("ENOSPC", "fsync", "No space left on device"),
        ("EDQUOT", "fsync", "Disk quota exceeded"),
        ("EIO", "replace", "Input/output error"),
    ],
)
def test_write_failure_leaves_the_file_unchanged(sts_home, errno_name: str, where: str, reason: str) -> None:
    if not Path("/proc/self/fd").exists():
        pytest.skip("needs /proc to map a file descriptor to its path")
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev", patch=_fail_on_credentials(errno_name, where))
    expect(
        proc,
        1,
        f"could not write {sts_home.credentials}: {reason}; the file is unchanged",
        "Check free disk space and permissions",
    )
    assert_untouched(before, sts_home)


def test_read_only_aws_directory(sts_home) -> None:
    """A real read-only directory (non-root), else EROFS from the file system on the temp file."""
    aws_dir = sts_home.credentials.parent
    before = snapshot(sts_home.home)
    if os.geteuid() != 0:
        aws_dir.chmod(0o500)
        patch = ""
    else:
        patch = """
            import errno, os, tempfile
            _mkstemp = tempfile.mkstemp
            def mkstemp(*args, **kwargs):
                if ".credentials" in str(kwargs.get("prefix", "")):
                    raise OSError(errno.EROFS, os.strerror(errno.EROFS))
                return _mkstemp(*args, **kwargs)
            tempfile.mkstemp = mkstemp
        """
    try:
        proc = run_cli(sts_home, "refresh", "dev", patch=patch)
    finally:
        aws_dir.chmod(0o700)
    expect(proc, 1, f"could not write {sts_home.credentials}", "the file is unchanged", "permissions")
    assert_untouched(before, sts_home)


# -- D. SSO-OIDC and portal answers (a scripted JSON server speaking the documented wire format) -----


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json_reply(status: int, doc: object, error_type: str | None = None) -> Reply:
    headers = {"x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/"} if error_type else {}
    return Reply(status, json.dumps(doc).encode(), headers)


class ScriptedAws:
    """SSO-OIDC + portal on 127.0.0.1: queued replies per path, else a well-formed success."""

    def __init__(self) -> None:
        self.queue: dict[str, list[Reply]] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                reply = owner.take(path)
                if reply is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def push(self, path: str, reply: Reply | None, count: int = 1) -> None:
        with self._lock:
            self.queue.setdefault(path, []).extend([reply] * count)  # type: ignore[list-item]

    def take(self, path: str) -> Reply | None:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            if self.queue.get(path):
                return self.queue[path].pop(0)
        return self.default(path)

    def default(self, path: str) -> Reply:
        now = int(datetime.now(UTC).timestamp())
        docs: dict[str, object] = {
            "/client/register": {
                "clientId": "FAKE-CLIENT-ID",
                "clientSecret": "FAKE-CLIENT-SECRET-EXAMPLE",
                "clientIdIssuedAt": now,
                "clientSecretExpiresAt": now + 90 * 86400,
            },
            "/device_authorization": {
                "deviceCode": "FAKE-DEVICE-CODE",
                "userCode": "FAKE-CODE",
                "verificationUri": self.url + "/verify",
                "verificationUriComplete": self.url + "/verify?code=FAKE-CODE",
                "expiresIn": 600,
                "interval": 1,
            },
            "/token": {"accessToken": "FAKE-ACCESS-TOKEN", "tokenType": "Bearer", "expiresIn": 28800},
            "/federation/credentials": {
                "roleCredentials": {
                    "accessKeyId": "ASIAFAKEEXAMPLE00042",
                    "secretAccessKey": "fakeSECRETexampleSSO",
                    "sessionToken": "FAKETOKENexampleSSO",
                    "expiration": (now + 3600) * 1000,
                }
            },
            "/assignment/accounts": {"accountList": [{"accountId": "123456789012", "accountName": "dev"}]},
            "/assignment/roles": {"roleList": [{"roleName": "ReadOnly", "accountId": "123456789012"}]},
            "/logout": {},
        }
        return _json_reply(200, docs.get(path, {}))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedAws]:
    server = ScriptedAws()
    yield server
    server.close()


def _sso_token(expires_in: timedelta, *, refreshable: bool = False) -> dict[str, object]:
    now = datetime.now(UTC)
    doc: dict[str, object] = {
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "FAKE-ACCESS-TOKEN",
        "expiresAt": (now + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if refreshable:
        doc |= {
            "clientId": "FAKE-CLIENT-ID",
            "clientSecret": "FAKE-CLIENT-SECRET-EXAMPLE",
            "registrationExpiresAt": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "refreshToken": "FAKE-REFRESH-TOKEN",
        }
    return doc


@pytest.fixture
def sso_home(aws_home, scripted) -> AwsHome:
    """Profile `s` of sso-session `corp`, logged in (token valid for 8 h), endpoints = `scripted`."""
    _prepare(aws_home, SSO_CONFIG.encode(), b"")
    aws_home.env["AWS_ENDPOINT_URL_SSO"] = scripted.url
    aws_home.env["AWS_ENDPOINT_URL_SSO_OIDC"] = scripted.url
    (aws_home.sso_cache / CORP_CACHE).write_text(json.dumps(_sso_token(timedelta(hours=8))))
    return aws_home


def test_sso_home_works(sso_home, scripted) -> None:
    proc = run_cli(sso_home, "refresh", "s", "--json")
    assert proc.returncode == 0, out(proc)
    assert "[s-session]" in sso_home.credentials.read_text()
    assert scripted.hits == {"/federation/credentials": 1}


CREDS_PATH = "/federation/credentials"
PORTAL_ERRORS = [
    (
        "unauthorized",
        [_json_reply(401, {"message": "Session token not found or invalid"}, "UnauthorizedException")],
        [
            "The SSO session associated with this profile has expired or is otherwise invalid",
            "stsdash sso login corp",
        ],
    ),
    (
        "invalid-request",
        [_json_reply(400, {"message": "Invalid account id"}, "InvalidRequestException")],
        [
            "SSO portal /federation/credentials failed: InvalidRequestException (Invalid account id)",
            "sso_account_id",
        ],
    ),
    (
        "not-found",
        [_json_reply(404, {"message": "No access"}, "ResourceNotFoundException")],
        ["SSO portal /federation/credentials failed: ResourceNotFoundException (No access)", "sso_role_name"],
    ),
    (
        "throttled",
        [_json_reply(429, {"message": "Too many requests"}, "TooManyRequestsException")] * 12,
        ["SSO portal /federation/credentials: still throttled after", "attempts"],
    ),
    (
        "truncated-json",
        [Reply(200, b'{"roleCredentials": {"accessKeyId": "ASIA')],
        ["SSO portal /federation/credentials returned invalid JSON"],
    ),
    ("json-array", [Reply(200, b"[]")], ["GetRoleCredentials returned an incomplete answer"]),
    (
        "expiration-not-epoch",
        [
            _json_reply(
                200,
                {
                    "roleCredentials": {
                        "accessKeyId": "ASIAFAKEEXAMPLE00043",
                        "secretAccessKey": "x",
                        "sessionToken": "y",
                        "expiration": "soon",
                    }
                },
            )
        ],
        ["GetRoleCredentials returned an incomplete answer"],
    ),
    (
        "html-error-page",
        [Reply(502, b"<html>Bad gateway</html>")] * 12,
        ["SSO portal /federation/credentials"],
    ),
    (
        "secret-newline",
        [
            _json_reply(
                200,
                {
                    "roleCredentials": {
                        "accessKeyId": "ASIAFAKEEXAMPLE00044",
                        "secretAccessKey": "x\n[default]\naws_access_key_id = y",
                        "sessionToken": "FAKETOKEN",
                        "expiration": 4102444800000,
                    }
                },
            )
        ],
        ["GetRoleCredentials returned an incomplete answer", "secretAccessKey contains control"],
    ),
    ("dropped", [None] * 12, ["cannot reach the SSO portal"]),
]


@pytest.mark.parametrize(
    ("replies", "parts"), [c[1:] for c in PORTAL_ERRORS], ids=[c[0] for c in PORTAL_ERRORS]
)
def test_sso_portal_errors(sso_home, scripted, replies: list[Reply | None], parts: list[str]) -> None:
    for reply in replies:
        scripted.push(CREDS_PATH, reply)
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "refresh", "s")
    expect(proc, 1, "FAILED s: profile s:", *parts)
    assert_untouched(before, sso_home)


def test_sso_portal_connection_refused(sso_home) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "refresh", "s", AWS_ENDPOINT_URL_SSO=f"http://127.0.0.1:{port}")
    expect(proc, 1, "FAILED s: profile s:", f"cannot reach the SSO portal http://127.0.0.1:{port}")
    assert_untouched(before, sso_home)


def test_sso_sync_with_truncated_account_list(sso_home, scripted) -> None:
    scripted.push("/assignment/accounts", Reply(200, b'{"accountList": [{"accountId": "1234'))
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "sso", "sync", "corp", "--yes")
    expect(proc, 1, "SSO portal /assignment/accounts returned invalid JSON")
    assert_untouched(before, sso_home)


OIDC_CODES = [
    # (path, status, OAuth error, header exception name, what the user must be told)
    ("/client/register", 400, "invalid_request", "InvalidRequestException", []),
    ("/client/register", 400, "invalid_scope", "InvalidScopeException", ["sso_registration_scopes"]),
    ("/client/register", 400, "invalid_client_metadata", "InvalidClientMetadataException", []),
    ("/client/register", 500, "server_error", "InternalServerException", []),
    ("/device_authorization", 401, "invalid_client", "InvalidClientException", ["log in again to register"]),
    ("/device_authorization", 400, "unauthorized_client", "UnauthorizedClientException", []),
    (
        "/token",
        400,
        "expired_token",
        "ExpiredTokenException",
        ["the device code or authorization code expired"],
    ),
    ("/token", 400, "access_denied", "AccessDeniedException", ["the sign-in was denied in the browser"]),
    (
        "/token",
        400,
        "invalid_grant",
        "InvalidGrantException",
        ["the authorization was already used or is invalid"],
    ),
    ("/token", 400, "unsupported_grant_type", "UnsupportedGrantTypeException", []),
]


@pytest.mark.parametrize(
    ("path", "status", "error", "exception", "hints"),
    OIDC_CODES,
    ids=[f"{c[0][1:]}-{c[2]}" for c in OIDC_CODES],
)
def test_sso_oidc_errors_during_login(
    sso_home, scripted, path: str, status: int, error: str, exception: str, hints: list[str]
) -> None:
    (sso_home.sso_cache / CORP_CACHE).unlink()
    reply = _json_reply(status, {"error": error, "error_description": f"FAKE {error}"}, exception)
    scripted.push(path, reply, count=10)  # outlasts retries of the 5xx
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "sso", "login", "corp", "--device-code", "--no-browser", timeout=60)
    if path == "/token" and hints:  # the login flow words the codes it knows for people
        expect(proc, 1, "stsdash: SSO login failed:", *hints, "Run the login again.")
    else:
        expect(proc, 1, f"SSO-OIDC {path} failed: {error} (FAKE {error})", *hints)
    after = snapshot(sso_home.home)
    assert not (sso_home.sso_cache / CORP_CACHE).exists(), "no token may be cached after a failed login"
    if path == "/client/register":
        assert_untouched(before, sso_home)
    else:  # the client registration may be cached, as botocore does; nothing else may change
        changed = {k for k in after if before.get(k) != after[k]}
        assert all(k.startswith(".aws/sso/cache/") for k in changed), changed


@pytest.mark.parametrize(
    "body",
    [b'{"accessToken": "FAKE', b"[]", b'{"tokenType": "Bearer"}'],
    ids=["truncated", "array", "no-access-token"],
)
def test_sso_login_with_malformed_token_answer(sso_home, scripted, body: bytes) -> None:
    (sso_home.sso_cache / CORP_CACHE).unlink()
    scripted.push("/token", Reply(200, body), count=10)
    proc = run_cli(sso_home, "sso", "login", "corp", "--device-code", "--no-browser", timeout=60)
    expect(proc, 1, "/token")
    assert not (sso_home.sso_cache / CORP_CACHE).exists()


def test_sso_refresh_token_rejected_keeps_the_valid_token(sso_home, scripted) -> None:
    """invalid_grant on the refresh-ahead: the current token is still used (botocore does the same)."""
    cache = sso_home.sso_cache / CORP_CACHE
    cache.write_text(json.dumps(_sso_token(timedelta(minutes=5), refreshable=True)))
    scripted.push("/token", _json_reply(400, {"error": "invalid_grant"}, "InvalidGrantException"))
    before_cache = cache.read_bytes()
    proc = run_cli(sso_home, "refresh", "s")
    assert proc.returncode == 0, out(proc)
    assert cache.read_bytes() == before_cache
    assert scripted.hits.get("/token") == 1


def test_sso_expired_token_and_refresh_rejected_asks_for_login(sso_home, scripted) -> None:
    cache = sso_home.sso_cache / CORP_CACHE
    cache.write_text(json.dumps(_sso_token(timedelta(minutes=-5), refreshable=True)))
    scripted.push("/token", _json_reply(400, {"error": "invalid_grant"}, "InvalidGrantException"))
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "refresh", "s")
    expect(
        proc, 1, "FAILED s: profile s:", "could not be refreshed (invalid_grant)", "stsdash sso login corp"
    )
    assert_untouched(before, sso_home)
