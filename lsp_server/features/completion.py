"""``textDocument/completion``: the inline infill as one completion item, for older clients."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.actions import inline
from lsp_server.features.inline_completion import infill_at
from lsp_server.server import InfillServer, server


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
async def completion(ls: InfillServer, params: types.CompletionParams
                     ) -> types.CompletionList | None:
    """One item whose textEdit is the infill (replacing the word typed so far)."""
    if not ls.config.features.completion:
        return None
    doc = ls.document(params.text_document.uri)
    if doc is None or not ls.config.suggests_in(doc.language_id):
        return None
    found = await infill_at(ls, doc, params.position, automatic=True)
    if found is None:
        return None
    req, texts = found
    rng, new_text = inline.completion_edit(req, texts[0])
    first_line = new_text.split("\n", 1)[0]
    item = types.CompletionItem(
        label=first_line + ("…" if "\n" in new_text else ""),
        kind=types.CompletionItemKind.Snippet,
        detail="infill",
        filter_text=new_text,
        text_edit=types.TextEdit(range=rng, new_text=new_text),
        insert_text_format=types.InsertTextFormat.PlainText,
        sort_text="0",
    )
    return types.CompletionList(is_incomplete=True, items=[item])
