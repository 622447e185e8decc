"""SAMLResponse documents for tests, built with ElementTree the way identity providers lay them out.

`make_response()` returns the base64 SAMLResponse; `make_xml()` the XML. Roles are given as
(role_arn, principal_arn) pairs; `reverse=True` writes them "principal,role" (AWS accepts both).
moto's AssumeRoleWithSAML reads the Role, RoleSessionName and SessionDuration attributes, wants the
usual samlp:Response > saml:Assertion > saml:AttributeStatement layout, at least two attributes, and
one value per attribute: `one_value_per_attribute=True` writes each role as its own Attribute element.

Fixtures: `saml_sts` (function) is an StsProxy in front of `moto_noauth`, reset for each test; its
`.url` is the STS endpoint. Unsigned calls need moto with auth off: with IAM auth on, moto answers
every unsigned request (AssumeRoleWithSAML, AssumeRoleWithWebIdentity) with an HTTP 500.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import pytest

if TYPE_CHECKING:
    from stsdash_demo.stsproxy import StsProxy
    from tests.support.motoserver import MotoServer

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
ROLE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/TestIdP"

ET.register_namespace("samlp", SAMLP)
ET.register_namespace("saml", SAML)


def role_arn(name: str, account: str = "123456789012") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def make_xml(
    roles: Sequence[tuple[str, str]] = (),
    *,
    session_name: str | None = "alice@example.com",
    duration: int | None = None,
    expires_in: timedelta = timedelta(minutes=5),
    status: str = "urn:oasis:names:tc:SAML:2.0:status:Success",
    reverse: bool = False,
    one_value_per_attribute: bool = False,
    extra_values: Sequence[str] = (),
) -> str:
    now = datetime.now(UTC)
    response = ET.Element(f"{{{SAMLP}}}Response", ID="_resp1", Version="2.0", IssueInstant=_stamp(now),
                          Destination="https://signin.aws.amazon.com/saml")
    ET.SubElement(response, f"{{{SAML}}}Issuer").text = "http://idp.example.test/"
    status_el = ET.SubElement(response, f"{{{SAMLP}}}Status")
    ET.SubElement(status_el, f"{{{SAMLP}}}StatusCode", Value=status)
    assertion = ET.SubElement(response, f"{{{SAML}}}Assertion", ID="_a1", Version="2.0",
                              IssueInstant=_stamp(now))
    ET.SubElement(assertion, f"{{{SAML}}}Issuer").text = "http://idp.example.test/"
    subject = ET.SubElement(assertion, f"{{{SAML}}}Subject")
    ET.SubElement(subject, f"{{{SAML}}}NameID").text = "alice@example.com"
    confirmation = ET.SubElement(subject, f"{{{SAML}}}SubjectConfirmation",
                                 Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    ET.SubElement(confirmation, f"{{{SAML}}}SubjectConfirmationData",
                  NotOnOrAfter=_stamp(now + expires_in), Recipient="https://signin.aws.amazon.com/saml")
    conditions = ET.SubElement(assertion, f"{{{SAML}}}Conditions",
                               NotBefore=_stamp(now - timedelta(minutes=1)),
                               NotOnOrAfter=_stamp(now + expires_in + timedelta(minutes=1)))
    audience = ET.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
    ET.SubElement(audience, f"{{{SAML}}}Audience").text = "urn:amazon:webservices"
    statement = ET.SubElement(assertion, f"{{{SAML}}}AttributeStatement")

    def attribute(name: str, values: Sequence[str]) -> None:
        attr = ET.SubElement(statement, f"{{{SAML}}}Attribute", Name=name)
        for value in values:
            ET.SubElement(attr, f"{{{SAML}}}AttributeValue").text = value

    if session_name is not None:
        attribute(SESSION_NAME, [session_name])
    pairs = [f"{p},{r}" if reverse else f"{r},{p}" for r, p in roles] + list(extra_values)
    if one_value_per_attribute:
        for pair in pairs:
            attribute(ROLE, [pair])
    elif pairs:
        attribute(ROLE, pairs)
    if duration is not None:
        attribute(SESSION_DURATION, [str(duration)])
    return ET.tostring(response, encoding="unicode")


def make_response(roles: Sequence[tuple[str, str]] = (), **kwargs: object) -> str:
    """The base64 SAMLResponse form value, as an IdP posts it to AWS."""
    return base64.b64encode(make_xml(roles, **kwargs).encode()).decode()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def saml_sts_server(moto_noauth: MotoServer) -> Iterator[StsProxy]:
    from stsdash_demo.stsproxy import StsProxy

    with StsProxy(moto_noauth.url) as proxy:
        yield proxy


@pytest.fixture
def saml_sts(saml_sts_server: StsProxy) -> Iterator[StsProxy]:
    saml_sts_server.reset()
    yield saml_sts_server
    saml_sts_server.reset()
