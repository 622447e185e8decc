"""source_profile chains: bounded, with a message that names the profile and where to fix it."""

from __future__ import annotations

from datetime import UTC, datetime

from stsdash.awsfiles.paths import aws_paths
from stsdash.profiles import Kind, load_profiles
from stsdash.profiles.chains import MAX_CHAIN_LENGTH
from tests.support.awsenv import AwsHome, botocore_session

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEYS = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = FAKESECRETEXAMPLE\n"


def chain_config(length: int) -> str:
    """p0 holds keys; p1..p{length-1} are roles, each sourced from the one before."""
    parts = [f"[profile p0]\n{KEYS}"]
    parts += [
        f"[profile p{i}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = p{i - 1}\n"
        for i in range(1, length)
    ]
    return "".join(parts)


def test_a_chain_at_the_bound_is_fine_as_it_is_for_botocore(aws_home: AwsHome) -> None:
    aws_home.write_config(chain_config(MAX_CHAIN_LENGTH))
    ps = load_profiles(aws_paths(aws_home.env), now=NOW)
    last = ps.profiles[f"p{MAX_CHAIN_LENGTH - 1}"]
    assert last.problem is None and last.kind is Kind.ASSUME_ROLE
    assert len(last.chain) == MAX_CHAIN_LENGTH
    # botocore builds the same chain (its credentials are deferred: no STS call is made here)
    assert botocore_session(last.name).get_credentials().method == "assume-role"


def test_a_ten_thousand_profile_chain_loads_and_names_the_long_ones(aws_home: AwsHome) -> None:
    aws_home.write_config(chain_config(10_000))
    ps = load_profiles(aws_paths(aws_home.env), now=NOW)
    assert ps.profiles[f"p{MAX_CHAIN_LENGTH - 1}"].problem is None
    problem = ps.profiles["p9999"].problem
    assert problem is not None
    assert problem.startswith(f"source_profile chain is longer than {MAX_CHAIN_LENGTH} profiles: p9999 -> ")
    assert f"{aws_home.config}:" in problem  # file:line of where the chain goes on
    assert len(ps.profiles["p9999"].chain) == MAX_CHAIN_LENGTH
    assert all(
        (p.problem is None) == (int(p.name[1:]) < MAX_CHAIN_LENGTH) for p in ps.profiles.values()
    )
