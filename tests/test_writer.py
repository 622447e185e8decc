"""CredentialsWriter: botocore reads what was written, every other byte survives, unsafe writes refused."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import botocore.configloader
import botocore.credentials
import botocore.exceptions
import pytest
from filelock import FileLock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsdash.awsfiles.writer import (
    MANAGED_MARKER,
    CredentialsWriteError,
    CredentialsWriter,
    SectionUpdate,
)
from stsdash.creds import Credentials
from stsdash.errors import WriteRefused
from tests.support.awsenv import assert_resolves, resolved_credentials

EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def temp_creds(tag: str = "1", expiration: datetime = EXPIRY) -> Credentials:
    return Credentials(
        access_key_id=f"ASIAFAKEEXAMPLE{tag}",
        secret_access_key=f"secretFAKE/EXAMPLE+{tag}",
        session_token=f"tokenTEST{tag}" * 8,
        expiration=expiration,
    )


def managed_block(name: str, tag: str, eol: str = "\n") -> str:
    c = temp_creds(tag)
    lines = [
        f"[{name}]",
        f"aws_access_key_id = {c.access_key_id}",
        f"aws_secret_access_key = {c.secret_access_key}",
        f"aws_session_token = {c.session_token}",
        "aws_credential_expiration = 2029-01-01T00:00:00Z",
        f"{MANAGED_MARKER} = true",
    ]
    return eol.join(lines) + eol


def snapshot(profiles: list[str]) -> dict[str, object]:
    return {name: resolved_credentials(name) for name in profiles}


FOREIGN = (
    "# my credentials, hand-written\n"
    "; second comment style\n"
    "\n"
    "[default]\n"
    "aws_access_key_id = AKIAFAKEEXAMPLELONG1\n"
    "aws_secret_access_key = longtermFAKEEXAMPLE\n"
    "region = eu-west-1   # inline stays\n"
    "\n"
    "[saml]\n"
    "aws_access_key_id = ASIAFAKEEXAMPLESAML\n"
    "aws_secret_access_key = samlFAKEEXAMPLE\n"
    "aws_session_token = samlTOKENFAKE\n"
    "x_security_token_expires = 2029-01-01T00:00:00+00:00\n"
    "s3 =\n"
    "    addressing_style = path\n"
)


# -- basic writes ---------------------------------------------------------------------------------------


def test_new_file_is_created_0600_and_botocore_reads_exactly_the_new_keys(aws_home) -> None:
    creds = temp_creds("NEW")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("dev-session", creds)])
    assert stat.S_IMODE(aws_home.credentials.stat().st_mode) == 0o600
    assert_resolves("dev-session", creds)
    text = aws_home.credentials.read_text()
    assert text == (
        "[dev-session]\n"
        f"aws_access_key_id = {creds.access_key_id}\n"
        f"aws_secret_access_key = {creds.secret_access_key}\n"
        f"aws_session_token = {creds.session_token}\n"
        "aws_credential_expiration = 2030-01-02T03:04:05Z\n"
        f"{MANAGED_MARKER} = true\n"
    )


def test_expiration_is_written_in_utc_with_z(aws_home) -> None:
    local = datetime(2030, 1, 2, 7, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", temp_creds("Z", local))])
    assert "aws_credential_expiration = 2030-01-02T05:04:05Z" in aws_home.credentials.read_text()


def test_appending_keeps_every_existing_byte_and_other_profiles(aws_home) -> None:
    aws_home.write_credentials(FOREIGN)
    before = snapshot(["default", "saml"])
    creds = temp_creds("A")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("dev-session", creds)])
    text = aws_home.credentials.read_text()
    assert text.startswith(FOREIGN + "\n[dev-session]\n")  # one blank line between sections
    assert_resolves("dev-session", creds)
    assert snapshot(["default", "saml"]) == before


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("trailing_newline", [True, False])
def test_update_in_the_middle_keeps_bytes_before_and_after(
    aws_home, eol: str, trailing_newline: bool
) -> None:
    head = FOREIGN.replace("\n", eol) + eol
    tail = (
        eol + "[zeta]" + eol + "; zeta's comment" + eol + "output = json" + (eol if trailing_newline else "")
    )
    aws_home.credentials.write_bytes((head + managed_block("mid", "OLD", eol) + tail).encode())
    before = snapshot(["default", "saml"])
    creds = temp_creds("NEW")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("mid", creds)])
    data = aws_home.credentials.read_bytes().decode()
    assert data.startswith(head)
    assert data.endswith(tail)
    middle = data[len(head) : len(data) - len(tail)]
    assert middle == managed_block("mid", "NEW", eol).replace("2029-01-01T00:00:00Z", "2030-01-02T03:04:05Z")
    assert_resolves("mid", creds)
    assert snapshot(["default", "saml"]) == before


def test_update_of_last_section_without_trailing_newline_keeps_it_that_way(aws_home) -> None:
    aws_home.credentials.write_bytes((FOREIGN + "\n" + managed_block("last", "OLD")).rstrip("\n").encode())
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("last", temp_creds("NEW"))])
    data = aws_home.credentials.read_bytes()
    assert data.startswith(FOREIGN.encode())
    assert data.endswith(f"{MANAGED_MARKER} = true".encode())
    assert_resolves("last", temp_creds("NEW"))


def test_in_place_update_keeps_comments_unknown_keys_and_order_and_drops_stale_security_token(
    aws_home,
) -> None:
    old = temp_creds("OLD")
    section = (
        "[work]\n"
        "# refreshed by stsdash\n"
        "region = us-east-2\n"
        f"AWS_ACCESS_KEY_ID={old.access_key_id}\n"
        "; unknown key below\n"
        "x_other_tool = keep me\n"
        f"aws_secret_access_key : {old.secret_access_key}\n"
        f"aws_session_token = {old.session_token}\n"
        "aws_security_token = staleTOKENFAKE\n"
        "    continued\n"
        "aws_credential_expiration = 2029-01-01T00:00:00Z\n"
        f"{MANAGED_MARKER} = true\n"
        "# trailing comment\n"
    )
    aws_home.write_credentials(FOREIGN + "\n" + section)
    assert resolved_credentials("work").token == "staleTOKENFAKE\ncontinued"  # botocore prefers the alias
    new = temp_creds("NEW")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("work", new)])
    assert aws_home.credentials.read_text() == FOREIGN + "\n" + (
        "[work]\n"
        "# refreshed by stsdash\n"
        "region = us-east-2\n"
        f"AWS_ACCESS_KEY_ID={new.access_key_id}\n"
        "; unknown key below\n"
        "x_other_tool = keep me\n"
        f"aws_secret_access_key : {new.secret_access_key}\n"
        f"aws_session_token = {new.session_token}\n"
        "aws_credential_expiration = 2030-01-02T03:04:05Z\n"
        f"{MANAGED_MARKER} = true\n"
        "# trailing comment\n"
    )
    assert_resolves("work", new)
    parsed = botocore.configloader.raw_config_parse(str(aws_home.credentials))
    assert parsed["work"]["region"] == "us-east-2"
    assert parsed["work"]["x_other_tool"] == "keep me"
    assert "aws_security_token" not in parsed["work"]


def test_missing_keys_are_added_and_a_multiline_value_is_replaced_whole(aws_home) -> None:
    aws_home.write_credentials(
        f"[ours]\n# note\nregion = eu-central-1\naws_session_token = a\n  b\n\n  c\n{MANAGED_MARKER} = TRUE\n"
        "\n[next]\noutput = json\n"
    )
    new = temp_creds("ADD")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("ours", new)])
    text = aws_home.credentials.read_text()
    assert text.endswith("\n\n[next]\noutput = json\n")
    assert "# note\n" in text and "region = eu-central-1\n" in text
    parsed = botocore.configloader.raw_config_parse(str(aws_home.credentials))
    assert parsed["ours"] == {
        "region": "eu-central-1",
        "aws_access_key_id": new.access_key_id,
        "aws_secret_access_key": new.secret_access_key,
        "aws_session_token": new.session_token,
        "aws_credential_expiration": "2030-01-02T03:04:05Z",
        MANAGED_MARKER: "true",
    }
    assert parsed["next"] == {"output": "json"}
    assert_resolves("ours", new)


def test_several_sections_in_one_write(aws_home) -> None:
    aws_home.write_credentials(
        FOREIGN + "\n" + managed_block("a", "OLDA") + "\n" + managed_block("b", "OLDB")
    )
    updates = [SectionUpdate("b", temp_creds("B")), SectionUpdate("c", temp_creds("C")),
               SectionUpdate("a", temp_creds("A"))]  # fmt: skip
    CredentialsWriter(aws_home.credentials).write(updates)
    for update in updates:
        assert_resolves(update.section, update.credentials)
    assert botocore.configloader.raw_config_parse(str(aws_home.credentials)).keys() == {
        "default", "saml", "a", "b", "c"
    }  # fmt: skip


def test_writing_the_same_credentials_twice_is_stable(aws_home) -> None:
    writer = CredentialsWriter(aws_home.credentials)
    writer.write([SectionUpdate("s", temp_creds("X"))])
    first = aws_home.credentials.read_bytes()
    writer.write([SectionUpdate("s", temp_creds("X"))])
    assert aws_home.credentials.read_bytes() == first


def test_a_value_starting_with_a_bracket_cannot_make_a_section(aws_home) -> None:
    creds = Credentials("ASIAFAKEEXAMPLE9", "[evil]", "[profile-x]", EXPIRY)
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", creds)])
    assert list(botocore.configloader.raw_config_parse(str(aws_home.credentials))) == ["s"]
    assert_resolves("s", creds)


# -- refusals -------------------------------------------------------------------------------------------


def refuses(
    aws_home, section: str, creds: Credentials | None = None, match: str | None = None
) -> WriteRefused:
    """write() and check() refuse, and the file keeps every byte."""
    path = aws_home.credentials
    before = path.read_bytes() if path.exists() else None
    writer = CredentialsWriter(path)
    with pytest.raises(WriteRefused, match=match) as caught:
        writer.write([SectionUpdate(section, creds or temp_creds("R"))])
    assert (path.read_bytes() if path.exists() else None) == before
    assert str(path) in str(caught.value)
    assert caught.value.hint
    return caught.value


def test_refuses_long_term_keys(aws_home) -> None:
    aws_home.write_credentials(FOREIGN)
    err = refuses(aws_home, "default", match="long-term")
    assert "[default]" in str(err) and "keys import" in err.hint
    with pytest.raises(WriteRefused, match="long-term"):
        CredentialsWriter(aws_home.credentials).check("default")


def test_refuses_a_key_id_without_session_token_even_with_the_marker(aws_home) -> None:
    aws_home.write_credentials(
        f"[odd]\naws_access_key_id = ASIAFAKEEXAMPLE1\naws_secret_access_key = x\n{MANAGED_MARKER} = true\n"
    )
    refuses(aws_home, "odd", match="long-term")


def test_refuses_akia_keys_even_with_a_token_and_the_marker(aws_home) -> None:
    aws_home.write_credentials(
        f"[odd]\naws_access_key_id = AKIAFAKEEXAMPLE1\naws_session_token = t\n{MANAGED_MARKER} = true\n"
    )
    refuses(aws_home, "odd", match="long-term")


@pytest.mark.parametrize(
    "body",
    [
        "aws_access_key_id = ASIAFAKEEXAMPLE1\naws_secret_access_key = x\naws_session_token = t\n",
        f"region = eu-west-1\n{MANAGED_MARKER} = false\n",
        "",
    ],
)
def test_refuses_sections_it_does_not_own(aws_home, body: str) -> None:
    aws_home.write_credentials(FOREIGN + "\n[theirs]\n" + body)
    err = refuses(aws_home, "theirs", match="does not own")
    assert MANAGED_MARKER in err.hint
    with pytest.raises(WriteRefused, match="does not own"):
        CredentialsWriter(aws_home.credentials).check("theirs")


def test_the_marker_in_default_does_not_make_sections_ours(aws_home) -> None:
    aws_home.write_credentials(f"[DEFAULT]\n{MANAGED_MARKER} = true\n\n[theirs]\nregion = x\n")
    refuses(aws_home, "theirs", match="does not own")


def test_refuses_when_default_section_holds_a_security_token(aws_home) -> None:
    aws_home.write_credentials("[DEFAULT]\naws_security_token = FAKEOLD\n")
    refuses(aws_home, "new", match="DEFAULT")


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"[a]\nx = 1\n[a]\ny = 2\n", "duplicate section"),
        (b"[a]\nx = 1\nX = 2\n", "duplicate key"),
        (b"\xef\xbb\xbf[a]\nx = 1\n", "BOM"),
        (b"[a]\nx = \xff\xfe\n", "UTF-8"),
        (b"x = 1\n[a]\n", "outside any section"),
        (b"[a]\njust words\n", "key = value"),
    ],
)
def test_a_malformed_file_is_never_rewritten(aws_home, raw: bytes, what: str) -> None:
    aws_home.credentials.write_bytes(raw)
    err = refuses(aws_home, "new", match="malformed")
    assert what.lower() in str(err).lower()
    with pytest.raises(WriteRefused, match="malformed"):
        CredentialsWriter(aws_home.credentials).check("new")


def test_a_directory_is_refused(aws_home) -> None:
    aws_home.credentials.mkdir()
    with pytest.raises(WriteRefused):
        CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", temp_creds())])
    assert aws_home.credentials.is_dir()


@pytest.mark.parametrize(
    "name",
    ["a\nb", "a\r[b]", "x\x00", "new]\n[default", "[default]", "a]b", "DEFAULT", " lead", "trail ",
     "", "a\u2028b", "a\x85b", "tab\there"],
)  # fmt: skip
def test_section_name_injection_is_impossible(aws_home, name: str) -> None:
    aws_home.write_credentials(FOREIGN)
    refuses(aws_home, name)
    with pytest.raises(WriteRefused):
        CredentialsWriter(aws_home.credentials).check(name)


@pytest.mark.parametrize("field", ["access_key_id", "secret_access_key", "session_token"])
@pytest.mark.parametrize(
    "bad",
    ["x\n[default]\naws_access_key_id = AKIAFAKE", "x\rregion = evil", "x\x00y", "x y", " x", "x\u2028y",
     "xé", "x\x85y", "x\x0cy"],
)  # fmt: skip
def test_value_injection_is_impossible(aws_home, field: str, bad: str) -> None:
    aws_home.write_credentials(FOREIGN)
    base = temp_creds("V")
    fields = {
        "access_key_id": base.access_key_id,
        "secret_access_key": base.secret_access_key,
        "session_token": base.session_token,
    }
    fields[field] = (fields[field] if field == "access_key_id" else "") + bad
    err = refuses(aws_home, "s", Credentials(**fields, expiration=EXPIRY))
    assert bad not in str(err)  # never echo a secret


@pytest.mark.parametrize(
    ("creds", "match"),
    [
        (Credentials("ASIAFAKEEXAMPLE1", "secretFAKE", None, EXPIRY), "session token"),
        (Credentials("ASIAFAKEEXAMPLE1", "secretFAKE", "tokenFAKE", None), "expiration"),
        (Credentials("ASIAFAKEEXAMPLE1", "secretFAKE", "tokenFAKE", datetime(2030, 1, 1)), "expiration"),
        (Credentials("AKIAFAKEEXAMPLE1", "secretFAKE", "tokenFAKE", EXPIRY), "long-term"),
        (Credentials("", "secretFAKE", "tokenFAKE", EXPIRY), "empty"),
    ],
)
def test_refuses_credentials_that_are_not_temporary(aws_home, creds: Credentials, match: str) -> None:
    aws_home.write_credentials(FOREIGN)
    refuses(aws_home, "s", creds, match=match)


def test_one_refused_section_means_nothing_is_written(aws_home) -> None:
    aws_home.write_credentials(FOREIGN + "\n" + managed_block("ok", "OLD"))
    before = aws_home.credentials.read_bytes()
    with pytest.raises(WriteRefused, match="default"):
        CredentialsWriter(aws_home.credentials).write(
            [
                SectionUpdate("ok", temp_creds("N")),
                SectionUpdate("new", temp_creds("N")),
                SectionUpdate("default", temp_creds("N")),
            ]
        )
    assert aws_home.credentials.read_bytes() == before


def test_the_same_section_twice_in_one_write_is_an_error(aws_home) -> None:
    with pytest.raises(ValueError, match="twice"):
        CredentialsWriter(aws_home.credentials).write(
            [SectionUpdate("s", temp_creds("1")), SectionUpdate("s", temp_creds("2"))]
        )
    assert not aws_home.credentials.exists()


def test_an_edit_that_would_change_other_lines_meaning_is_refused(aws_home) -> None:
    # Without [long], the indented `[b]` header would become a continuation of `k` in [a]: refuse.
    text = "[a]\nk = 1\n[long]\n  aws_access_key_id = AKIAFAKEEXAMPLEKEY1\n  [b]\nk = 2\n"
    aws_home.write_credentials(text)
    assert set(botocore.configloader.raw_config_parse(str(aws_home.credentials))) == {"a", "long", "b"}
    with pytest.raises(WriteRefused, match="change how botocore reads"):
        CredentialsWriter(aws_home.credentials).remove_section(
            "long", expect_access_key_id="AKIAFAKEEXAMPLEKEY1"
        )
    assert aws_home.credentials.read_text() == text


def test_indented_sections_are_edited_without_changing_their_meaning(aws_home) -> None:
    # Keys inserted into an indented section take the first key's indentation, so nothing else moves.
    text = f"[a]\n  k = 1\n  [ours]\n    region = x\n    {MANAGED_MARKER} = true\n  [b]\n  k = 2\n"
    aws_home.write_credentials(text)
    before = botocore.configloader.raw_config_parse(str(aws_home.credentials))
    assert set(before) == {"a", "ours", "b"}
    creds = temp_creds("IND")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("ours", creds)])
    after = botocore.configloader.raw_config_parse(str(aws_home.credentials))
    assert after["a"] == before["a"] and after["b"] == before["b"]
    assert after["ours"]["region"] == "x"
    assert_resolves("ours", creds)


def test_check_passes_for_new_and_owned_sections(aws_home) -> None:
    writer = CredentialsWriter(aws_home.credentials)
    writer.check("anything")  # no file yet
    aws_home.write_credentials(FOREIGN + "\n" + managed_block("ours", "X"))
    writer.check("ours")
    writer.check("brand-new")


# -- files: symlinks, modes, locks ----------------------------------------------------------------------


def test_a_symlinked_file_is_written_through_and_stays_a_symlink(aws_home) -> None:
    real = aws_home.root / "dotfiles" / "aws-credentials"
    real.parent.mkdir()
    real.write_text(FOREIGN)
    os.chmod(real, 0o640)
    aws_home.credentials.symlink_to(os.path.relpath(real, aws_home.credentials.parent))
    creds = temp_creds("L")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", creds)])
    assert aws_home.credentials.is_symlink()
    assert aws_home.credentials.resolve() == real.resolve()
    assert real.read_text().startswith(FOREIGN)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert_resolves("s", creds)
    # The lock and temp files live next to the real file: nothing is left next to the link.
    assert [p.name for p in aws_home.credentials.parent.iterdir() if p.name.startswith(".credentials")] == []
    assert [p.name for p in real.parent.iterdir() if p.suffix == ".tmp"] == []


def test_a_dangling_symlink_creates_the_target(aws_home) -> None:
    real = aws_home.root / "elsewhere" / "creds"
    real.parent.mkdir()
    aws_home.credentials.symlink_to(real)
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", temp_creds())])
    assert aws_home.credentials.is_symlink() and real.is_file()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_an_existing_file_keeps_its_mode(aws_home) -> None:
    aws_home.write_credentials(FOREIGN)
    os.chmod(aws_home.credentials, 0o640)
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", temp_creds())])
    assert stat.S_IMODE(aws_home.credentials.stat().st_mode) == 0o640


def test_a_missing_aws_directory_is_created_private(aws_home) -> None:
    path = aws_home.root / "fresh" / ".aws" / "credentials"
    CredentialsWriter(path).write([SectionUpdate("s", temp_creds())])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_lock_timeout_is_a_clear_error_and_nothing_is_written(aws_home) -> None:
    aws_home.write_credentials(FOREIGN)
    lock = FileLock(aws_home.credentials.parent / ".credentials.stsdash.lock")
    with lock, pytest.raises(CredentialsWriteError, match="locked"):
        CredentialsWriter(aws_home.credentials, lock_timeout=0.2).write([SectionUpdate("s", temp_creds())])
    assert aws_home.credentials.read_text() == FOREIGN


# -- remove_section -------------------------------------------------------------------------------------


def test_remove_section_removes_exactly_that_section(aws_home) -> None:
    head = "# top\n\n[a]\nk = 1\n\n"
    victim = "[long]\n# mine\naws_access_key_id = AKIAFAKEEXAMPLEKEY1\naws_secret_access_key = sFAKE\n\n"
    tail = "# about b\n[b]\nk = 2"
    aws_home.write_credentials(head + victim + tail)
    CredentialsWriter(aws_home.credentials).remove_section("long", expect_access_key_id="AKIAFAKEEXAMPLEKEY1")
    assert aws_home.credentials.read_text() == head + tail
    assert set(botocore.configloader.raw_config_parse(str(aws_home.credentials))) == {"a", "b"}


def test_remove_last_section(aws_home) -> None:
    aws_home.write_credentials("[a]\nk = 1\n\n[long]\naws_access_key_id = AKIAFAKEEXAMPLEKEY1\n")
    CredentialsWriter(aws_home.credentials).remove_section("long", expect_access_key_id="AKIAFAKEEXAMPLEKEY1")
    assert aws_home.credentials.read_text() == "[a]\nk = 1\n\n"


def test_remove_section_refuses_a_different_key_or_a_missing_section(aws_home) -> None:
    text = "[long]\naws_access_key_id = AKIAFAKEEXAMPLEKEY1\naws_secret_access_key = sFAKE\n"
    aws_home.write_credentials(text)
    writer = CredentialsWriter(aws_home.credentials)
    with pytest.raises(WriteRefused, match="not the one"):
        writer.remove_section("long", expect_access_key_id="AKIAFAKEEXAMPLEOTHER")
    with pytest.raises(WriteRefused, match="does not exist"):
        writer.remove_section("nope", expect_access_key_id="AKIAFAKEEXAMPLEKEY1")
    assert aws_home.credentials.read_text() == text


def test_remove_section_refuses_a_malformed_file(aws_home) -> None:
    raw = b"[long]\naws_access_key_id = AKIAFAKEEXAMPLEKEY1\n[long]\n"
    aws_home.credentials.write_bytes(raw)
    with pytest.raises(WriteRefused, match="malformed"):
        CredentialsWriter(aws_home.credentials).remove_section(
            "long", expect_access_key_id="AKIAFAKEEXAMPLEKEY1"
        )
    assert aws_home.credentials.read_bytes() == raw


# -- property: random files, random updates ------------------------------------------------------------

NAMES = ["default", "dev", "prod", "profile ops", "ci-session", "a.b_c", "x1", "sso-role", "legacy"]
KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET_CHARS = KEY_CHARS + "abcdefghijklmnopqrstuvwxyz0123456789+/="

comment = st.builds(
    lambda mark, indent, text: " " * indent + mark + text,
    st.sampled_from(["#", ";"]),
    st.integers(0, 2),
    st.text(alphabet="abc xyz=[]:#;-", max_size=15),
)
unknown_key = st.builds(
    lambda k, sep, v: f"{k}{sep}{v}",
    st.sampled_from(["region", "output", "x_tool", "Role_Session", "mfa_serial", "cli_pager"]),
    st.sampled_from([" = ", "=", ": ", " :"]),
    st.text(alphabet="abcdefgh-1[]#;: ", max_size=12).map(str.strip),
)
nested = st.just(["s3 =", "    addressing_style = path", "    signature_version = s3v4"])
filler = st.lists(st.one_of(comment, st.just("")), max_size=2)


@st.composite
def section_body(draw, managed: bool) -> list[str]:
    keys = {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_credential_expiration"}
    present = draw(st.sets(st.sampled_from(sorted(keys)))) if managed else set()
    if "aws_access_key_id" in present:
        present.add("aws_session_token")  # a key id without a token would be long-term: refused
    lines: list[str] = []
    items: list[list[str]] = (
        [[f"{MANAGED_MARKER} = {draw(st.sampled_from(['true', 'True']))}"]] if managed else []
    )
    for key in sorted(present):
        spelled = draw(st.sampled_from([key, key.upper()]))
        items.append([f"{spelled} = ASIAOLDFAKE{draw(st.text(alphabet=KEY_CHARS, min_size=1, max_size=6))}"])
    if managed and draw(st.booleans()):
        items.append(["aws_security_token = staleFAKE", *draw(st.sampled_from([[], ["   cont"]]))])
    if not managed:
        kind = draw(st.sampled_from(["static", "temp", "other"]))
        if kind in ("static", "temp"):
            items.append(["aws_access_key_id = " + ("AKIA" if kind == "static" else "ASIA") + "FAKEEXAMPLE"])
            items.append(["aws_secret_access_key = secretFAKE"])
        if kind == "temp":
            items.append(["aws_session_token = tokenFAKE"])
    used = {line[0].split("=")[0].split(":")[0].strip().lower() for line in items}
    for entry in draw(st.lists(unknown_key, max_size=3)):
        name = entry.split("=")[0].split(":")[0].strip().lower()
        if name not in used:
            used.add(name)
            items.append([entry])
    if draw(st.booleans()):
        items.append(draw(nested))
    items = draw(st.permutations(items))
    for item in items:
        lines.extend(draw(filler))
        lines.extend(item)
    lines.extend(draw(filler))
    return lines


@st.composite
def credentials_files(draw):
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=6))
    managed = {name for name in names if draw(st.booleans())}
    chunks: list[list[str]] = [draw(filler)]
    for name in names:
        chunks.append([f"[{name}]", *draw(section_body(name in managed))])
    eol_style = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    total = sum(len(c) for c in chunks)
    eols = [
        draw(st.sampled_from(["\n", "\r\n", "\r"])) if eol_style == "mixed" else eol_style
        for _ in range(total)
    ]
    if total and not draw(st.booleans()):
        eols[-1] = ""  # no trailing newline
    texts: list[str] = []
    i = 0
    for chunk in chunks:
        texts.append("".join(line + eols[i + n] for n, line in enumerate(chunk)))
        i += len(chunk)
    targets = sorted(managed) + [n for n in NAMES if n not in names]
    chosen = draw(st.lists(st.sampled_from(targets), unique=True, min_size=1, max_size=4))
    updates = []
    for name in chosen:
        updates.append(
            SectionUpdate(
                name,
                Credentials(
                    "ASIA" + draw(st.text(alphabet=KEY_CHARS, min_size=12, max_size=16)) + "FAKE",
                    draw(st.text(alphabet=SECRET_CHARS, min_size=1, max_size=40)),
                    "TEST" + draw(st.text(alphabet=SECRET_CHARS, min_size=1, max_size=80)),
                    EXPIRY + timedelta(seconds=draw(st.integers(0, 10**6))),
                ),
            )
        )
    return names, texts, updates


def _shared_file_credentials(path: Path, profile: str) -> object:
    """botocore's shared-credentials-file provider (the chain entry that reads this file), or its error."""
    provider = botocore.credentials.SharedCredentialProvider(creds_filename=str(path), profile_name=profile)
    try:
        found = provider.load()
    except botocore.exceptions.BotoCoreError as exc:
        return type(exc).__name__
    return None if found is None else (found.access_key, found.secret_key, found.token)


def _parse(path: Path) -> dict:
    return botocore.configloader.raw_config_parse(str(path)) if path.exists() else {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=credentials_files())
def test_property_only_written_sections_change(aws_home, case) -> None:
    names, texts, updates = case
    original = "".join(texts)
    aws_home.credentials.write_bytes(original.encode())
    before = _parse(aws_home.credentials)
    assert list(before) == names  # the generator produced a file botocore accepts
    written = {u.section: u.credentials for u in updates}
    unaffected = [n for n in names if n not in written]
    shared_before = {n: _shared_file_credentials(aws_home.credentials, n) for n in unaffected}

    CredentialsWriter(aws_home.credentials).write(updates)

    new = aws_home.credentials.read_bytes().decode()
    after = _parse(aws_home.credentials)
    assert list(after) == names + [u.section for u in updates if u.section not in names]
    for name in unaffected:
        assert after[name] == before[name]
        assert _shared_file_credentials(aws_home.credentials, name) == shared_before[name]
    for name, creds in written.items():
        kept = {k: v for k, v in before.get(name, {}).items() if k != "aws_security_token"}
        assert after[name] == kept | {
            "aws_access_key_id": creds.access_key_id,
            "aws_secret_access_key": creds.secret_access_key,
            "aws_session_token": creds.session_token,
            "aws_credential_expiration": creds.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            MANAGED_MARKER: "true",
        }
        assert _shared_file_credentials(aws_home.credentials, name) == (
            creds.access_key_id, creds.secret_access_key, creds.session_token
        )  # fmt: skip
    assert_resolves(updates[0].section, updates[0].credentials)  # the full botocore session agrees
    # Untouched text: the preamble and every unwritten section keep their exact bytes, in order; a written
    # section keeps its header, comments and unknown-key lines, in order.
    assert new.startswith(texts[0])
    pos = len(texts[0])
    appended = [u.section for u in updates if u.section not in names]
    for index, (name, text) in enumerate(zip(names, texts[1:], strict=True)):
        if name not in written:
            assert new[pos : pos + len(text)] == text
            pos += len(text)
            continue
        following = names[index + 1] if index + 1 < len(names) else (appended[0] if appended else None)
        end = _header_index(new, following, pos) if following else len(new)
        chunk = new[pos:end]
        cursor = 0
        for line in re.split(r"\r\n|\r|\n", text):
            if line.strip() and not line.lower().startswith(("aws_", MANAGED_MARKER)) and line != "   cont":
                cursor = chunk.index(line, cursor) + len(line)
        pos = end
    assert not new[pos:].strip() or new[pos:].lstrip("\r\n").startswith(f"[{appended[0]}]")


def _header_index(text: str, name: str, start: int) -> int:
    """Where `[name]` starts a line in `text`, at or after `start`."""
    match = re.compile(rf"(?:^|(?<=[\r\n]))\[{re.escape(name)}\]", re.M).search(text, start)
    assert match is not None
    return match.start()
