"""Garbage is not success: every field from every server and program is checked against its documented
type and range; a bad answer fails clearly, naming the server, with nothing written and no traceback.

Part of the hostile-input corpus (see tests/test_faults_corpus.py for the harness).
"""

from __future__ import annotations

import json
import sys

import pytest

from tests import test_faults_corpus as corpus
from tests.support.awsenv import AwsHome
from tests.test_faults_corpus import (
    CORP_CACHE,
    Reply,
    _assume_role_xml,
    _json_reply,
    assert_untouched,
    expect,
    run_cli,
    snapshot,
)

# The corpus's fixtures: STS behind the proxy, and the scripted SSO-OIDC + portal server.
sts_home = corpus.sts_home
scripted = corpus.scripted
sso_home = corpus.sso_home

DEEP = b"[" * 200000 + b"]" * 200000
DEEP_OBJECT = b'{"a":' * 100000 + b"1" + b"}" * 100000


# -- credential_process -------------------------------------------------------------------------


def _process_home(aws_home: AwsHome, output: bytes) -> None:
    script = aws_home.root / "emit.py"
    (aws_home.root / "out.bin").write_bytes(output)
    script.write_text(
        "import sys\nsys.stdout.buffer.write(open(sys.argv[1], 'rb').read())\n"
    )
    aws_home.write_config(
        f"[profile p]\ncredential_process = {sys.executable} {script} {aws_home.root / 'out.bin'}\n"
        "\n[profile viaproc]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = p\n"
        "region = us-east-1\n"
    )


def _doc(**fields: object) -> bytes:
    base: dict[str, object] = {
        "Version": 1,
        "AccessKeyId": "ASIAFAKEEXAMPLE00101",
        "SecretAccessKey": "FAKEsecretEXAMPLE",
        "SessionToken": "FAKEtokenEXAMPLE",
        "Expiration": "2099-01-01T00:00:00Z",
    }
    base.update(fields)
    return json.dumps(base).encode()


PROCESS_GARBAGE = [
    ("deep-array", DEEP, "credential_process output is JSON nested too deeply"),
    ("deep-object", DEEP_OBJECT, "credential_process output is JSON nested too deeply"),
    ("secret-as-list", _doc(SecretAccessKey=["a", "b"]), "lacks SecretAccessKey (or it is not a string)"),
    ("key-as-object", _doc(AccessKeyId={}), "lacks AccessKeyId (or it is not a string)"),
    ("token-as-number", _doc(SessionToken=5), "SessionToken that is not a string"),
    ("expired", _doc(Expiration="2000-01-01T00:00:00Z"), "the credentials expired already"),
    ("expiration-number", _doc(Expiration=946684800), "Expiration that is not a string"),
    ("token-newline", _doc(SessionToken="FAKEtokenLEAKME\n"), "the session token contains a control"),
    ("key-huge", _doc(AccessKeyId="A" * 100000), "the access key id is 100000 characters long"),
    ("secret-escape", _doc(SecretAccessKey="FAKE\x1b]52;c;AAAA\x07"), "contains a control character"),
]


@pytest.mark.parametrize(("output", "part"), [c[1:] for c in PROCESS_GARBAGE],
                         ids=[c[0] for c in PROCESS_GARBAGE])
def test_credential_process_garbage(aws_home, output: bytes, part: str) -> None:
    _process_home(aws_home, output)
    before = snapshot(aws_home.home)
    proc = run_cli(aws_home, "refresh", "viaproc")
    expect(proc, 1, "credential_process", part)
    assert "LEAKME" not in proc.stdout + proc.stderr
    assert_untouched(before, aws_home)


# -- STS -----------------------------------------------------------------------------------------

UTF16_ENTITY = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY k "ASIAFAKEEXAMPLE00666">]>'
    + _assume_role_xml(key="&k;").decode()
).encode("utf-16")

STS_GARBAGE = [
    ("expired", _assume_role_xml(expiration="2000-01-01T00:00:00Z"), "the credentials expired already"),
    ("utf16-doctype-entity", UTF16_ENTITY, "contains a DOCTYPE/ENTITY declaration, refused"),
    (
        "utf8-bom-doctype",
        b"\xef\xbb\xbf<!DOCTYPE r [<!ENTITY k 'ASIAFAKEEXAMPLE00666'>]>" + _assume_role_xml(key="&k;"),
        "contains a DOCTYPE/ENTITY declaration, refused",
    ),
    (
        "external-entity",
        b'<!DOCTYPE r [<!ENTITY k SYSTEM "file:///etc/hostname">]>' + _assume_role_xml(key="&k;"),
        "contains a DOCTYPE/ENTITY declaration, refused",
    ),
    ("key-huge", _assume_role_xml(key="A" * 5000), "the access key id is 5000 characters long"),
    ("deep-xml", b"<a>" * 100000 + b"</a>" * 100000, "AssumeRole"),
]


@pytest.mark.parametrize(("body", "part"), [c[1:] for c in STS_GARBAGE], ids=[c[0] for c in STS_GARBAGE])
def test_sts_garbage(sts_home, sts_proxy, body: bytes, part: str) -> None:
    sts_proxy.inject_raw(body, status=200, count=10, action="AssumeRole")
    before = snapshot(sts_home.home)
    proc = run_cli(sts_home, "refresh", "dev")
    expect(proc, 1, "FAILED dev: profile dev:", part)
    assert "ASIAFAKEEXAMPLE00666" not in sts_home.credentials.read_text()
    assert_untouched(before, sts_home)


# -- SSO portal ----------------------------------------------------------------------------------


def _role_creds(**fields: object) -> Reply:
    doc: dict[str, object] = {
        "accessKeyId": "ASIAFAKEEXAMPLE00042",
        "secretAccessKey": "fakeSECRETexampleSSO",
        "sessionToken": "FAKETOKENexampleSSO",
        "expiration": 4102444800000,
    }
    doc.update(fields)
    return _json_reply(200, {"roleCredentials": doc})


PORTAL_GARBAGE = [
    ("expiration-negative", _role_creds(expiration=-5), "expiration is -5, outside"),
    ("expiration-past", _role_creds(expiration=946684800000), "the credentials expired already"),
    ("expiration-string", _role_creds(expiration="soon"), "expiration is a JSON string, not a number"),
    ("expiration-nan", Reply(200, b'{"roleCredentials": {"expiration": NaN}}'), "not a finite number"),
    ("secret-as-list", _role_creds(secretAccessKey=["a"]), "secretAccessKey is a JSON array, not a string"),
    ("token-as-object", _role_creds(sessionToken={}), "sessionToken is a JSON object, not a string"),
    ("role-as-list", _json_reply(200, {"roleCredentials": []}), "roleCredentials is a JSON array"),
    ("deep-json", Reply(200, DEEP), "JSON nested too deeply"),
]


@pytest.mark.parametrize(("reply", "part"), [c[1:] for c in PORTAL_GARBAGE],
                         ids=[c[0] for c in PORTAL_GARBAGE])
def test_sso_role_credentials_garbage(sso_home, scripted, reply: Reply, part: str) -> None:
    scripted.push("/federation/credentials", reply, count=10)
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "refresh", "s")
    expect(proc, 1, "FAILED s: profile s:", part)
    assert_untouched(before, sso_home)


# Types and sizes fail here; line breaks, 12-digit ids and IAM role names are the config block
# writer's refusals (tests/test_config_injection.py).
SYNC_GARBAGE = [
    ("account-list-as-dict", "/assignment/accounts", _json_reply(200, {"accountList": {"a": 1}}),
     "accountList is a JSON object, not a list"),
    ("account-id-as-list", "/assignment/accounts",
     _json_reply(200, {"accountList": [{"accountId": ["123456789012"]}]}), "accountId is a JSON array"),
    ("account-id-huge", "/assignment/accounts",
     _json_reply(200, {"accountList": [{"accountId": "1" * 100000}]}), "accountId has 100000 characters"),
    ("role-name-as-number", "/assignment/roles",
     _json_reply(200, {"roleList": [{"roleName": 7, "accountId": "123456789012"}]}),
     "roleName is a JSON number, not a string"),
    ("role-list-as-string", "/assignment/roles", _json_reply(200, {"roleList": "Admin"}),
     "roleList is a JSON string, not a list"),
    ("deep-json", "/assignment/accounts", Reply(200, DEEP), "JSON nested too deeply"),
]


@pytest.mark.parametrize(("path", "reply", "part"), [c[1:] for c in SYNC_GARBAGE],
                         ids=[c[0] for c in SYNC_GARBAGE])
def test_sso_sync_garbage(sso_home, scripted, path: str, reply: Reply, part: str) -> None:
    scripted.push(path, reply, count=10)
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "sso", "sync", "corp", "--yes")
    expect(proc, 1, part)
    assert_untouched(before, sso_home)


def test_sso_sync_endless_next_tokens_stop(sso_home, scripted) -> None:
    """A portal that always has another page: stopped after a bounded number, nothing written."""
    pages = [
        _json_reply(200, {"accountList": [], "nextToken": f"FAKE-PAGE-{n}"}) for n in range(1001)
    ]
    for page in pages:
        scripted.push("/assignment/accounts", page)
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "sso", "sync", "corp", "--yes", timeout=300)
    expect(proc, 1, "kept sending nextToken: stopped after 1000 pages")
    assert_untouched(before, sso_home)


# -- SSO-OIDC ------------------------------------------------------------------------------------

OIDC_GARBAGE = [
    ("/token", {"accessToken": "FAKE", "expiresIn": -100}, "expiresIn is -100, outside"),
    ("/token", {"accessToken": {}, "expiresIn": 3600}, "accessToken is a JSON object, not a string"),
    ("/token", {"accessToken": "FAKE", "expiresIn": "3600"}, "expiresIn is a JSON string, not a number"),
    ("/token", {"accessToken": "FAKE\x1b]52;c;AAAA\x07", "expiresIn": 3600}, "contains control characters"),
    ("/device_authorization", {"deviceCode": "D", "verificationUri": "https://x/", "interval": -1},
     "interval is -1, outside 1 to 60"),
    ("/device_authorization", {"deviceCode": "D", "verificationUri": "https://x/", "interval": 1e-6},
     "interval is not a whole number"),
    ("/device_authorization", {"deviceCode": "D", "verificationUri": "https://x/", "expiresIn": "x"},
     "expiresIn is a JSON string, not a number"),
    ("/device_authorization", {"deviceCode": "D", "verificationUri": "javascript:alert(1)"},
     "verificationUri is not an http(s) URL"),
    ("/device_authorization", {"deviceCode": "D", "verificationUri": "https://x/", "userCode": "\x1b[2J"},
     "userCode contains control characters"),
    ("/client/register", {"clientId": "C", "clientSecret": ["S"], "clientSecretExpiresAt": 4102444800},
     "clientSecret is a JSON array, not a string"),
    ("/client/register", {"clientId": "C", "clientSecret": "S", "clientSecretExpiresAt": -5},
     "clientSecretExpiresAt is -5, outside"),
]


@pytest.mark.parametrize(("path", "doc", "part"), OIDC_GARBAGE, ids=[f"{c[0][1:]}-{n}" for n, c in
                                                                      enumerate(OIDC_GARBAGE)])
def test_sso_login_garbage(sso_home, scripted, path: str, doc: dict, part: str) -> None:
    (sso_home.sso_cache / CORP_CACHE).unlink()
    scripted.push(path, _json_reply(200, doc), count=10)
    before = snapshot(sso_home.home)
    proc = run_cli(sso_home, "sso", "login", "corp", "--device-code", "--no-browser", timeout=60)
    expect(proc, 1, f"SSO-OIDC {path} at {scripted.url} sent a bad answer", part)
    assert "\x1b" not in proc.stdout + proc.stderr
    assert not (sso_home.sso_cache / CORP_CACHE).exists()
    changed = {k for k, v in snapshot(sso_home.home).items() if before.get(k) != v}
    assert all(k.startswith(".aws/sso/cache/") for k in changed), changed


def test_oidc_nan_interval_is_refused(sso_home, scripted) -> None:
    (sso_home.sso_cache / CORP_CACHE).unlink()
    body = b'{"deviceCode": "D", "verificationUri": "https://x/", "interval": NaN}'
    scripted.push("/device_authorization", Reply(200, body), count=10)
    proc = run_cli(sso_home, "sso", "login", "corp", "--device-code", "--no-browser", timeout=60)
    expect(proc, 1, "interval is not a finite number")
    assert scripted.hits.get("/token", 0) == 0  # not one poll


def test_deep_sso_cache_is_a_message(aws_home, scripted) -> None:
    from tests.test_faults_corpus import SSO_CONFIG, _prepare

    _prepare(aws_home, SSO_CONFIG.encode(), b"")
    (aws_home.sso_cache / CORP_CACHE).write_bytes(DEEP)
    before = snapshot(aws_home.home)
    for command in (["list"], ["refresh", "s"]):
        proc = run_cli(aws_home, *command, AWS_ENDPOINT_URL_SSO=scripted.url)
        text = proc.stdout + proc.stderr
        assert "Traceback" not in text and "RecursionError" not in text, text
        assert "SSO token cache" in text, text
    assert_untouched(before, aws_home)



