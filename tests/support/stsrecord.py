"""Record every STS call botocore and stsdash make, answered locally with canned STS XML.

botocore: a `before-send` handler answers each request. stsdash: a transport adapter mounted on the
HTTP session of the refresh does the same. Each call is (action, URL, SigV4 signing region); the
access key id that signed it is kept beside (`signed_with`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from requests.adapters import BaseAdapter

from stsdash.engine import RefreshEngine
from stsdash.settings import Settings

__all__ = ["ROLE", "SERIAL", "USER_KEYS", "botocore_calls", "signed_with", "stsdash_calls"]

signed_with: list[str] = []  # access key ids of the recorded calls, in order (both recorders append)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/user"
USER_KEYS = "[user]\naws_access_key_id = AKIDUSEREXAMPLE\naws_secret_access_key = FAKE-user-secret\n"

_CREDS = (
    "<Credentials><AccessKeyId>ASIAFAKEEXAMPLE</AccessKeyId><SecretAccessKey>FAKE-secret</SecretAccessKey>"
    "<SessionToken>FAKE-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
)
_USER = (
    f"<AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId><Arn>arn:aws:sts::{ACCOUNT}:assumed-role/r/s"
    "</Arn></AssumedRoleUser>"
)
XML = {
    "AssumeRole": _CREDS + _USER,
    "AssumeRoleWithWebIdentity": _CREDS + _USER,
    "GetSessionToken": _CREDS,
    "GetCallerIdentity": f"<Arn>arn:aws:sts::{ACCOUNT}:assumed-role/r/s</Arn><UserId>AROAFAKE:s</UserId>"
    f"<Account>{ACCOUNT}</Account>",
}


def _answer(action: str) -> bytes:
    ns = "https://sts.amazonaws.com/doc/2011-06-15/"
    return (
        f'<{action}Response xmlns="{ns}"><{action}Result>{XML[action]}</{action}Result>'
        f"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
    ).encode()


def _call(body: bytes | str | None, url: str, authorization: str | bytes | None) -> tuple[str, str, str]:
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    action = re.search(r"Action=(\w+)", text)
    auth = authorization.decode() if isinstance(authorization, bytes) else (authorization or "")
    scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/sts/aws4_request", auth)
    key = re.search(r"Credential=([^/]+)/", auth)
    signed_with.append(key.group(1) if key else "")
    return (action.group(1) if action else "?", url, scope.group(1) if scope else "unsigned")


def botocore_calls(profile: str) -> list[tuple[str, str, str]]:
    """What botocore calls to resolve `profile` and then run GetCallerIdentity with it."""
    import botocore.session
    from botocore.awsrequest import AWSResponse

    calls: list[tuple[str, str, str]] = []

    class Raw:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def stream(self, **_: object) -> Iterator[bytes]:
            yield self.data

    def handler(request, **_):  # type: ignore[no-untyped-def]
        call = _call(request.body, request.url, request.headers.get("Authorization"))
        calls.append(call)
        return AWSResponse(request.url, 200, {}, Raw(_answer(call[0])))

    session = botocore.session.Session(profile=profile)
    session.register("before-send.sts", handler)
    provider = session.get_component("credential_provider").get_provider("assume-role")
    provider._prompter = lambda *_: "123456"  # botocore asks on the terminal otherwise
    session.create_client("sts").get_caller_identity()
    return [c for c in calls if c[0] != "GetCallerIdentity"]


class Recorder(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, str]] = []

    def send(self, request, **_):  # type: ignore[no-untyped-def,override]
        call = _call(request.body, request.url, request.headers.get("Authorization"))
        self.calls.append(call)
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response._content = _answer(call[0])
        return response

    def close(self) -> None:
        pass


def stsdash_calls(profile: str | list[str], monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """The calls of one `RefreshEngine.refresh()` of `profile` (or of several profiles at once)."""
    from stsdash.providers import http

    recorder = Recorder()
    real = http.make_session

    def recording_session(**kwargs: object) -> requests.Session:
        session = real(**kwargs)  # type: ignore[arg-type]
        session.mount("https://", recorder)
        session.mount("http://", recorder)
        return session

    monkeypatch.setattr(http, "make_session", recording_session)
    names = [profile] if isinstance(profile, str) else profile
    engine = RefreshEngine(settings=Settings(max_concurrency=1))  # one call at a time: a stable order
    results = engine.refresh(names, code_provider=lambda _r: "123456")
    assert all(r.ok for r in results), [r.error for r in results]
    return recorder.calls


