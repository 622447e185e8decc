"""Running a credential server for one profile: the engine, the code route, the server and its status."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from stsdash.broker.cache import ServedCredentials
from stsdash.broker.prompts import BrokeredCodes, caller_description
from stsdash.broker.server import CredentialServer
from stsdash.broker.status import StatusWriter

if TYPE_CHECKING:
    from stsdash.engine import CodeProvider, RefreshEngine


@contextlib.contextmanager
def serving(
    profile: str,
    *,
    first: CodeProvider | None,
    command: str,
    port: int = 0,
    engine: RefreshEngine | None = None,
    use_dialog: bool = True,
) -> Iterator[CredentialServer]:
    """A started server for `profile`; its first credentials are fetched before it is handed back.

    Fetching first means a code, if one is needed, is asked now (on the terminal that started it)
    rather than when some SDK deep inside the command first asks.
    """
    if engine is None:
        from stsdash.engine import RefreshEngine

        engine = RefreshEngine()
    codes = BrokeredCodes(
        first,
        caller=caller_description(f"{command} for {profile}"),
        how_to_refresh=f"`stsdash refresh {profile}`",
        env=engine.env,
        use_dialog=use_dialog,
    )
    served = ServedCredentials(engine, profile, codes)
    served.get()
    server = CredentialServer(served, port=port)
    status = StatusWriter(server, command=command, env=engine.env)
    served.on_change = status.changed
    server.on_change = status.changed
    server.start()
    status.start()
    try:
        yield server
    finally:
        status.stop()
        server.stop()
