"""Copying text with the desktop's clipboard tool, when there is one (no textual here).

wl-copy needs a Wayland session, xclip and xsel an X display, pbcopy macOS. Without any of them the
dashboard falls back to OSC 52 (asking the terminal), which no program can confirm.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

TOOLS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    # command, arguments, the environment variable that says the tool can work here
    ("wl-copy", (), "WAYLAND_DISPLAY"),
    ("xclip", ("-selection", "clipboard"), "DISPLAY"),
    ("xsel", ("--clipboard", "--input"), "DISPLAY"),
    ("pbcopy", (), None),
)


def clipboard_tool(env: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    """The command line of the first clipboard tool that can work in this session, or None."""
    env = os.environ if env is None else env
    for command, args, needs in TOOLS:
        if needs is not None and not env.get(needs):
            continue
        path = shutil.which(command, path=env.get("PATH"))
        if path:
            return (path, *args)
    return None


def copy_with_tool(text: str, command: tuple[str, ...], timeout: float = 3.0) -> str | None:
    """Run the tool with the text on stdin; None when it worked, else what went wrong."""
    try:
        # No pipes but stdin: xclip and xsel stay behind to serve the selection and would hold them open.
        done = subprocess.run(command, input=text.encode(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{os.path.basename(command[0])}: {exc}"
    if done.returncode != 0:
        return f"{os.path.basename(command[0])} failed (exit status {done.returncode})"
    return None
