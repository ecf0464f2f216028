"""Client-side helpers for the end-to-end tests: capabilities, status waits, documents, edits."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future

from lsprotocol import types
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage
from pytest_lsp import LanguageClient

STATUS = "infill/status"
TIMEOUT = 60  # a hang guard, never a speed assertion

CAPABILITIES = types.ClientCapabilities(
    general=types.GeneralClientCapabilities(position_encodings=["utf-8", "utf-16"]),
    window=types.WindowClientCapabilities(work_done_progress=True),
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True,
        configuration=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        execute_command=types.ExecuteCommandClientCapabilities(),
    ),
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(),
        completion=types.CompletionClientCapabilities(),
        inline_completion=types.InlineCompletionClientCapabilities(),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=[types.CodeActionKind.QuickFix,
                               types.CodeActionKind.RefactorRewrite]
                )
            ),
            data_support=True,
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
        ),
    ),
)


def record_client_side(client: LanguageClient) -> None:
    """Record ``infill/status`` notifications and answer ``workspace/applyEdit``."""
    client.statuses = []
    client.applied_edits = []

    @client.feature(STATUS)
    def on_status(params):
        client.statuses.append({"state": params.state, "message": params.message})

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams):
        client.applied_edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)


async def poll(check, what, timeout: float = TIMEOUT):
    """Wait until ``check()`` returns something truthy, looking every 20 ms; that value.
    ``what`` (a string, or a function giving one at the time out) names it in the error.

    Polls what the client recorded instead of waiting for the next notification, so a
    notification that arrived before the wait began is never missed.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := check()):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no {what() if callable(what) else what} within {timeout} s")
        await asyncio.sleep(0.02)
    return found


async def wait_for_status(client: LanguageClient, state: str, since: int = 0) -> dict:
    """Wait for an ``infill/status`` notification with ``state`` (seen from index ``since``)."""
    return await poll(
        lambda: next((s for s in client.statuses[since:] if s["state"] == state), None),
        lambda: f"infill/status {state!r} after #{since} (last: {client.statuses[-6:]})")


async def start_session(client: LanguageClient, options: dict,
                        capabilities: types.ClientCapabilities = CAPABILITIES) -> None:
    """Initialize with ``options`` and wait until the model has loaded (or failed to)."""
    record_client_side(client)
    client.init_result = await client.initialize_session(
        types.InitializeParams(capabilities=capabilities, initialization_options=options)
    )
    await poll(lambda: any(s["state"] in ("ready", "error") for s in client.statuses),
               "model load status")


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python",
                  version: int = 1) -> None:
    """Send ``textDocument/didOpen``."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version,
                                                 text=text)
        )
    )


def change_document(client: LanguageClient, uri: str, version: int,
                    rng: types.Range, text: str) -> None:
    """Send an incremental ``textDocument/didChange``."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)],
        )
    )


def inline_params(uri: str, line: int, character: int, automatic: bool = False):
    """``InlineCompletionParams`` at a position."""
    kind = (types.InlineCompletionTriggerKind.Automatic if automatic
            else types.InlineCompletionTriggerKind.Invoked)
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=kind),
    )


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 columns) to ``text`` the way an editor would."""
    lines = text.split("\n")

    def offset(pos: types.Position) -> int:
        head = sum(len(line) + 1 for line in lines[: pos.line])
        line = lines[pos.line] if pos.line < len(lines) else ""
        units = line.encode("utf-16-le")[: pos.character * 2].decode("utf-16-le")
        return head + len(units)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    """The text edits a WorkspaceEdit makes to ``uri`` (versioned or plain)."""
    if edit.document_changes:
        return [e for change in edit.document_changes if change.text_document.uri == uri
                for e in change.edits]
    return list((edit.changes or {}).get(uri, []))


def send_raw(client: LanguageClient, method: str, params, request: bool = True) -> Future | None:
    """Send a request (its future) or notification whose params bypass the client's types."""
    if not request:
        client.protocol._send_data(JsonRPCNotification(method=method, jsonrpc="2.0",
                                                       params=params))
        return None
    msg_id = str(uuid.uuid4())
    future: Future = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data(
        JsonRPCRequestMessage(id=msg_id, method=method, jsonrpc="2.0", params=params))
    return future


async def raw_request(client: LanguageClient, method: str, params) -> object:
    """Send a request whose params bypass the client's own type checks; await its answer."""
    return await asyncio.wait_for(asyncio.wrap_future(send_raw(client, method, params)), TIMEOUT)
