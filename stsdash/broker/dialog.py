"""Desktop MFA dialogs, for callers without a terminal when no dashboard is running.

zenity or kdialog when a display is set (X11 or Wayland), osascript on macOS. The code is read from
the dialog's stdout and never logged. A dialog that is closed or cancelled means "no code".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError

if TYPE_CHECKING:
    from stsdash.engine import MfaRequest

DIALOG_TIMEOUT = 300.0  # s: a dialog nobody answers gives up, like a code would expire
_CODE = re.compile(r"\d{6}")


def dialog_command(text: str, env: Mapping[str, str] | None = None) -> list[str] | None:
    """The argv of the first available dialog, or None when this desktop has none."""
    env = os.environ if env is None else env
    path = env.get("PATH")
    if sys.platform == "darwin" and shutil.which("osascript", path=path):
        script = (
            f"display dialog {_applescript_string(text)} default answer \"\" with hidden answer "
            'with title "stsdash" buttons {"Cancel", "OK"} default button "OK"\n'
            "text returned of result"
        )
        return ["osascript", "-e", script]
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return None
    zenity = shutil.which("zenity", path=path)
    if zenity:
        return [zenity, "--entry", "--hide-text", "--title=stsdash: MFA code", f"--text={text}"]
    kdialog = shutil.which("kdialog", path=path)
    if kdialog:
        return [kdialog, "--title", "stsdash: MFA code", "--password", text]
    return None


def prompt_text(request: MfaRequest, caller: str) -> str:
    lines = [
        f"MFA code for {request.serial}",
        f"asked by: {caller}",
        f"unlocks: {', '.join(request.profiles)}",
    ]
    if request.last_error:
        lines.append(f"the last code failed: {request.last_error}")
    return "\n".join(lines)


def ask_dialog(request: MfaRequest, *, caller: str, env: Mapping[str, str] | None = None) -> str | None:
    """The code typed into a desktop dialog; None if cancelled. LookupError if there is no dialog."""
    argv = dialog_command(prompt_text(request, caller), env)
    if argv is None:
        raise LookupError("no desktop dialog available")
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=DIALOG_TIMEOUT, check=False,
            env=dict(os.environ if env is None else env),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StsdashError(f"the MFA dialog ({os.path.basename(argv[0])}) failed: {exc}") from None
    if proc.returncode != 0:
        return None  # cancelled or closed
    code = proc.stdout.strip()
    if not _CODE.fullmatch(code):
        raise StsdashError(f"the MFA dialog for {request.serial} did not return a 6-digit code")
    return code


def _applescript_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
