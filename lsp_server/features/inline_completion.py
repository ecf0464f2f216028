"""``textDocument/inlineCompletion``: ghost text denoised at the cursor, latest request wins."""

from __future__ import annotations

import logging

from lsprotocol import types

from lsp_server import notebooks
from lsp_server.actions import inline
from lsp_server.documents import Document
from lsp_server.server import InfillServer, server

log = logging.getLogger(__name__)


async def infill_at(ls: InfillServer, doc: Document, position: types.Position,
                    automatic: bool) -> tuple[inline.InlineRequest, list[str]] | None:
    """Plan and denoise at a position: (request, cleaned texts), or None. An automatic request
    gets one text; an explicit one up to ``explicitCandidates`` different ones to cycle through.

    When the user has typed the start of the last suggestions, the rest of those is the answer,
    with no model run (``LastSuggestions``).
    """
    uri, cfg = doc.uri, ls.config
    around = notebooks.cell_context(ls.workspace, ls.documents, uri)
    req = inline.inline_request(doc, position.line, position.character, cfg, around)
    rests = ls.suggestions.rest(doc, req.offset, cfg)
    # An explicit request wants alternatives: one remembered suggestion is not enough for it.
    if rests and (automatic or len(rests) > 1 or cfg.explicit_candidates == 1):
        log.debug("typed through the last suggestions of %s: %d left", uri, len(rests))
        return req, rests
    delay = cfg.debounce_ms / 1000 if automatic else 0.0

    def job(engine, cancel):
        return inline.run_inline(engine, req, cfg, cancel, not automatic)

    texts = await ls.compute(doc, job, supersede=True, delay_s=delay)
    if not texts:
        return None
    ls.suggestions.remember(doc, req.offset, texts, cfg)
    return req, texts


def selected_item(params: types.InlineCompletionParams) -> types.SelectedCompletionInfo | None:
    """The completion item selected in the editor's suggest widget, when it replaces a range
    of the cursor's line around the cursor (else it is ignored)."""
    info = params.context.selected_completion_info
    if info is None:
        return None
    start, end, cursor = info.range.start, info.range.end, params.position
    same_line = start.line == end.line == cursor.line
    if not same_line or not start.character <= cursor.character <= end.character:
        log.debug("ignoring a selected completion away from the cursor: %s", info.range)
        return None
    return info


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def inline_completion(ls: InfillServer, params: types.InlineCompletionParams
                            ) -> types.InlineCompletionList | None:
    """Items inserted at the cursor (empty range), in UTF-16 columns.

    While a completion item is selected in the suggest widget, the model continues the
    document as if that item were inserted, and each item replaces the item's range with the
    item's text plus that continuation (how an editor shows ghost text beyond the item).
    """
    if not ls.config.features.inline_completion:
        return None
    doc = ls.document(params.text_document.uri)
    if doc is None or not ls.config.suggests_in(doc.language_id):
        return None
    automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
    position, item = params.position, selected_item(params)
    if item is not None:
        log.debug("continuing the selected completion item %r", item.text)
        start = item.range.start
        doc = ls.documents.preview(doc, ((start.line, start.character),
                                         (item.range.end.line, item.range.end.character)),
                                   item.text)
        line, character = doc.position_at(doc.offset_at(start.line, start.character)
                                          + len(item.text))
        position = types.Position(line=line, character=character)
    found = await infill_at(ls, doc, position, automatic)
    if found is None:
        return None
    req, texts = found
    if item is not None:
        return types.InlineCompletionList(items=[
            types.InlineCompletionItem(insert_text=item.text + text, range=item.range)
            for text in texts])
    line, character = req.doc.position_at(req.offset)
    cursor = types.Range(start=types.Position(line=line, character=character),
                         end=types.Position(line=line, character=character))
    items = [types.InlineCompletionItem(insert_text=text, range=cursor) for text in texts]
    return types.InlineCompletionList(items=items)
