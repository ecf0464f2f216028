"""The pygls ``LanguageServer`` instance: state the features share, status, settings, model loads.

Features register themselves on ``server`` from ``lsp_server.features`` (one module per LSP
method family); ``lsp_server.__main__`` imports them and starts the transport.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from lsp_server import notebooks
from lsp_server.config import ConfigError, ServerConfig, decode
from lsp_server.documents import Document, DocumentStore
from lsp_server.scheduler import JobFn, Scheduler
from lsp_server.suggestions import LastSuggestions

log = logging.getLogger(__name__)

STATUS = "infill/status"
ONEDNN_CACHE = 64  # oneDNN primitives kept (the server's default; the environment's wins)
VERSION = "0.1.0"


def load_engine(path: str, device: str, precision: str = "auto"):
    """Load the checkpoint and warm it up (on the worker thread; torch is imported here).

    The warm-up builds the sampler's token tables and first-call allocations while the
    client still shows loading progress, so the user's first completion is not the slow one.
    """
    # oneDNN keeps a primitive (with its reordered bf16 weights) per matmul shape, 1,024 by
    # default: over a session of varied lengths that grew the server by 100+ MB (model card).
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_CACHE))
    import torch

    from model import DecodeSettings, infill, load

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    engine = load(path, device, precision)
    infill(engine, "def f(x):\n", "    return x\n", DecodeSettings(max_tokens=4))
    return engine


class InfillProtocol(LanguageServerProtocol):
    """pygls' protocol, speaking UTF-16 only and answering undecodable requests with an error."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        """Initialize, pinning the position encoding to UTF-16 (what DocumentStore counts)."""
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        return (yield from super().lsp_initialize(params))

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        """Apply a change; one to a document that is not open is dropped with a warning (pygls
        would fail on it and show the user an error)."""
        uri = params.text_document.uri
        if unquote(uri) not in self.workspace.text_documents:
            log.warning("didChange for a document that is not open: %s", uri)
            return
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def lsp_notebook_document__did_change(self, params: types.DidChangeNotebookDocumentParams):
        """Apply a notebook change; one to a notebook that is not open is dropped likewise."""
        uri = params.notebook_document.uri
        if self.workspace.get_notebook_document(notebook_uri=uri) is None:
            log.warning("notebookDocument/didChange for a notebook that is not open: %s", uri)
            return
        yield from super().lsp_notebook_document__did_change(params)

    def structure_message(self, data: dict[str, Any]):
        """Decode a message; a request whose params do not decode gets an error response, and
        one whose id is neither an integer nor a string an Invalid Request error (id null)."""
        msg_id = data.get("id")
        if "jsonrpc" in data and "method" in data and "id" in data and (
                isinstance(msg_id, bool) or not isinstance(msg_id, (int, str))):
            error = JsonRpcInvalidRequest(f"a request id is an integer or a string, not {msg_id!r}")
            self._send_data({"jsonrpc": "2.0", "id": None,
                             "error": {"code": error.CODE, "message": error.message}})
            raise error
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "method" in data and isinstance(data.get("id"), (int, str)):
                cause = exc.__cause__ or exc
                invalid = JsonRpcInvalidParams(f"invalid params for {data['method']}: {cause}")
                self._send_response(data["id"], error=invalid.to_response_error())
            raise


class ClientLogHandler(logging.Handler):
    """Forwards warnings and errors to the client as ``window/logMessage`` (thread-safe)."""

    LEVELS = {logging.ERROR: types.MessageType.Error, logging.WARNING: types.MessageType.Warning}

    def __init__(self, ls: InfillServer):
        super().__init__(logging.WARNING)
        self.ls = ls

    def emit(self, record: logging.LogRecord) -> None:
        """Send one record to the client, from whichever thread logged it."""
        kind = self.LEVELS.get(record.levelno, types.MessageType.Error)
        params = types.LogMessageParams(type=kind, message=self.format(record))
        self.ls.call_soon(self.ls.window_log_message, params)


class InfillServer(LanguageServer):
    """The language server: documents, settings, the scheduler owning the model, and the last
    inline suggestion of each document."""

    def __init__(self) -> None:
        super().__init__("infill-lsp", VERSION, protocol_cls=InfillProtocol,
                         notebook_document_sync=notebooks.SYNC)
        self.documents = DocumentStore()
        self.suggestions = LastSuggestions()
        self.config = ServerConfig()
        self.init_options: dict[str, Any] = {}
        self.scheduler = Scheduler(load_engine, on_status=self._status_from_worker)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._load_task: asyncio.Future | None = None

    # -- threads -> event loop -----------------------------------------------------------------

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the event loop, from any thread (dropped before start-up)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    def _status_from_worker(self, state: str, message: str) -> None:
        self.call_soon(self.send_status, state, message)

    def send_status(self, state: str, message: str) -> None:
        """Notify ``infill/status``; a load failure is also shown to the user."""
        self.protocol.notify(STATUS, {"state": state, "message": message})
        if state == "error":
            self.show_error(message)

    def show_error(self, message: str) -> None:
        """``window/showMessage`` with type Error."""
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=f"infill-lsp: {message}")
        )

    # -- settings and model --------------------------------------------------------------------

    def apply_settings(self, *layers: Any) -> bool:
        """Decode settings over the current layers; on error show it and keep the old config."""
        try:
            config = decode(*layers)
        except ConfigError as exc:
            self.show_error(f"invalid settings, keeping the previous ones: {exc}")
            return False
        old, self.config = self.config, config
        if config.log_level is not None:
            logging.getLogger("lsp_server").setLevel(config.log_level.upper())
        reload = old.model_key() != config.model_key() or self.scheduler.state == "error"
        if self.loop is not None and reload:
            self._load_task = asyncio.ensure_future(self.load_model())
        return True

    async def load_model(self) -> None:
        """(Re)load the model on the worker thread, with ``$/progress`` while it loads."""
        token = await self._create_progress()
        key = self.config.model_key()
        path = key[0]
        if token is not None:
            begin = types.WorkDoneProgressBegin(title="infill-lsp", message=f"loading {path}")
            self.work_done_progress.begin(token, begin)
        try:
            await asyncio.wrap_future(self.scheduler.load(*key).future)
        finally:
            if token is not None:
                end = types.WorkDoneProgressEnd(message=self.scheduler.message)
                self.work_done_progress.end(token, end)

    async def _create_progress(self) -> str | None:
        window = self.client_capabilities.window
        if window is None or not window.work_done_progress:
            return None
        token = f"infill-lsp/load/{uuid.uuid4()}"
        try:
            await asyncio.wait_for(self.work_done_progress.create_async(token), timeout=5)
        except Exception as exc:  # the client refused or never answered: no progress bar
            log.warning("window/workDoneProgress/create failed: %s", exc)
            return None
        return token

    # -- documents and jobs --------------------------------------------------------------------

    def document(self, uri: str) -> Document | None:
        """The open document, or None (with a logged warning) when unknown or skipped."""
        doc = self.documents.get(uri)
        if doc is None:
            log.warning("request for a document that is not open: %s", uri)
        elif doc.skipped_reason is not None:
            log.warning("skipping %s: %s", uri, doc.skipped_reason)
            return None
        return doc

    def is_current(self, doc: Document) -> Callable[[], bool]:
        """A check, run when a job finishes, that ``doc`` is still the latest version."""

        def check() -> bool:
            latest = self.documents.get(doc.uri)
            return latest is not None and latest.version == doc.version

        return check

    async def compute(self, doc: Document, fn: JobFn, *, supersede: bool = False,
                      delay_s: float = 0.0) -> Any:
        """Run ``fn(engine, cancelled)`` for ``doc`` on the worker; None if stale or cancelled."""
        return await self.scheduler.run(fn, uri=doc.uri, supersede=supersede,
                                        is_current=self.is_current(doc), delay_s=delay_s)

    # -- client capabilities -------------------------------------------------------------------

    @property
    def versioned_edits(self) -> bool:
        """Whether the client takes ``documentChanges`` (versioned) in workspace edits."""
        ws = self.client_capabilities.workspace
        return bool(ws and ws.workspace_edit and ws.workspace_edit.document_changes)

    @property
    def resolves_code_actions(self) -> bool:
        """Whether the client resolves a code action's ``edit`` lazily."""
        doc = self.client_capabilities.text_document
        support = doc and doc.code_action and doc.code_action.resolve_support
        return bool(support and "edit" in support.properties)

    @property
    def applies_edits(self) -> bool:
        """Whether the client accepts ``workspace/applyEdit``."""
        ws = self.client_capabilities.workspace
        return bool(ws and ws.apply_edit)

    @property
    def pulls_configuration(self) -> bool:
        """Whether the client answers ``workspace/configuration``."""
        ws = self.client_capabilities.workspace
        return bool(ws and ws.configuration)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log protocol-level errors (already answered) instead of popping up a message."""
        if source is JsonRpcException:
            log.warning("dropped a malformed message: %s", error)
            return
        super().report_server_error(error, source)


server = InfillServer()
