"""SAML profiles in the profile model: target, expiry, conflicts, chains through them."""

from __future__ import annotations

from datetime import timedelta

from stsdash.profiles import Kind, Status, load_profiles
from stsdash.settings import ProfileSettings, Settings
from stsdash.timeutil import format_utc, utcnow

SAML = Settings(profiles={"corp": ProfileSettings(saml=True, saml_process="helper")})


def test_saml_profile_without_a_section_yet(aws_home) -> None:
    aws_home.write_config("[profile corp-audit]\nrole_arn = arn:aws:iam::123456789012:role/audit\n"
                          "source_profile = corp\n")
    ps = load_profiles(settings=SAML)
    corp = ps.profiles["corp"]
    assert (corp.kind, corp.target, corp.problem, corp.expires_at) == (Kind.SAML, "corp", None, None)
    assert corp.refreshable and corp.status(utcnow(), timedelta(minutes=15)) is Status.UNKNOWN
    audit = ps.profiles["corp-audit"]
    assert audit.problem is None and audit.chain == ["corp-audit", "corp"]
    assert [p.name for p in ps.visible()] == ["corp-audit", "corp"]
    # Without the SAML profile the same chain is what botocore sees: a missing source.
    assert "does not exist" in (load_profiles().profiles["corp-audit"].problem or "")


def test_saml_session_written_earlier_counts_down(aws_home) -> None:
    expires = utcnow() + timedelta(minutes=50)
    aws_home.write_config("[profile corp]\nregion = eu-west-1\n")
    aws_home.write_credentials(
        "[corp]\naws_access_key_id = ASIAFAKEEXAMPLESAML\naws_secret_access_key = FAKEsecretEXAMPLE\n"
        f"aws_session_token = FAKEtokenEXAMPLE\naws_credential_expiration = {format_utc(expires)}\n"
        "x_stsdash_managed = true\n"
    )
    corp = load_profiles(settings=SAML).profiles["corp"]
    assert corp.kind is Kind.SAML and corp.problem is None and corp.region == "eu-west-1"
    assert corp.expires_at == expires.replace(microsecond=0)
    assert corp.static_credentials is not None and corp.static_credentials.is_temporary
    assert corp.status(utcnow(), timedelta(minutes=15)) is Status.FRESH


def test_conflicts_and_target_override(aws_home) -> None:
    aws_home.write_config("[profile corp]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = a\n")
    aws_home.write_credentials("[a]\naws_access_key_id = AKIAFAKEEXAMPLE\naws_secret_access_key = FAKE\n"
                               "[keys]\naws_access_key_id = AKIAFAKEEXAMPLE2\naws_secret_access_key = FAKE\n")
    settings = Settings(profiles={"corp": ProfileSettings(saml=True),
                                  "keys": ProfileSettings(saml=True),
                                  "elsewhere": ProfileSettings(saml=True, target="saml-elsewhere")})
    ps = load_profiles(settings=settings)
    assert "makes corp a SAML profile, but" in (ps.profiles["corp"].problem or "")
    assert "assume-role profile; rename one of them" in (ps.profiles["corp"].problem or "")
    assert "static profile" in (ps.profiles["keys"].problem or "")
    assert ps.profiles["elsewhere"].target == "saml-elsewhere" and ps.profiles["elsewhere"].problem is None
