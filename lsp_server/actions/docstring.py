"""The "Insert docstring" action: the slot and template of a function's missing docstring, and
the one-line summary the model writes in it."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from lsp_server import regions
from lsp_server.actions.common import Cancel, context, decode_settings
from lsp_server.attempts import best_of, schedule
from lsp_server.config import ServerConfig
from lsp_server.documents import Document
from lsp_server.edits import replace_span
from lsp_server.prose import prose


@dataclass(frozen=True)
class DocstringRequest:
    """Where a docstring goes and the template around its hole."""

    doc: Document
    insert: int  # char offset of the line the docstring is inserted before
    opening: str  # template text before the hole, indentation included
    closing: str  # template text after the hole, final newline included
    marks: str  # characters to strip from the model's text (quotes, comment leaders)
    around: tuple[str, str] = ("", "")  # text the model sees around the document (cells)


def docstring_request(doc: Document, line: int, character: int,
                      around: tuple[str, str] = ("", "")) -> DocstringRequest | None:
    """The docstring slot of the innermost function/class around a position, if it has none;
    ``around`` as for ``inline_request``."""
    if doc.tree is None or doc.language not in regions.LANGUAGES:
        return None
    offset = doc.offset_at(line, character)
    owner = regions.enclosing(doc.language, doc.tree, doc.byte_at(offset), {"function", "class"})
    if owner is None:
        return None
    slot = regions.docstring_slot(doc.language, doc.tree, doc.source, owner)
    if slot is None or slot.existing is not None:
        return None
    indent, style = slot.indent, slot.style
    if style == '"""' and doc.text.count("'''") > doc.text.count('"""'):
        style = "'''"  # follow the file's own quote style
    opening, closing = {
        "/**": (f"{indent}/**\n{indent} * ", f"\n{indent} */\n"),
        "//": (f"{indent}// ", "\n"),
        "///": (f"{indent}/// ", "\n"),
    }.get(style, (f"{indent}{style}", f"{style}\n"))
    return DocstringRequest(doc, doc.char_at_byte(slot.insert_byte), opening, closing,
                            marks=style + " *", around=around)


DOCSTRING_TRIES = 3  # the greedy decode, then samples while the summary is garbled


def run_docstring(engine, req: DocstringRequest, cfg: ServerConfig, cancel: Cancel
                  ) -> list[types.TextEdit] | None:
    """Denoise a one-line docstring against the signature and body; the insertion edit.

    The template's opening (the quotes, ``/**`` ...) is given: the model writes the summary and
    its closing delimiter (given the whole line, 11% of HumanEval functions got code, not a
    docstring). The user asked, so it decodes as an explicit request; a garbled summary
    (``prose``) is tried again by sampling, and none is offered if every try is garbled.
    """
    from model import infill_spans, shared_first_pass

    before, after = context(cfg, req.around[0] + req.doc.text[: req.insert],
                            req.doc.text[req.insert :] + req.around[1])
    plan = (cfg.line_tokens, True, False, engine)
    tries = schedule(decode_settings(cfg, *plan, explicit=True), DOCSTRING_TRIES,
                     sampled=decode_settings(cfg, *plan))
    with shared_first_pass(engine):
        got = best_of(
            tries,
            lambda s: infill_spans(engine, [before + req.opening, "\n" + after],
                                   [s.max_tokens], s, cancel=cancel),
            lambda result: docstring_text(result.texts[0], req.closing, req.marks),
            None,
        )
    if got.text is None:
        return None
    return replace_span(req.doc, req.insert, req.insert, req.opening + got.text + req.closing)


def docstring_text(raw: str, closing: str, marks: str) -> str | None:
    """The summary the model wrote after the template's opening: up to the closing delimiter,
    without comment marks; None if nothing is left or it is not prose."""
    text = raw.strip()
    for quote in ('"""', "'''"):  # the opening written again
        text = text.removeprefix(quote)
    end = closing.strip()
    if end:
        text = text.split(end, 1)[0]
    text = text.strip().strip(marks + "/").strip()
    return text if text and prose(text) else None
