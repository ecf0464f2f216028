"""Seeded random input: every request gets an answer, nothing pops up, the server keeps serving.

Each seed sends a few hundred messages the client's own types would refuse: every method the
server handles (and some it does not) with params made of random values, notifications out of
order, and bodies that are not JSON-RPC at all. No message is an ``exit``.
"""

import asyncio
import json
import random

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.session import TIMEOUT, inline_params, open_document, send_raw

pytestmark = pytest.mark.asyncio(loop_scope="module")
INIT_OPTIONS = {"syntaxAttempts": 1}  # the syntax check and its retry run on what gets through
MESSAGES = 250
URIS = ["file:///fz/a.py", "file:///fz/b.js", "file:///fz/c.rs", "untitled:Untitled-1",
        "file:///fz/d.txt", "vscode-notebook-cell:/fz/nb.ipynb#c1", "", "weird", "file:///%ZZ.py"]
TEXTS = ["def f(x):\n    return x\n", "", "\x00\x01", "é😀\n\tx = '😀😀'\r\n  ", "x" * 5000,
         "class A:\n    def m(self):\n        pass\n" * 3, "\r\n\r\n", "fn main() { let x = 1; }\n",
         "def f(x):\n    s = '\ud83d'\n    return x\n"]  # half of an emoji's surrogate pair
NOT_JSON_RPC = [b"{", b"[]", b"null", b"\xff\xfe", b'{"jsonrpc":"2.0"}',
                b'{"jsonrpc":"2.0","id":5}',
                b'{"jsonrpc":"2.0","method":5}', b'{"jsonrpc":"2.0","id":{},"method":"shutdown"}',
                b'{"jsonrpc":"2.0","id":1,"result":{}}',
                b'{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":[]}}']
LOAD_ERROR = "infill-lsp: model not loaded from "


class Fuzz:
    """Random LSP messages from one seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def value(self, depth: int = 0):
        """Any JSON value, nested a little."""
        r = self.rng
        kind = r.randrange(8)
        if kind == 0 and depth < 3:
            return [self.value(depth + 1) for _ in range(r.randrange(3))]
        if kind == 1 and depth < 3:
            keys = ["line", "character", "uri", "text", "start", "end", "triggerKind"]
            return {r.choice(keys): self.value(depth + 1) for _ in range(r.randrange(3))}
        return r.choice([None, -1, 0, 2**31, -2**63, 1.5, "", "😀", "\ud800", True, {}, []])

    def position(self):
        r = self.rng
        return r.choice([{"line": r.randrange(-2, 12), "character": r.randrange(-2, 60)},
                         {"line": 2**40, "character": 0}, {"line": 0}, self.value()])

    def range(self):
        return self.rng.choice([{"start": self.position(), "end": self.position()}, self.value()])

    def document(self):
        r = self.rng
        return r.choice([{"uri": r.choice(URIS)}, self.value(),
                         {"uri": r.choice(URIS), "version": r.randrange(9)}])

    def message(self) -> tuple[str, str | None, object]:
        """(``request`` | ``notification`` | ``bytes``, method, params or body)."""
        r, uri = self.rng, self.rng.choice(URIS)
        choices = [
            ("notification", "textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": r.choice(["python", "rust", "plaintext", "", "cobol"]),
                "version": r.randrange(5), "text": r.choice(TEXTS)}}),
            ("notification", "textDocument/didChange", {
                "textDocument": {"uri": uri, "version": r.randrange(10)},
                "contentChanges": [r.choice([{"text": r.choice(TEXTS)}, self.value(),
                                             {"range": self.range(), "text": r.choice(TEXTS)}])]}),
            ("notification", "textDocument/didClose", {"textDocument": {"uri": uri}}),
            ("request", "textDocument/inlineCompletion", {
                "textDocument": self.document(), "position": self.position(),
                "context": r.choice([{"triggerKind": r.choice([0, 1, 2, 3])}, self.value()])}),
            ("request", "textDocument/completion", {"textDocument": self.document(),
                                                    "position": self.position()}),
            ("request", "textDocument/codeAction", {
                "textDocument": self.document(), "range": self.range(),
                "context": r.choice([{"diagnostics": []}, self.value(), {"diagnostics": [
                    {"range": self.range(), "message": self.value()}]}])}),
            ("request", "codeAction/resolve", r.choice([
                {"title": "Fix this function", "data": self.value()}, self.value(),
                {"title": "x", "data": {"uri": uri, "position": self.position(),
                                        "kind": self.value(), "version": self.value()}}])),
            ("request", "workspace/executeCommand", {
                "command": r.choice(["infill.fixFunction", "infill.insertDocstring", "nope"]),
                "arguments": r.choice([[{"uri": uri, "position": self.position()}], [self.value()],
                                       self.value(), None])}),
            ("notification", "workspace/didChangeConfiguration", {"settings": r.choice([
                None, {}, {"infill": self.value()}, {"infill": {"threshold": self.value()}},
                {"infill": {"modelPath": self.value()}}, {"infill": {"features": self.value()}},
                self.value()])}),
            ("notification", "$/cancelRequest", {"id": self.value()}),
            ("request", r.choice(["textDocument/hover", "foo/bar", "$/unknown"]), self.value()),
            ("notification", r.choice(["notebookDocument/didOpen", "notebookDocument/didChange",
                                       "notebookDocument/didClose"]), r.choice([self.value(), {
                "notebookDocument": {"uri": "file:///fz/nb.ipynb", "version": 2},
                "change": {"cells": self.value()}}])),
            ("notification", "textDocument/didOpen", self.value()),
            ("bytes", None, r.choice(NOT_JSON_RPC)),
        ]
        return r.choice(choices)


def send_bytes(client: LanguageClient, body: bytes) -> None:
    """One framed message whose body is ``body``, whatever it is."""
    client.protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)


@pytest.mark.parametrize("seed", range(1, 7))
async def test_random_messages_are_answered_and_the_server_keeps_serving(client: LanguageClient,
                                                                          tiny_checkpoint, seed):
    fuzz, answers, shown = Fuzz(seed), [], len(client.messages)
    for _ in range(MESSAGES):
        kind, method, params = fuzz.message()
        if kind == "bytes":
            send_bytes(client, params)
        else:
            json.dumps(params)  # what is sent must be JSON (and stay JSON as the generator grows)
            future = send_raw(client, method, params, request=kind == "request")
            if future is not None:
                answers.append((method, params, asyncio.wrap_future(future)))
        await asyncio.sleep(fuzz.rng.choice([0, 0, 0.01]))

    done, pending = await asyncio.wait([a for _, _, a in answers], timeout=TIMEOUT)
    assert not pending, [(m, p) for m, p, a in answers if a in pending][:5]
    # an error response is an answer; only lsprotocol's own errors are expected, never a crash
    for method, params, answer in answers:
        error = answer.exception()
        assert error is None or type(error).__name__ in {
            "JsonRpcInvalidParams", "JsonRpcMethodNotFound"}, (method, params, error)

    # settings the junk may have changed are set back (with the syntax check off: the tiny
    # model's random text rarely parses) before checking that the model still serves
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={
        "infill": {"modelPath": str(tiny_checkpoint), "syntaxAttempts": 0}}))
    uri = f"file:///fz/alive-{seed}.py"
    open_document(client, uri, "def double(x):\n    return x * 2\n")
    for _ in range(100):  # a junk modelPath may still be reloading the model
        result = await client.text_document_inline_completion_async(inline_params(uri, 1, 16))
        if result is not None and result.items:
            break
        await asyncio.sleep(0.1)
    assert result is not None and result.items

    popups = [m.message for m in client.messages[shown:] if m.type == types.MessageType.Error]
    unexpected = [m for m in popups if not m.startswith(
        ("infill-lsp: invalid settings, keeping the previous ones", LOAD_ERROR))]
    assert not unexpected, unexpected
