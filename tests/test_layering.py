"""The UI/domain split is enforced: only stsdash.ui imports textual, and the CLI starts without it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import stsdash

DOMAIN_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(stsdash.__path__, prefix="stsdash.")
    # __main__ runs the CLI when imported.
    if not info.name.startswith("stsdash.ui") and info.name != "stsdash.__main__"
)


def _modules_loaded_by(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    return set(out.split())


def test_domain_modules_never_import_textual() -> None:
    imports = "\n".join(f"import {name}" for name in DOMAIN_MODULES)
    loaded = _modules_loaded_by(imports)
    assert "stsdash.engine" in loaded and "stsdash.profiles" in loaded  # the check really ran
    assert not any(name == "textual" or name.startswith("textual.") for name in loaded)


def test_cli_parser_builds_without_textual() -> None:
    loaded = _modules_loaded_by("from stsdash.cli import build_parser; build_parser()")
    assert "stsdash.commands.tui" in loaded
    assert "textual" not in loaded
