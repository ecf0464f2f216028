"""What the actions share: the sampler's settings for a request, the text around a span cut to
the context window, line offsets, and the syntax check of an edit with the span it scores."""

from __future__ import annotations

from collections.abc import Callable

from lsp_server import regions
from lsp_server.config import ServerConfig
from lsp_server.documents import Document
from lsp_server.syntax_check import DocumentCheck, SyntaxCheck

Cancel = Callable[[], bool]
CHARS_PER_TOKEN = 6  # generous: context is cut by characters before the sampler cuts by tokens
LARGE_SPAN = 8 * regions.CHECK_SPAN_BYTES  # chars: checked incrementally, tree-sitter only


def decode_settings(cfg: ServerConfig, max_tokens: int, single_line: bool, allow_empty: bool,
                    engine=None, explicit: bool = False, block: bool = False):
    """The sampler's settings for one request, from the server config; the decoding defaults
    depend on how fast ``engine`` computes, on whether the user asked and on whether the span is
    an empty line's block (``cfg.decoding``)."""
    from model import DecodeSettings  # torch loads on the worker thread, not at import

    threshold, steps_per_token = cfg.decoding(computes_fast(engine), explicit, block)
    return DecodeSettings(
        max_tokens=max(1, min(max_tokens, cfg.max_span_tokens)),
        threshold=threshold,
        steps_per_token=steps_per_token,
        context_tokens=cfg.context(computes_fast(engine), explicit),
        single_line=single_line,
        allow_empty=allow_empty,
    )


def computes_fast(engine) -> bool:
    """Whether ``engine`` runs in bf16 (or fp16) or off the CPU (assumed of anything without a
    device and a dtype); fp32 on a CPU takes about twice as long per step."""
    device, dtype = getattr(engine, "device", None), getattr(engine, "dtype", None)
    if device is None or dtype is None:
        return True
    return device.type != "cpu" or str(dtype) != "torch.float32"


def context(cfg: ServerConfig, before: str, after: str) -> tuple[str, str]:
    """Cut the text around a span to the context window (in characters, generously). The text
    after it ends in a newline, as every file in training does (an editor's last line may not)."""
    if not after.endswith("\n"):
        after += "\n"
    keep = cfg.context(fast=True) * CHARS_PER_TOKEN  # the widest any request gets
    return before[-keep:], after[:keep]


def line_start(doc: Document, row: int) -> int:
    return doc.offset_at(row, 0)


def line_end(doc: Document, row: int) -> int:
    return line_start(doc, row) + len(doc.line_text(row))


def next_line_start(doc: Document, row: int) -> int:
    start = line_start(doc, row + 1)
    return start if start > line_end(doc, row) else len(doc.text)


def edit_check(doc: Document, first: int, last: int) -> tuple[SyntaxCheck, int, int]:
    """The check of edits from ``first`` to ``last`` (an insertion at ``first`` when equal),
    and the char span it scores rewrites of: the statements around them in Python, just
    ``first``..``last`` of the whole document (reparsed incrementally) for other grammars, and
    for a Python statement with no block to narrow it to that is still over ``LARGE_SPAN``
    (a huge literal: parsing it whole per candidate took seconds)."""
    if doc.tree is not None and doc.language != "python":
        return DocumentCheck(doc, first, last), first, last
    start, end, nested = statement_span(doc, first, last)
    if doc.tree is not None and end - start > LARGE_SPAN:
        return DocumentCheck(doc, first, last), first, last
    return SyntaxCheck(doc.language, doc.text[start:first], doc.text[first:end], nested), start, end


def statement_span(doc: Document, first: int, last: int,
                   max_bytes: int | None = regions.CHECK_SPAN_BYTES) -> tuple[int, int, bool]:
    """Char span of the statements around ``first``..``last`` (regions.statement_span; None:
    top-level statements however long)."""
    if doc.tree is None:
        return 0, len(doc.text), False
    start, end, nested = regions.statement_span(doc.language, doc.tree, doc.byte_at(first),
                                                doc.byte_at(last), max_bytes or len(doc.source))
    return doc.char_at_byte(start), doc.char_at_byte(end), nested
