"""The `/` filter's matching: ranked, fuzzy only when nothing contains the query, fast on repeats."""

from __future__ import annotations

from dataclasses import dataclass

from stsdash.ui.search import ProfileIndex


@dataclass
class P:
    name: str
    kind: str = "assume-role"
    account_id: str | None = None
    role_arn: str | None = None
    source_profile: str | None = None
    credential_source: str | None = None
    sso_session: str | None = None
    sso_role_name: str | None = None
    mfa_serial: str | None = None
    keys_in: str | None = None


PROFILES = [
    P("billing", account_id="555555555555", role_arn="arn:aws:iam::555555555555:role/BillingViewer",
      source_profile="alice"),
    P("prod-readonly", account_id="444444444444", role_arn="arn:aws:iam::444444444444:role/ReadOnly"),
    P("acme-prod", kind="sso", account_id="100000000003", sso_session="acme", sso_role_name="Admin"),
    P("staging-deploy", account_id="333333333333", role_arn="arn:aws:iam::333333333333:role/Deploy"),
    P("production", account_id="999999999999", role_arn="arn:aws:iam::999999999999:role/Ops"),
]


def test_prefix_then_contains_then_other_fields() -> None:
    index = ProfileIndex(PROFILES)  # type: ignore[arg-type]
    assert index.search("prod") == ["production", "prod-readonly", "acme-prod"]
    assert index.search("444") == ["prod-readonly"]  # account id
    assert index.search("billingviewer") == ["billing"]  # role
    assert index.search("sso") == ["acme-prod"]  # kind
    assert index.search("") == [p.name for p in PROFILES]


def test_letters_in_order_only_when_nothing_contains_the_query() -> None:
    index = ProfileIndex(PROFILES)  # type: ignore[arg-type]
    assert index.search("stgdep") == ["staging-deploy"]
    assert index.search("zzz") == []  # the dashboard says "no matches"


def test_words_must_all_match_and_typing_on_narrows() -> None:
    index = ProfileIndex(PROFILES)  # type: ignore[arg-type]
    assert index.search("prod sso") == ["acme-prod"]
    for query in ("p", "pr", "pro", "prod", "prod-", "prod-r"):  # each keystroke searches the last matches
        result = index.search(query)
    assert result == ["prod-readonly"]
    assert index.search("bil") == ["billing"]  # a new query starts over
