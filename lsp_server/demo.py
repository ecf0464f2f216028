"""``infill-lsp demo``: a real LSP session over a sample file, printing the edits that come back.

The server runs as a subprocess (``python -m lsp_server``) and a pygls ``LanguageClient`` drives
it exactly like an editor would: initialize, wait for the model, open the sample, then ask for an
inline completion, "Fix this function" and "Insert docstring".
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from importlib import resources

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from lsp_server.server import STATUS, VERSION

LOAD_TIMEOUT_S = 600


@dataclass(frozen=True)
class Sample:
    """A sample file and where the demo puts the cursor for each feature (text anchors)."""

    inline_after: str  # the cursor goes right after this text
    fix_at: str  # a line inside the function to fix
    docstring_at: str  # a line of the function to document


SAMPLES = {
    "stats": Sample(inline_after="    counts = Counter(values)\n",
                    fix_at="    return min(low, high)", docstring_at="def variance("),
}
CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)),
    text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities(),
        code_action=types.CodeActionClientCapabilities(
            data_support=True,
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
        ),
    ),
)


def locate(text: str, anchor: str, after: bool = False) -> types.Position:
    """The LSP position (UTF-16) of ``anchor`` in ``text`` (or just after it)."""
    offset = text.index(anchor) + (len(anchor) if after else 0)
    line = text.count("\n", 0, offset)
    column = text[text.rfind("\n", 0, offset) + 1 : offset]
    return types.Position(line=line, character=len(column.encode("utf-16-le")) // 2)


def printable(line: str) -> str:
    """``line`` with control characters escaped (an untrained model emits some)."""
    return "".join(c if c.isprintable() or c == "\t" else f"\\x{ord(c):02x}" for c in line)


def show_edit(text: str, edit: types.TextEdit) -> str:
    """A readable edit: its 1-based range, the lines it replaces and the text it inserts."""
    start, end = edit.range.start, edit.range.end
    where = f"{start.line + 1}:{start.character + 1}-{end.line + 1}:{end.character + 1}"
    lines = text.split("\n")
    old = "\n".join(lines[start.line : end.line + 1]) if edit.range.start != edit.range.end else ""
    out = [f"   range {where} (line:column, 1-based)"]
    out += [f"   - {printable(line)}" for line in old.split("\n")] if old else []
    out += [f"   + {printable(line)}" for line in edit.new_text.rstrip("\n").split("\n")]
    return "\n".join(out)


def text_edits(edit: types.WorkspaceEdit | None) -> list[types.TextEdit]:
    """The text edits of a single-document WorkspaceEdit."""
    if edit is None:
        return []
    if edit.document_changes:
        return [e for change in edit.document_changes if isinstance(change, types.TextDocumentEdit)
                for e in change.edits if isinstance(e, types.TextEdit)]
    return [e for edits in (edit.changes or {}).values() for e in edits]


class Demo:
    """One client session against the server subprocess."""

    def __init__(self) -> None:
        self.client = LanguageClient("infill-lsp-demo", VERSION)
        self.status: dict = {}
        self.settled = asyncio.Event()

        @self.client.feature(STATUS)
        def on_status(params) -> None:
            self.status = {"state": params.state, "message": params.message}
            if params.state in ("ready", "error"):
                self.settled.set()

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(params: types.ShowMessageParams) -> None:
            print(f"[server] {params.message}", file=sys.stderr)

    async def start(self, model: str | None, options: dict | None = None) -> bool:
        """Start the server, initialize, and wait for the model; False if it failed to load."""
        await self.client.start_io(sys.executable, "-m", "lsp_server", "--log-level", "warning")
        options = {**(options or {}), **({"modelPath": model} if model else {})}
        await self.client.initialize_async(types.InitializeParams(
            capabilities=CAPABILITIES, initialization_options=options))
        self.client.initialized(types.InitializedParams())
        await asyncio.wait_for(self.settled.wait(), LOAD_TIMEOUT_S)
        print(f"model: {self.status['state']} ({self.status['message']})\n")
        return self.status["state"] == "ready"

    async def stop(self) -> None:
        """Shut the server down cleanly."""
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def inline(self, uri: str, position: types.Position,
                     automatic: bool = False) -> list[types.TextEdit]:
        """Ask for an inline completion (as a key does, or as typing does); its first item as an
        edit."""
        kind = (types.InlineCompletionTriggerKind.Automatic if automatic
                else types.InlineCompletionTriggerKind.Invoked)
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=position,
                context=types.InlineCompletionContext(trigger_kind=kind)))
        items = result.items if isinstance(result, types.InlineCompletionList) else result or []
        cursor = types.Range(start=position, end=position)
        return [types.TextEdit(range=item.range or cursor, new_text=str(item.insert_text))
                for item in items[:1]]

    async def action(self, uri: str, position: types.Position, title: str
                     ) -> list[types.TextEdit]:
        """Request code actions at ``position``, resolve the one titled ``title``."""
        found = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=[])))
        for action in found or []:
            if isinstance(action, types.CodeAction) and action.title == title:
                resolved = await self.client.code_action_resolve_async(action)
                return text_edits(resolved.edit)
        return []


async def demo_session(model: str | None, name: str) -> int:
    """Run the whole demo; the process exit code."""
    sample = SAMPLES[name]
    path = resources.files("lsp_server") / "samples" / f"{name}.py"
    text = path.read_text("utf-8")
    uri = f"file://{path}"
    print(f"infill-lsp demo: {path}")
    demo = Demo()
    try:
        if not await demo.start(model):
            print("No model loaded. Train one (see README) or pass --model PATH to a checkpoint.")
            return 1
        demo.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                 text=text)))
        steps = [
            ("Inline completion", demo.inline(uri, locate(text, sample.inline_after, True))),
            ("Fix this function", demo.action(uri, locate(text, sample.fix_at),
                                              "Fix this function")),
            ("Insert docstring", demo.action(uri, locate(text, sample.docstring_at),
                                             "Insert docstring")),
        ]
        for number, (title, request) in enumerate(steps, 1):
            edits = await request
            print(f"{number}. {title}: {len(edits)} edit(s)")
            print("\n".join(show_edit(text, e) for e in edits) or "   (no change)")
            print()
    finally:
        await demo.stop()
    return 0


def run_demo(model: str | None = None, sample: str = "stats") -> int:
    """Entry point of ``infill-lsp demo``."""
    if sample not in SAMPLES:
        print(f"unknown sample {sample!r}; choose from {', '.join(SAMPLES)}", file=sys.stderr)
        return 2
    return asyncio.run(demo_session(model, sample))
