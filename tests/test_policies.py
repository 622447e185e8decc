"""Session policy files and the plain-words explanation of STS's policy errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsdash.errors import StsdashError, UsageError
from stsdash.policies import MAX_POLICY_FILE_BYTES, policy_error_hint, read_policy_file


def test_policy_file_is_read_compacted(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('\ufeff{\n  "Version": "2012-10-17",\n  "Statement": [ ]\n}\n', encoding="utf-8")
    assert read_policy_file(str(path), where="profile x") == '{"Version":"2012-10-17","Statement":[]}'


def test_policy_file_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(StsdashError, match=r"profile x: cannot read policy_file .*missing.json"):
        read_policy_file(str(tmp_path / "missing.json"), where="profile x")
    bad = tmp_path / "bad.json"
    bad.write_text('{"Statement": [}')
    with pytest.raises(UsageError, match=r"policy_file .*bad.json\): the session policy is not valid JSON"):
        read_policy_file(str(bad), where="profile x")
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_POLICY_FILE_BYTES + 1))
    with pytest.raises(UsageError, match="larger than"):
        read_policy_file(str(huge), where="profile x")


def test_packed_policy_hint_in_plain_words() -> None:
    hint = policy_error_hint("PackedPolicyTooLarge", "Packed policy consumes 105% of allotted space")
    assert "(this request would take 105% of it)" in hint
    assert "fewer policy_arns" in hint and "session tags" in hint
    assert "105%" not in policy_error_hint("PackedPolicyTooLarge", "Serialized token too large for session")
    assert "policy_file" in policy_error_hint("MalformedPolicyDocument", "Syntax errors in policy.")
