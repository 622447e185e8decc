"""The shared rules for anything written into an AWS file (stsdash/awsfiles/rules.py)."""

from __future__ import annotations

import configparser

import pytest

from stsdash.awsfiles import rules
from stsdash.errors import WriteRefused

# Every character that ends a line for some reader: configparser (\r, \n), str.splitlines (all of them).
LINE_BREAKS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
CONTROLS = ["\x00", "\t", "\x1b", "\x7f", "\x9b", "\u200b", "\u202e", "\ufeff"]


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=repr)
def test_every_line_break_is_refused_in_values_and_names(brk: str) -> None:
    assert "line break" in (rules.value_problem("region", f"eu{brk}[default]") or "")
    assert "line break" in (rules.value_problem("anything", f"x{brk}credential_process = sh") or "")
    assert "line break" in (rules.section_name_problem(f"x{brk}y") or "")
    assert rules.profile_name_problem(f"x{brk}y")


@pytest.mark.parametrize("ch", CONTROLS, ids=repr)
def test_control_and_format_characters_are_refused(ch: str) -> None:
    assert rules.value_problem("anything", f"a{ch}b")
    assert rules.section_name_problem(f"a{ch}b")


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("anything", "", "empty"),
        ("anything", " padded", "whitespace"),
        ("anything", "padded\u00a0", "non-printable"),
        ("anything", "x" * (rules.MAX_VALUE_LENGTH + 1), "longer than"),
        ("sso_account_id", "12345678901", "12-digit"),
        ("sso_account_id", "1234567890123", "12-digit"),
        ("sso_role_name", "Admin Role", "whitespace"),
        ("sso_role_name", "Admin#x", "IAM role name"),
        ("aws_session_token", "x y", "whitespace"),
        ("aws_session_token", "xé", "printable ASCII"),
        ("x_stsdash_managed", "yes", "true"),
        ("bad key", "v", "not a plain name"),
        ("k=v", "v", "not a plain name"),
    ],
)
def test_values_that_would_not_read_back_are_refused(key: str, value: str, why: str) -> None:
    problem = rules.value_problem(key, value)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sso_account_id", "123456789012"),
        ("sso_role_name", "AWSAdministratorAccess+x=y,z.w@v-u"),
        ("region", "eu-west-1"),
        ("sso_session", "corp"),
        ("aws_session_token", "FwoGZXIvYXdzEFAKE//+=="),
        ("description", "Team account # one; with = signs"),
    ],
)
def test_ordinary_values_pass_and_read_back_exactly(key: str, value: str) -> None:
    assert rules.value_problem(key, value) is None
    parser = configparser.RawConfigParser()
    parser.read_string(f"[s]\n{key} = {value}\n")
    assert parser.items("s") == [(key, value)]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("a]b", "`[` or `]`"),
        ("[a", "`[` or `]`"),
        (" a", "whitespace"),
        ("DEFAULT", "DEFAULT"),
        ("n" * (rules.MAX_NAME_LENGTH + 1), "longer than"),
    ],
)
def test_section_names_that_would_not_parse_back(name: str, why: str) -> None:
    assert why in (rules.section_name_problem(name) or "")


@pytest.mark.parametrize("name", ["a b", "it's", 'say"x"'])
def test_profile_names_botocore_would_split_differently(name: str) -> None:
    assert rules.section_name_problem(name) is None
    assert "spaces or quotes" in (rules.profile_name_problem(name) or "")


def test_long_term_keys_follow_botocores_token_order() -> None:
    assert rules.holds_long_term_keys({"aws_access_key_id": "AKIAFAKE", "aws_session_token": "t"})
    assert rules.holds_long_term_keys({"aws_access_key_id": "ASIAFAKE"})
    # botocore uses aws_security_token when present, even empty: these are keys without a token.
    assert rules.holds_long_term_keys(
        {"aws_access_key_id": "ASIAFAKE", "aws_security_token": "", "aws_session_token": "t"}
    )
    assert not rules.holds_long_term_keys({"aws_access_key_id": "ASIAFAKE", "aws_session_token": "t"})
    assert not rules.holds_long_term_keys({"region": "eu-west-1"})


def test_managed_marker_is_case_and_space_tolerant_like_before() -> None:
    assert rules.is_managed({rules.MANAGED_MARKER: " True "})
    assert not rules.is_managed({rules.MANAGED_MARKER: "yes"})
    assert not rules.is_managed({})


def test_check_values_never_echoes_a_value() -> None:
    secret = "FAKE\nSECRET"
    with pytest.raises(WriteRefused) as caught:
        rules.check_values("creds", "s", {"aws_secret_access_key": secret}, hint="h")
    assert secret not in str(caught.value) and "line break" in str(caught.value)


def test_profiles_model_and_writer_share_the_marker() -> None:
    from stsdash import profiles
    from stsdash.awsfiles import writer

    assert profiles.MANAGED_MARKER == writer.MANAGED_MARKER == rules.MANAGED_MARKER
