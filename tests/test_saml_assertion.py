"""Reading SAMLResponses: roles in either order, expiry, bad input named precisely, no entity expansion."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from stsdash.saml.assertion import SamlAssertionError, SamlRole, decode_assertion
from tests.support.saml import PROVIDER, make_response, make_xml, role_arn

ADMIN = (role_arn("Admin"), PROVIDER)
READ = (role_arn("ReadOnly", "210987654321"), "arn:aws:iam::210987654321:saml-provider/Okta")


def test_several_roles_in_either_order() -> None:
    forward = decode_assertion(make_response([ADMIN, READ], duration=7200))
    backward = decode_assertion(make_response([ADMIN, READ], reverse=True))
    expected = (SamlRole(*ADMIN), SamlRole(*READ))
    assert forward.roles == backward.roles == expected
    assert forward.session_duration == 7200 and backward.session_duration is None
    assert forward.session_name == "alice@example.com"
    assert forward.issuer == "http://idp.example.test/"
    read = forward.roles[1]
    assert (read.account_id, read.role_name, read.provider_name) == ("210987654321", "ReadOnly", "Okta")


def test_one_value_per_attribute_and_duplicates_collapse() -> None:
    text = make_response([ADMIN, READ, ADMIN], one_value_per_attribute=True)
    assert decode_assertion(text).roles == (SamlRole(*ADMIN), SamlRole(*READ))


def test_expiry_is_the_earliest_not_on_or_after() -> None:
    now = datetime.now(UTC)
    got = decode_assertion(make_response([ADMIN], expires_in=timedelta(minutes=5)))
    assert got.not_on_or_after is not None
    assert now + timedelta(minutes=4) < got.not_on_or_after < now + timedelta(minutes=6)
    assert not got.expired(now)
    old = decode_assertion(make_response([ADMIN], expires_in=timedelta(minutes=-10)))
    assert old.expired(now)


def test_no_role_and_bad_values_are_reported() -> None:
    got = decode_assertion(make_response([], extra_values=["not-an-arn", f"{ADMIN[0]}"]))
    assert got.roles == ()
    assert got.ignored_values == ("not-an-arn", ADMIN[0])


@pytest.mark.parametrize(
    "spelling",
    [
        lambda b64, xml: b64,
        lambda b64, xml: "\n".join(b64[i : i + 76] for i in range(0, len(b64), 76)),  # wrapped lines
        lambda b64, xml: "SAMLResponse=" + quote(b64, safe="") + "&RelayState=x",  # copied form data
        lambda b64, xml: quote(b64, safe=""),
        lambda b64, xml: xml,
        lambda b64, xml: b64.replace("+", "-").replace("/", "_").rstrip("="),  # URL-safe alphabet
    ],
)
def test_accepted_spellings_give_the_same_assertion(spelling) -> None:
    xml = make_xml([ADMIN, READ])
    b64 = base64.b64encode(xml.encode()).decode()
    got = decode_assertion(spelling(b64, xml))
    assert got.roles == (SamlRole(*ADMIN), SamlRole(*READ))
    assert base64.b64decode(got.encoded).decode() == xml  # STS gets the standard base64 of the XML


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("not base64 at all!", "neither base64 nor XML"),
        ("QUJD", "not XML"),  # "ABC"
        ("PHJlc3Bvb", "not valid base64"),  # cut short
        ("PHJlc3Bvbn", "not well-formed XML"),  # cut short, still decodes
        ("<Response><unclosed></Response>", "not well-formed XML (line 1"),
        ("<Assertion/>", "is a <Assertion> document, not a SAML <Response>"),
        ("<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>", "holds no <Assertion>"),
    ],
)
def test_malformed_input_says_what_is_wrong(text: str, said: str) -> None:
    with pytest.raises(SamlAssertionError) as info:
        decode_assertion(text, profile="corp")
    assert said in info.value.message
    assert info.value.message.startswith("profile corp: SAML assertion")
    assert info.value.hint


def test_idp_failure_status_is_reported() -> None:
    text = make_response([ADMIN], status="urn:oasis:names:tc:SAML:2.0:status:Responder")
    with pytest.raises(SamlAssertionError, match=r"did not sign you in \(status Responder\)"):
        decode_assertion(text)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE r [<!ENTITY x "ROLE">]>',
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
)
def test_dtds_and_entities_are_refused_not_expanded(doctype: str) -> None:
    xml = make_xml([ADMIN]).replace("<samlp:Response", doctype + "<samlp:Response", 1)
    xml = xml.replace("alice@example.com", "&x;", 1)
    with pytest.raises(SamlAssertionError, match="DOCTYPE or entity declaration, refused"):
        decode_assertion(base64.b64encode(xml.encode()).decode())


def test_encrypted_assertion_has_no_readable_roles() -> None:
    xml = (
        "<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol' "
        "xmlns:saml='urn:oasis:names:tc:SAML:2.0:assertion'><saml:Issuer>idp</saml:Issuer>"
        "<saml:EncryptedAssertion><x/></saml:EncryptedAssertion></samlp:Response>"
    )
    got = decode_assertion(xml)
    assert got.encrypted and got.roles == () and got.issuer == "idp"


def test_secrets_stay_out_of_repr_and_errors() -> None:
    text = make_response([ADMIN])
    got = decode_assertion(text)
    assert got.encoded not in repr(got) and text[:40] not in repr(got)
    with pytest.raises(SamlAssertionError) as info:
        decode_assertion(text[:-7] + "!!!!!!!")
    assert text[:20] not in str(info.value)


def test_too_large_is_refused() -> None:
    with pytest.raises(SamlAssertionError, match="STS accepts 4-100000"):
        decode_assertion("<Response>" + "x" * 80_000 + "</Response>")
