"""``textDocument/inlineCompletion``: ghost text denoised at the cursor, latest request wins."""

from __future__ import annotations

import logging

from lsprotocol import types

from lsp_server import actions
from lsp_server.server import InfillServer, server

log = logging.getLogger(__name__)


async def infill_at(ls: InfillServer, uri: str, position: types.Position,
                    automatic: bool) -> tuple[actions.InlineRequest, str] | None:
    """Plan and denoise at a position: (request, cleaned text), or None.

    When the user has typed the start of the last suggestion, the rest of it is the answer,
    with no model run (``LastSuggestions``).
    """
    doc = ls.document(uri)
    if doc is None:
        return None
    cfg = ls.config
    req = actions.inline_request(doc, position.line, position.character, cfg)
    rest = ls.suggestions.rest(doc, req.offset, cfg)
    if rest is not None:
        log.debug("typed through the last suggestion of %s: %d characters left", uri, len(rest))
        return req, rest
    delay = cfg.debounce_ms / 1000 if automatic else 0.0

    def job(engine, cancel):
        return actions.run_inline(engine, req, cfg, cancel)

    text = await ls.compute(doc, job, supersede=True, delay_s=delay)
    if not text:
        return None
    ls.suggestions.remember(doc, req.offset, text, cfg)
    return req, text


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def inline_completion(ls: InfillServer, params: types.InlineCompletionParams
                            ) -> types.InlineCompletionList | None:
    """One item inserted at the cursor (empty range), in UTF-16 columns."""
    if not ls.config.features.inline_completion:
        return None
    automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
    found = await infill_at(ls, params.text_document.uri, params.position, automatic)
    if found is None:
        return None
    req, text = found
    line, character = req.doc.position_at(req.offset)
    cursor = types.Position(line=line, character=character)
    item = types.InlineCompletionItem(insert_text=text, range=types.Range(start=cursor, end=cursor))
    return types.InlineCompletionList(items=[item])
