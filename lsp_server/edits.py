"""Minimal text edits in UTF-16 columns: trim what did not change, keep the rest byte-identical."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from lsp_server.documents import Document


def _common(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """Lengths of the common head and (non-overlapping) common tail of two sequences."""
    head, limit = 0, min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def trim(old: str, new: str, *, by_lines: bool = False) -> tuple[int, int, str]:
    """Drop the common head and tail of ``old`` -> ``new``: (start, end) in ``old`` and new text.

    With ``by_lines`` whole unchanged lines are dropped, so the edit covers changed lines only.
    """
    if not by_lines:
        head, tail = _common(old, new)
        return head, len(old) - tail, new[head : len(new) - tail]
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head, tail = _common(old_lines, new_lines)
    start = sum(map(len, old_lines[:head]))
    end = len(old) - sum(map(len, old_lines[len(old_lines) - tail :]))
    new_end = len(new) - sum(map(len, new_lines[len(new_lines) - tail :]))
    return start, end, new[start:new_end]


def position(doc: Document, char_offset: int) -> types.Position:
    """LSP position (UTF-16 column) of a char offset in ``doc``."""
    line, character = doc.position_at(char_offset)
    return types.Position(line=line, character=character)


def char_range(doc: Document, start: int, end: int) -> types.Range:
    """LSP range of the char span [start, end) of ``doc``."""
    return types.Range(start=position(doc, start), end=position(doc, end))


def replace_span(doc: Document, start: int, end: int, new_text: str,
                 *, by_lines: bool = False) -> list[types.TextEdit]:
    """The minimal edit turning ``doc.text[start:end]`` into ``new_text`` ([] when unchanged)."""
    old = doc.text[start:end]
    if old == new_text:
        return []
    head, tail, text = trim(old, new_text, by_lines=by_lines)
    return [types.TextEdit(range=char_range(doc, start + head, start + tail), new_text=text)]


def workspace_edit(doc: Document, edits: Sequence[types.TextEdit],
                   document_changes: bool = True) -> types.WorkspaceEdit | None:
    """Wrap edits for one document; versioned ``documentChanges`` when the client supports it."""
    if not edits:
        return None
    if not document_changes:
        return types.WorkspaceEdit(changes={doc.uri: list(edits)})
    ident = types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(text_document=ident, edits=list(edits))]
    )


def apply(doc: Document, edits: Sequence[types.TextEdit]) -> str:
    """The text of ``doc`` after non-overlapping ``edits``; for tests and the demo."""
    text = doc.text
    spans = sorted(
        ((doc.offset_at(e.range.start.line, e.range.start.character),
          doc.offset_at(e.range.end.line, e.range.end.character), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text
