"""SigV4 and the form body against the reference known-answer vector and botocore itself."""

from __future__ import annotations

import hashlib

import pytest
import requests
from requests_aws4auth import AWS4Auth

from stsdash.creds import Credentials
from stsdash.providers.sts import CONTENT_TYPE, StsSigV4Auth, encode_form
from stsdash_demo.sigv4 import parse_authorization, sigv4_signature

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20150830T123600Z"
URL = "https://sts.us-east-1.amazonaws.com/"
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
BODY_HASH = "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843"
SIGNING_KEY = "a9d028e9e96178f3ed6acfa66eff308447119de7ba1dd1dc7b666bbcb5686dfd"
CANONICAL_HASH = "74f85d64795bc5f30af8b92378344f5c25c0d305498fca44ea38f6a5a1d5860f"
SIGNATURE = "52a8540fea00e731072179f763577cbe2a45eac2c5d32fb4d785f3eefac88165"
SIGNATURE_WITH_TOKEN = "9076b73f8e7b9ea0bfd1d0a6969cf5332cfe6e006f5cb747a032c3e37dbc7fea"


def _prepared(body: bytes = BODY) -> requests.PreparedRequest:
    return requests.Request(
        "POST", URL, data=body, headers={"Content-Type": CONTENT_TYPE, "X-Amz-Date": AMZ_DATE}
    ).prepare()


@pytest.mark.parametrize(
    ("token", "signature", "signed"),
    [
        (None, SIGNATURE, "content-type;host;x-amz-date"),
        ("SESSIONTOKENEXAMPLE", SIGNATURE_WITH_TOKEN, "content-type;host;x-amz-date;x-amz-security-token"),
    ],
)
def test_known_answer_vector(token: str | None, signature: str, signed: str) -> None:
    auth = StsSigV4Auth(Credentials(AKID, SECRET, token), "us-east-1")
    request = auth(_prepared())
    assert request.headers["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={AKID}/20150830/us-east-1/sts/aws4_request, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    assert auth.signing_key.key.hex() == SIGNING_KEY
    assert hashlib.sha256(request.body).hexdigest() == BODY_HASH
    # botocore sends no payload-hash header to STS; neither do we.
    assert "x-amz-content-sha256" not in request.headers
    assert request.headers.get("X-Amz-Security-Token") == token


def test_canonical_request_hash() -> None:
    auth = StsSigV4Auth(Credentials(AKID, SECRET), "us-east-1")
    request = _prepared()
    request.headers["x-amz-content-sha256"] = BODY_HASH
    headers, signed = auth.get_canonical_headers(request, auth.include_hdrs)
    canonical = auth.get_canonical_request(request, headers, signed)
    assert hashlib.sha256(canonical.encode()).hexdigest() == CANONICAL_HASH


def test_library_default_header_set_would_not_match() -> None:
    """Why StsSigV4Auth restricts include_hdrs: the default also signs x-amz-content-sha256."""
    plain = AWS4Auth(AKID, SECRET, "us-east-1", "sts")(_prepared())
    assert "x-amz-content-sha256" in plain.headers["Authorization"]
    assert SIGNATURE not in plain.headers["Authorization"]


def test_proxy_verifier_reproduces_vector() -> None:
    for token, expected in ((None, SIGNATURE), ("SESSIONTOKENEXAMPLE", SIGNATURE_WITH_TOKEN)):
        request = StsSigV4Auth(Credentials(AKID, SECRET, token), "us-east-1")(_prepared())
        auth = parse_authorization(request.headers["Authorization"])
        headers = {**request.headers, "Host": "sts.us-east-1.amazonaws.com"}
        got = sigv4_signature(
            secret=SECRET,
            method="POST",
            path="/",
            query="",
            headers=headers,
            signed_headers=auth["SignedHeaders"].split(";"),
            body=BODY,
            amz_date=AMZ_DATE,
            scope=auth["Credential"].split("/", 1)[1],
        )
        assert got == expected


ASSUME_PARAMS = {
    "RoleArn": "arn:aws:iam::123456789012:role/ops/dev+team",
    "RoleSessionName": "alice@example.com",
    "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
    "DurationSeconds": 3600,
    "Tags": [{"Key": "team", "Value": "a b/c+d=é"}, {"Key": "cost:center", "Value": "42"}],
    "TransitiveTagKeys": ["team"],
    "ExternalId": "EXTID-TEST:1/2",
    "SerialNumber": "arn:aws:iam::123456789012:mfa/alice",
    "TokenCode": "012345",
    "SourceIdentity": "alice",
}


def _botocore_body(operation: str, params: dict) -> bytes:
    import botocore.session
    from botocore.serialize import create_serializer

    model = botocore.session.Session().get_service_model("sts")
    body = create_serializer("query").serialize_to_request(params, model.operation_model(operation))["body"]
    from urllib.parse import quote

    return "&".join(f"{quote(k, safe='-_.~')}={quote(str(v), safe='-_.~')}" for k, v in body.items()).encode()


def test_form_body_matches_reference_and_botocore() -> None:
    params = [
        ("Action", "GetSessionToken"),
        ("Version", "2011-06-15"),
        ("DurationSeconds", "43200"),
        ("SerialNumber", "arn:aws:iam::123456789012:mfa/alice"),
        ("TokenCode", "123456"),
    ]
    expected = (
        b"Action=GetSessionToken&Version=2011-06-15&DurationSeconds=43200"
        b"&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice&TokenCode=123456"
    )
    assert encode_form(params) == expected
    botocore_params = {"DurationSeconds": 43200, "SerialNumber": params[3][1], "TokenCode": "123456"}
    assert _botocore_body("GetSessionToken", botocore_params) == expected


def test_assume_role_body_matches_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    from stsdash.providers.sts import StsClient

    sent: list[bytes] = []

    class Stop(Exception):
        pass

    client = StsClient(endpoint_url="https://sts.us-east-1.amazonaws.com", signing_region="us-east-1")

    def capture(body: bytes, creds: Credentials | None) -> requests.Response:
        sent.append(body)
        raise Stop

    monkeypatch.setattr(client, "_send", capture)
    with pytest.raises(Stop):
        client.assume_role(
            Credentials("AKIDEXAMPLE", SECRET),
            role_arn=ASSUME_PARAMS["RoleArn"],
            role_session_name=ASSUME_PARAMS["RoleSessionName"],
            policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            duration_seconds=3600,
            tags={"team": "a b/c+d=é", "cost:center": "42"},
            transitive_tag_keys=["team"],
            external_id="EXTID-TEST:1/2",
            serial_number="arn:aws:iam::123456789012:mfa/alice",
            token_code="012345",
            source_identity="alice",
        )
    reference = _botocore_body("AssumeRole", ASSUME_PARAMS)
    assert sent[0] == reference


def test_signature_matches_botocore_for_a_full_request(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCreds

    fixed = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: fixed)
    body = _botocore_body("AssumeRole", ASSUME_PARAMS)
    for token in (None, "SESSIONTOKENEXAMPLE"):
        ours = StsSigV4Auth(Credentials(AKID, SECRET, token), "eu-west-1")(_prepared(body))
        theirs = AWSRequest(method="POST", url=URL, data=body, headers={"Content-Type": CONTENT_TYPE})
        botocore.auth.SigV4Auth(BotoCreds(AKID, SECRET, token), "sts", "eu-west-1").add_auth(theirs)
        assert theirs.headers["X-Amz-Date"] == AMZ_DATE
        assert ours.headers["Authorization"] == theirs.headers["Authorization"]
