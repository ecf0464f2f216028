"""``textDocument/codeAction`` and ``codeAction/resolve``: "Fix this function", "Insert docstring".

The menu answers at once (tree-sitter only); the denoising happens when the user picks an action
(``codeAction/resolve``), or through ``workspace/executeCommand`` for clients that do not resolve.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server import notebooks
from lsp_server.actions import docstring, fix
from lsp_server.documents import Document
from lsp_server.edits import workspace_edit
from lsp_server.server import InfillServer, server

FIX = "infill.fixFunction"
DOCSTRING = "infill.insertDocstring"
TITLES = {FIX: "Fix this function", DOCSTRING: "Insert docstring"}
KINDS = {FIX: types.CodeActionKind.QuickFix, DOCSTRING: types.CodeActionKind.RefactorRewrite}
Row = Annotated[int, msgspec.Meta(ge=0)]


class Position(msgspec.Struct):
    """An LSP position (UTF-16 character)."""

    line: Row
    character: Row


class Target(msgspec.Struct):
    """Where an action applies: a command's argument, and a code action's ``data``."""

    uri: str
    position: Position
    action: str = ""
    version: int | None = None
    lines: list[Row] = []

    @property
    def line(self) -> int:
        """The position's line."""
        return self.position.line

    @property
    def character(self) -> int:
        """The position's UTF-16 character."""
        return self.position.character


def target(value: object) -> Target:
    """Decode a command argument or action ``data``; InvalidParams names the bad field."""
    try:
        return msgspec.convert(value, Target)
    except (msgspec.ValidationError, UnicodeEncodeError) as exc:  # a lone surrogate in a number
        raise JsonRpcInvalidParams(f"expected {{uri, position}}: {exc}") from None


def offered(ls: InfillServer, doc: Document, line: int, character: int,
            rows: list[int]) -> list[str]:
    """The actions that apply at a position (cheap: tree-sitter only)."""
    names = []
    if ls.config.features.fix_function and fix.fix_request(doc, line, character, rows,
                                                            pin=False):
        names.append(FIX)
    if ls.config.features.docstring and docstring.docstring_request(doc, line, character):
        names.append(DOCSTRING)
    return names


def flagged_rows(params: types.CodeActionParams) -> list[int]:
    """Rows the client flags: its diagnostics, else a non-empty selection."""
    ranges = [d.range for d in params.context.diagnostics]
    if not ranges and params.range.start != params.range.end:
        ranges = [params.range]
    return sorted({row for r in ranges for row in range(r.start.line, r.end.line + 1)})


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite],
        resolve_provider=True,
    ),
)
def code_action(ls: InfillServer, params: types.CodeActionParams
                ) -> list[types.CodeAction] | None:
    """Offer the actions that apply; their edits are computed on resolve."""
    doc = ls.document(params.text_document.uri)
    if doc is None or ls.scheduler.state == "error":
        return None
    start = params.range.start
    rows = flagged_rows(params)
    only = params.context.only
    found = []
    for name in offered(ls, doc, start.line, start.character, rows):
        if only and not any(KINDS[name].value.startswith(kind) for kind in only):
            continue
        data = {"uri": doc.uri, "version": doc.version, "action": name, "lines": rows,
                "position": {"line": start.line, "character": start.character}}
        action = types.CodeAction(title=TITLES[name], kind=KINDS[name])
        if ls.resolves_code_actions:
            action.data = data
        else:
            action.command = types.Command(title=TITLES[name], command=name, arguments=[data])
        found.append(action)
    return found or None


@server.feature(types.CODE_ACTION_RESOLVE)
async def code_action_resolve(ls: InfillServer, action: types.CodeAction) -> types.CodeAction:
    """Denoise the chosen action and attach its edit (left without one if nothing changed)."""
    where = target(action.data)
    doc = ls.document(where.uri)
    if doc is not None and where.action in TITLES:
        action.edit = await compute_edit(ls, where.action, doc, where)
    return action


async def compute_edit(ls: InfillServer, name: str, doc: Document,
                       where: Target) -> types.WorkspaceEdit | None:
    """Run one action on the worker: the versioned WorkspaceEdit of its changed lines, or None."""
    cfg = ls.config
    job = None
    around = notebooks.cell_context(ls.workspace, ls.documents, doc.uri)
    if name == FIX and cfg.features.fix_function:
        request = fix.fix_request(doc, where.line, where.character, where.lines, around)
        if request is not None:
            job = lambda engine, cancel: fix.run_fix(engine, request, cfg, cancel)  # noqa: E731
    elif name == DOCSTRING and cfg.features.docstring:
        slot = docstring.docstring_request(doc, where.line, where.character, around)
        if slot is not None:
            job = lambda engine, cancel: docstring.run_docstring(engine, slot, cfg, cancel)  # noqa: E731
    edits = await ls.compute(doc, job) if job is not None else None
    return workspace_edit(doc, edits, ls.versioned_edits) if edits else None
