"""``initialized`` and ``shutdown``: the worker thread and the model's start-up load."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server.server import InfillServer, server


@server.feature(types.INITIALIZED)
async def initialized(ls: InfillServer, params: types.InitializedParams) -> None:
    """Start the worker and load the model in it (``$/progress`` and ``infill/status``)."""
    ls.loop = asyncio.get_running_loop()
    ls.scheduler.start()
    await ls.load_model()


@server.feature(types.SHUTDOWN)
def shutdown(ls: InfillServer, params: None) -> None:
    """Cancel running jobs and stop the worker thread."""
    ls.scheduler.stop(timeout=2.0)
