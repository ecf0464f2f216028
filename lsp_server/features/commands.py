"""``workspace/executeCommand``: ``infill.fixFunction`` and ``infill.insertDocstring``.

Arguments ``[{"uri": str, "position": {"line": int, "character": int}}]``. The server computes the
edit, sends ``workspace/applyEdit`` and returns the ``WorkspaceEdit`` (or null).
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.features.code_actions import DOCSTRING, FIX, TITLES, compute_edit, target
from lsp_server.server import InfillServer, server

log = logging.getLogger(__name__)


async def run_command(ls: InfillServer, name: str, args: tuple) -> types.WorkspaceEdit | None:
    """Compute an action for the command's target and ask the client to apply it."""
    if len(args) != 1:
        raise JsonRpcInvalidParams(f"{name} takes one argument {{uri, position}}, got {len(args)}")
    where = target(args[0])
    doc = ls.document(where.uri)
    if doc is None:
        raise JsonRpcInvalidParams(f"document is not open (or too large/binary): {where.uri}")
    edit = await compute_edit(ls, name, doc, where)
    if edit is not None and ls.applies_edits:
        params = types.ApplyWorkspaceEditParams(edit=edit, label=TITLES[name])
        try:
            result = await ls.workspace_apply_edit_async(params)
        except Exception as exc:
            log.warning("workspace/applyEdit failed: %s", exc)
        else:
            if not result.applied:
                log.warning("client did not apply the edit: %s", result.failure_reason)
    return edit


@server.command(FIX)
async def fix_function(ls: InfillServer, *args) -> types.WorkspaceEdit | None:
    """Rewrite the flagged lines of the function at the position."""
    return await run_command(ls, FIX, args)


@server.command(DOCSTRING)
async def insert_docstring(ls: InfillServer, *args) -> types.WorkspaceEdit | None:
    """Insert a docstring into the function/class at the position."""
    return await run_command(ls, DOCSTRING, args)
