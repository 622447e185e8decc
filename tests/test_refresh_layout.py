"""The refresh package's shape: no step back up to the engine, no private reach-ins, profile as a field."""

from __future__ import annotations

import ast
from pathlib import Path

import stsdash
from stsdash.errors import ProviderError, StsdashError, WriteRefused

REFRESH = Path(stsdash.__file__).parent / "refresh"


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text()) for path in sorted(REFRESH.rglob("*.py"))}


def test_nothing_under_refresh_imports_the_engine() -> None:
    trees = _trees()
    assert len(trees) > 10  # the package and its hops were really read
    for path, tree in trees.items():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "stsdash.engine" or n.startswith("stsdash.engine.") for n in names), path


def test_refresh_modules_call_no_private_member_of_another_object() -> None:
    for path, tree in _trees().items():
        for node in ast.walk(tree):
            private = node.attr.startswith("_") and not node.attr.startswith("__") if isinstance(
                node, ast.Attribute) else False
            if private:
                assert isinstance(node, ast.Attribute)
                owner = node.value
                assert isinstance(owner, ast.Name) and owner.id == "self", (path, node.lineno, node.attr)


def test_error_names_its_profile_once_and_keeps_the_failed_source_as_via() -> None:
    inner = ProviderError("AssumeRole failed: AccessDenied", profile="base", code="AccessDenied", hint="h")
    outer = inner.for_profile("admin")
    assert type(outer) is ProviderError and outer.code == "AccessDenied" and outer.hint == "h"
    assert outer.profile == "admin" and outer.via == ("base",)
    assert outer.message == "profile admin: via profile base: AssumeRole failed: AccessDenied"
    assert outer.text == "via profile base: AssumeRole failed: AccessDenied"
    assert str(outer) == outer.message + "\n  h"
    # Back to a profile already on the path: the detour is dropped, the name appears once.
    assert outer.for_profile("base").message == "profile base: AssumeRole failed: AccessDenied"
    assert inner.for_profile("base") is inner
    refused = WriteRefused("/tmp/credentials", "dev-session", "not ours").for_profile("dev")
    assert refused.section == "dev-session" and refused.message.startswith("profile dev: /tmp/credentials")
    plain = StsdashError("no such profile", profile="x")
    assert plain.text == "no such profile" and str(plain) == "profile x: no such profile"
