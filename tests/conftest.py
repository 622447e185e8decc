"""Shared fixtures live in tests/support/; each module there is a pytest plugin."""

import os
import sys
from pathlib import Path

# Commands installed beside this interpreter (stsdash, aws, moto_server) are found even when the
# virtual environment is not activated, as in the README's test command.
_SCRIPTS = str(Path(sys.executable).parent)
if _SCRIPTS not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _SCRIPTS + os.pathsep + os.environ.get("PATH", "")

pytest_plugins = [
    "tests.support.awsenv",
    "tests.support.motoserver",
    "tests.support.ssoserver",
    "tests.support.saml",
]
