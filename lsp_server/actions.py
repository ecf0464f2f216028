"""The plain logic behind the features: what to mask, how to ask the model, which edits result.

Each action has two halves. ``*_request`` runs on the event loop: it reads one immutable
``Document`` version (tree-sitter only, milliseconds) and returns a frozen request. ``run_*`` runs
on the scheduler's worker thread with the engine and returns text or ``TextEdit`` lists; it touches
only the request, never the live document store.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from lsprotocol import types

from lsp_server import calls, names, regions, slips, token_repair
from lsp_server.attempts import Attempted, best_of, merged, schedule
from lsp_server.config import ServerConfig
from lsp_server.documents import Document
from lsp_server.edits import char_range, replace_span
from lsp_server.file_check import MAX_CHARS, FileCheck, first_error
from lsp_server.inline_plan import InlinePlan, plan
from lsp_server.prose import garbled, prose
from lsp_server.syntax_check import (
    DocumentCheck,
    SyntaxCheck,
    indentation,
    opens_python_block,
    python_error,
    python_line_parses,
)

log = logging.getLogger(__name__)
Cancel = Callable[[], bool]
CHARS_PER_TOKEN = 6  # generous: context is cut by characters before the sampler cuts by tokens
_WORD_BEFORE = re.compile(r"\w+$")
MEND_ROWS = 3  # the broken rows ``mend_rows`` looks at
WORD_CHOICES = 8  # the model's words tried in place of a misspelt one
CLOSER_SPOTS = 8  # most places a dropped closing bracket is tried (the last ones in the row)
CLOSER_PASSES = 3  # scoring passes per place (model card: 3 found as many as 6)
END_PRIOR = 1.0  # nats added to the row's end for a dropped closing bracket: where most go
_CLAUSE = re.compile(r"(else|elif|except|finally)\b")  # a clause that needs a header at its level
_EMPTY_FILLS = ("stray", "indent")  # a mend may fill with nothing: a bracket typed twice; column 0
_CLOSING = ")]}:;"
_CLOSERS = re.compile(f"[{re.escape(_CLOSING)}]*")
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


def _context(cfg: ServerConfig, before: str, after: str) -> tuple[str, str]:
    """Cut the text around a span to the context window (in characters, generously). The text
    after it ends in a newline, as every file in training does (an editor's last line may not)."""
    if not after.endswith("\n"):
        after += "\n"
    keep = cfg.context(fast=True) * CHARS_PER_TOKEN  # the widest any request gets
    return before[-keep:], after[:keep]


def _line_start(doc: Document, row: int) -> int:
    return doc.offset_at(row, 0)


def _line_end(doc: Document, row: int) -> int:
    return _line_start(doc, row) + len(doc.line_text(row))


def _next_line_start(doc: Document, row: int) -> int:
    start = _line_start(doc, row + 1)
    return start if start > _line_end(doc, row) else len(doc.text)


# -- inline completion -------------------------------------------------------------------------


@dataclass(frozen=True)
class InlineRequest:
    """An inline completion at the cursor: model inputs and the length plan."""

    doc: Document
    offset: int  # cursor, char offset
    prefix: str
    suffix: str
    plan: InlinePlan
    around: tuple[str, str] = ("", "")  # text the model sees around the document (cells)


def inline_request(doc: Document, line: int, character: int, cfg: ServerConfig,
                   around: tuple[str, str] = ("", "")) -> InlineRequest:
    """Plan an inline completion at an LSP position (clamped into the document); ``around`` is
    text the model sees before and after the document (a notebook's other cells)."""
    offset = doc.offset_at(line, character)
    row, _ = doc.position_at(offset)
    byte_col = doc.byte_at(offset) - doc.byte_at(_line_start(doc, row))
    inline = plan(doc.language, doc.tree, doc.source, row, byte_col,
                  cfg.line_tokens, cfg.block_tokens)
    prefix, suffix = _context(cfg, around[0] + doc.text[:offset], doc.text[offset:] + around[1])
    return InlineRequest(doc, offset, prefix, suffix, inline, around)


def run_inline(engine, req: InlineRequest, cfg: ServerConfig, cancel: Cancel,
               explicit: bool = False) -> list[str]:
    """Denoise the span at the cursor: the cleaned texts to insert (one, or for an ``explicit``
    request up to ``cfg.explicit_candidates`` different ones), the greedy one first; none when
    nothing is worth offering."""
    chosen = attempt_inline(engine, req, cfg, cancel, explicit)
    if chosen.withheld:
        log.debug("inline completion withheld: every candidate adds a syntax error")
    return chosen.texts


def attempt_inline(engine, req: InlineRequest, cfg: ServerConfig, cancel: Cancel,
                   explicit: bool = False) -> Attempted:
    """The candidates for the span at the cursor: the chosen text (cleaned) and what it cost.

    A block (cursor on an empty line) gets up to ``cfg.syntax_attempts`` candidates, the first
    that adds no syntax error winning, decoded at least BLOCK (``ServerConfig.decoding``). The
    rest of a line gets one: a second would double the latency of the most frequent request
    (server p50 147 -> 232 ms measured). A text that adds a syntax error is never offered
    (``syntax_attempts=0``: one candidate, unchecked). An ``explicit`` request (a key: the user
    waits, and can cycle through them) decodes its greedy tries at least as carefully, samples
    as a typed line decodes, and keeps up to ``keep = cfg.explicit_candidates`` different ones
    out of ``keep + 1`` tries (the spare: a block's one-line try often repeats the block). On
    an empty line its alternatives come first from the block decoded at other lengths, best
    scored first (``cfg.length_search``, ``model.length_search``); any other request on an
    empty line tries those lengths only when none of its own candidates is usable.
    """
    from model import InfillResult, infill, shared_first_pass

    plan = (req.plan.max_tokens, req.plan.single_line, False, engine)
    settings = decode_settings(cfg, *plan, explicit, block=req.plan.mode == "block")
    sampled = decode_settings(cfg, *plan)
    keep = cfg.explicit_candidates if explicit else 1
    count = 1 if req.plan.single_line else cfg.syntax_attempts
    if keep > 1:
        count = max(count, keep + 1)
    tries = schedule(settings, count, cfg.line_tokens, sampled)

    decoded = []  # the plan's greedy decode, once generated

    def generate(tried):
        if isinstance(tried, InfillResult):  # a length search's candidate, decoded already
            return tried
        decoded.append(infill(engine, req.prefix, req.suffix, tried, cancel=cancel))
        return decoded[-1]

    unknown = unresolved(req) if cfg.known_names else None

    def finish(result):
        text = clean_inline(req, result.text)
        if text is None or unknown is None or not (missing := unknown(text)):
            return text
        text = names.unglued(text, missing)  # ``returnans``: offered as ``return ans``
        if missing := unknown(text):
            log.debug("inline candidate dropped: the file has no %s", ", ".join(missing))
            return None
        return None if _copies_a_neighbour(req, text) else text

    def attempt(candidates):
        return best_of(
            candidates,
            generate,
            finish,
            inline_errors(req, cfg.whole_file_check) if cfg.syntax_attempts else None,
            keep,
        )

    search = req.plan.mode == "block" and cfg.length_search
    with shared_first_pass(engine):  # attempts of one budget share the context pass
        if search and explicit and keep > 1:
            return attempt(_searched(engine, req, tries[0], cancel) + tries[1:])
        chosen = attempt(tries)
        if not search or chosen.texts or chosen.cancelled or not decoded:
            return chosen
        # Nothing usable: the block at other lengths (model card, "Length search").
        return merged(chosen, attempt(_searched(engine, req, tries[0], cancel, decoded[0])[1:]))


def _searched(engine, req: InlineRequest, settings, cancel: Cancel, first=None) -> list:
    """The block's greedy decode (``first`` when given), then the same span at other lengths,
    best-scored first, as decoded results (``model.length_search``); the second carries what
    the search cost."""
    from model import InfillResult, infill
    from model.length_search import search_lengths

    if first is None:
        first = infill(engine, req.prefix, req.suffix, settings, cancel=cancel)
    if first.cancelled:
        return [first]
    found = search_lengths(engine, req.prefix, req.suffix, settings, [first.token_ids],
                           cancel=cancel)
    cost = {"forward_passes": found.forward_passes, "elapsed_ms": found.elapsed_ms}
    if found.ranked is None:
        return [first, InfillResult("", [], True, **cost)]
    out = [InfillResult(r.text, r.token_ids, False, 0, 0.0) for r in found.ranked
           if r.text != first.text]
    if not out:  # nothing new: an empty result that carries the cost
        return [first, InfillResult("", [], False, **cost)]
    return [first, dataclasses.replace(out[0], **cost)] + out[1:]


def syntax_check(req: InlineRequest) -> SyntaxCheck:
    """The check for an insertion at the cursor, over the statements around it."""
    return _check(req.doc, req.offset, req.offset)[0]


def inline_errors(req: InlineRequest, whole_file: bool = True) -> Callable[[str], int]:
    """How many syntax errors a candidate adds at the cursor (0: it may be offered).

    For the rest of a Python line whose surroundings are already broken (the user is typing
    that line), the completed line must also parse on its own (``python_line_parses``): else
    the line's own errors hide a suggestion that leaves it broken (``if n %  #``). With half of
    each of 300 HumanEval lines typed, this withheld 39 of the 42 offered suggestions that left
    the program unparseable, and nothing else; the truth's rest of 2,520 partly typed lines
    (a third, a half, two thirds), with the rest of the function below or not yet written, was
    accepted wherever it was before. A Python block header whose body is not written yet is
    unfinished, not broken (``_with_body``). With ``whole_file``, a Python candidate must also
    not make the whole file compile worse (``lsp_server.file_check``): a line whose indentation
    leaves its block, a ``return`` outside any function, an empty line's own error left
    unfilled. Neither rule applies inside a string or comment;
    there a ``garbled`` text counts as an error: typing three words of each HumanEval summary
    into a new docstring, 152 of the 160 suggestions were garbled (``product product ...``).
    """
    check = syntax_check(req)
    if _in_text(req):
        return lambda text: check.added_errors(text) + garbled(text)
    if req.doc.language != "python":
        return check.added_errors
    whole = _file_check(req) if whole_file else None

    def errors(text: str) -> int:
        added = check.added_errors_in(_with_body(check.before, check.after, req, text))
        if not added and whole is not None:
            before, after = whole.text[: whole.offset], whole.text[whole.offset :]
            added = int(whole.worse(_with_body(before, after, req, text)))
        if added or not check.base_errors or not req.plan.single_line:
            return added
        return 0 if python_line_parses(_completed_lines(req, text)[0]) else 1

    return errors


def _file_check(req: InlineRequest) -> FileCheck:
    """The whole-file check of an insertion at the cursor, over the top-level statements around
    it (the statement before through the one after: what an insertion can change the meaning
    of), never narrowed to a block as the syntax check may be; from the file's start when the
    first of them is indented (tree-sitter's recovery from broken code ends statements early)."""
    start, end, _ = _statement_span(req.doc, req.offset, req.offset, max_bytes=None)
    start = _line_start(req.doc, req.doc.position_at(start)[0])
    if req.doc.text[start : start + 1].isspace():
        start = 0
    return FileCheck(req.doc.text[start:end], req.offset - start)


def _with_body(before: str, after: str, req: InlineRequest, text: str) -> str:
    """``before + text + after`` (the code around the cursor), and a ``pass`` body under the
    last line ``text`` completes when that line opens a block whose body is not written yet
    (nothing below it is indented deeper): a header the user will write the body of is
    unfinished, not broken."""
    rest, newline, below = after.partition("\n")
    last = _completed_lines(req, text)[-1]
    indent = last[: len(last) - len(last.lstrip())]
    following = next((line for line in below.split("\n") if line.strip()), "")
    if not opens_python_block(last) or len(following) - len(following.lstrip()) > len(indent):
        return before + text + after
    body = "\n" + indent + ("\t" if indent.startswith("\t") else "    ") + "pass"
    return before + text + rest + body + newline + below


def unresolved(req: InlineRequest) -> Callable[[str], list[str]] | None:
    """What a candidate refers to that the file does not have: the names it uses that neither
    the file (with the cells around it) nor Python has (``lsp_server.names``), and its calls of
    the file's functions with a number of arguments they cannot take (``lsp_server.calls``).
    None where that is not checked: outside Python, in a string or comment (prose; a docstring
    whose closing quotes are not written yet too), in an import (it names what another module
    has)."""
    if req.doc.language != "python" or _inside(req, ("string", "comment", *names.IMPORTS)):
        return None
    source = req.doc.text
    if source.count('"""', 0, req.offset) % 2 or source.count("'''", 0, req.offset) % 2:
        return None  # a docstring whose closing quotes are not written yet
    known = names.known_in(req.around[0], source, req.around[1])
    tree = req.doc.tree
    defined = functools.cache(lambda: calls.arities(tree) if tree is not None else {})
    row = req.doc.position_at(req.offset)[0]
    column = req.offset - _line_start(req.doc, row)

    def unknown(text: str) -> list[str]:
        lines = _completed_lines(req, text)
        end = (len(lines) - 1, len(lines[-1]) - (len(req.doc.line_text(row)) - column))
        return (names.unknown_names(lines, (0, column), end, known)
                + calls.misfits(lines, (0, column), end, defined))

    return unknown


def _in_text(req: InlineRequest) -> bool:
    """Whether the cursor is inside a string or a comment (prose, not code)."""
    return _inside(req, ("string", "comment"))


def _inside(req: InlineRequest, types: tuple[str, ...]) -> bool:
    """Whether the cursor is inside a node of one of ``types``."""
    if req.doc.tree is None:
        return False
    at = req.doc.byte_at(req.offset)
    node = req.doc.tree.root_node.descendant_for_byte_range(max(at - 1, 0), at)
    while node is not None and node.type not in types:
        node = node.parent
    return node is not None


def _check(doc: Document, first: int, last: int) -> tuple[SyntaxCheck, int, int]:
    """The check of edits from ``first`` to ``last`` (an insertion at ``first`` when equal),
    and the char span it scores rewrites of: the statements around them in Python, just
    ``first``..``last`` of the whole document (reparsed incrementally) for other grammars, and
    for a Python statement with no block to narrow it to that is still over ``LARGE_SPAN``
    (a huge literal: parsing it whole per candidate took seconds)."""
    if doc.tree is not None and doc.language != "python":
        return DocumentCheck(doc, first, last), first, last
    start, end, nested = _statement_span(doc, first, last)
    if doc.tree is not None and end - start > LARGE_SPAN:
        return DocumentCheck(doc, first, last), first, last
    return SyntaxCheck(doc.language, doc.text[start:first], doc.text[first:end], nested), start, end


def _statement_span(doc: Document, first: int, last: int,
                    max_bytes: int | None = regions.CHECK_SPAN_BYTES) -> tuple[int, int, bool]:
    """Char span of the statements around ``first``..``last`` (regions.statement_span; None:
    top-level statements however long)."""
    if doc.tree is None:
        return 0, len(doc.text), False
    start, end, nested = regions.statement_span(doc.language, doc.tree, doc.byte_at(first),
                                                doc.byte_at(last), max_bytes or len(doc.source))
    return doc.char_at_byte(start), doc.char_at_byte(end), nested


def clean_inline(req: InlineRequest, raw: str) -> str | None:
    """Trim the model's text so nothing already after the cursor is inserted twice; None when
    nothing new is left, when it would copy the line just above or below, or when it holds a
    U+FFFD the file has none of (bytes of a character the model did not finish)."""
    following = req.doc.text[req.offset :]
    rest_of_line, _, after = following.partition("\n")
    if req.plan.single_line:
        text = _before_the_rest(raw.split("\n", 1)[0].rstrip(), rest_of_line)
        text = text[: len(text) - _overlap(text, rest_of_line.rstrip())]
    else:
        text = _drop_repeated_lines(raw.rstrip(), after.split("\n"))
        if rest_of_line.strip():  # a block typed mid-line: never repeat the line's tail
            text = text[: len(text) - _overlap(text, rest_of_line.rstrip())]
    if "\ufffd" in text and "\ufffd" not in req.prefix + req.suffix:
        return None  # half of a character: the model's bytes did not decode
    return text if text.strip() and not _copies_a_neighbour(req, text) else None


def _copies_a_neighbour(req: InlineRequest, text: str) -> bool:
    """Whether the first line ``text`` makes at the cursor repeats the line above, or its last
    line the line below. Such a copy is almost never right: 0.16% of adjacent non-blank lines in
    this machine's site-packages are equal, and none of the 6,848 HumanEval infilling truths."""
    row = req.doc.position_at(req.offset)[0]
    lines = _completed_lines(req, text)
    return any(new.strip() and new.rstrip() == req.doc.line_text(other).rstrip()
               for new, other in ((lines[0], row - 1), (lines[-1], row + 1)))


def _completed_lines(req: InlineRequest, text: str) -> list[str]:
    """The cursor's line with ``text`` inserted, split into lines."""
    doc = req.doc
    row = doc.position_at(req.offset)[0]
    line, column = doc.line_text(row), req.offset - _line_start(doc, row)
    return (line[:column] + text + line[column:]).split("\n")


def _before_the_rest(text: str, rest: str) -> str:
    """``text`` up to where it writes out ``rest``, what follows the cursor on its line. In the
    middle of a line the model often writes the answer, that rest again, then more (training
    masks a line to its end, so it learned to finish lines): ``values)  # é😀"; total = sum(``
    for ``sum(|)  # é😀``. A rest of one character (``)``) is too common to cut at."""
    key = rest.strip()
    at = text.find(key) if len(key) > 1 else -1
    return text if at < 0 else text[:at].rstrip() if rest[:1].isspace() else text[:at]


def _overlap(text: str, following: str) -> int:
    """Length of the longest tail of ``text`` that is a head of ``following``."""
    for k in range(min(len(text), len(following)), 0, -1):
        if text.endswith(following[:k]):
            return k
    return 0


def _drop_repeated_lines(text: str, next_lines: list[str]) -> str:
    """Drop trailing lines of ``text`` that repeat the lines after the cursor's line."""
    lines = text.split("\n")
    for k in range(min(len(lines) - 1, len(next_lines)), 0, -1):
        if [line.rstrip() for line in lines[-k:]] == [line.rstrip() for line in next_lines[:k]]:
            return "\n".join(lines[:-k]).rstrip()
    return text


def completion_edit(req: InlineRequest, text: str) -> tuple[types.Range, str]:
    """A completion item's edit: it replaces the word before the cursor so clients filter on it."""
    row = req.doc.position_at(req.offset)[0]
    word = _WORD_BEFORE.search(req.doc.text[_line_start(req.doc, row) : req.offset])
    start = req.offset - (len(word.group()) if word else 0)
    return char_range(req.doc, start, req.offset), req.doc.text[start : req.offset] + text


# -- fix this function -------------------------------------------------------------------------


@dataclass(frozen=True)
class FixRequest:
    """A function to repair: its rows, the rows flagged so far, and the rows that may change."""

    doc: Document
    first_row: int
    last_row: int
    flagged: tuple[int, ...]  # empty: the model picks the least likely token
    candidates: tuple[int, ...]  # body rows with content (what the model may pick)
    around: tuple[str, str] = ("", "")  # text the model sees around the document (cells)


def function_rows(doc: Document, line: int, character: int) -> tuple[int, int, int] | None:
    """(first row, body's first row, last row) of the function around a position."""
    offset = doc.offset_at(line, character)
    if doc.tree is None or doc.language not in regions.LANGUAGES:
        return _line_block(doc, offset) if doc.text.strip() else None
    func = regions.enclosing(doc.language, doc.tree, doc.byte_at(offset), "function")
    if func is not None:
        return _rows_of(doc, func, func.end_point[0])
    row = doc.position_at(offset)[0]
    func = _function_above(doc, row)
    if func is not None:
        return _rows_of(doc, func, row)
    # a syntax error in the header hides the definition from tree-sitter
    rows = _line_block(doc, offset)
    start, end = doc.byte_at(_line_start(doc, rows[0])), doc.byte_at(_line_end(doc, rows[2]))
    return rows if regions.error_rows(doc.tree, start, end) else None


def _rows_of(doc: Document, func, last: int) -> tuple[int, int, int]:
    """(first row, body's first row, ``last``) of a function node."""
    bodies = regions.captures(doc.language, doc.tree, {"function.body"},
                              (func.start_byte, func.end_byte))
    body_row = next((b.start_point[0] for b in bodies if b.start_byte >= func.start_byte),
                    func.start_point[0])
    return func.start_point[0], body_row, last


def _function_above(doc: Document, row: int):
    """The Python function (tree-sitter node) that ends above ``row`` where ``row`` is indented
    deeper than its header: a row whose indentation slipped out of its block (``  return x`` in
    a body at 4), which tree-sitter puts after the function; else None."""
    indent = len(indentation(doc.line_text(row)))
    if doc.language != "python" or not doc.line_text(row).strip() or not indent:
        return None
    above = next((r for r in range(row - 1, -1, -1) if doc.line_text(r).strip()), None)
    if above is None:
        return None
    start = _line_start(doc, above) + len(indentation(doc.line_text(above)))
    func = regions.enclosing(doc.language, doc.tree, doc.byte_at(start), "function")
    if func is None or func.end_point[0] >= row:
        return None
    return func if indent > len(indentation(doc.line_text(func.start_point[0]))) else None


def _line_block(doc: Document, offset: int) -> tuple[int, int, int]:
    """Line-based (first, body, last) rows around an offset, with the less indented header above."""
    first, last = regions.fallback_block(doc.source, doc.position_at(offset)[0])
    line = doc.line_text(first)
    above = doc.line_text(first - 1) if first > 0 else ""
    if above.strip() and len(above) - len(above.lstrip()) < len(line) - len(line.lstrip()):
        first -= 1
    return first, first + 1 if last > first else first, last


def fix_request(doc: Document, line: int, character: int,
                diagnostic_rows: list[int] | None = None,
                around: tuple[str, str] = ("", ""), pin: bool = True) -> FixRequest | None:
    """What "Fix this function" would mask: diagnostics, else syntax errors (with ``pin``, the
    row CPython names, with tree-sitter's next to it; without, tree-sitter's alone, as cheap as
    asking whether a fix applies should be), else the model; ``around`` as for
    ``inline_request``."""
    rows = function_rows(doc, line, character)
    if rows is None:
        return None
    first, body, last = rows
    inside = range(first, last + 1)
    flagged = sorted({r for r in diagnostic_rows or [] if r in inside})
    if not flagged and doc.tree is not None:
        start, end = doc.byte_at(_line_start(doc, first)), doc.byte_at(_line_end(doc, last))
        flagged = [r for r in regions.error_rows(doc.tree, start, end) if r in inside]
        pinned = _python_error(doc, first, last)[0] if pin else None
        if pinned is not None:  # and tree-sitter's rows next to it
            flagged = sorted({pinned, *(r for r in flagged if abs(r - pinned) <= 1)})
    comments = set()
    if doc.tree is not None and doc.language in regions.LANGUAGES:
        comments = regions.prose_rows(doc.language, doc.tree, doc.source,
                                      doc.byte_at(_line_start(doc, first)),
                                      doc.byte_at(_line_end(doc, last)))
    code = [r for r in inside if doc.line_text(r).strip() and r not in comments]
    candidates = [r for r in code if r >= max(body, first + 1)] or code
    return FixRequest(doc, first, last, tuple(flagged), tuple(candidates), around)


def _python_error(doc: Document, first: int, last: int
                  ) -> tuple[int | None, SyntaxError | None]:
    """The row of CPython's first syntax error in the rows ``first``..``last`` of a Python
    document, parsed alone (nested under a header when indented), and the error; None for the
    row without one there."""
    if doc.language != "python":
        return None, None
    lines = [doc.line_text(row) for row in range(first, last + 1)]
    header = "if 1:\n" if lines[0][:1].isspace() else ""
    error = python_error(header + "\n".join(lines) + "\n")
    if error is None or not error.lineno:
        return None, error
    row = error.lineno - 1 + first - bool(header)
    return (row if first <= row <= last else None), error


def row_groups(rows: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of rows as (first, last) pairs."""
    groups: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if groups and row == groups[-1][1] + 1:
            groups[-1] = (groups[-1][0], row)
        else:
            groups.append((row, row))
    return groups


def _hole(doc: Document, group: tuple[int, int]) -> tuple[int, int]:
    """Char span a line group's hole covers: from the first line's indentation to the last end."""
    start = _line_start(doc, group[0])
    first = doc.line_text(group[0])
    return start + len(first) - len(first.lstrip()), _line_end(doc, group[1])


def run_fix(engine, req: FixRequest, cfg: ServerConfig, cancel: Cancel
            ) -> list[types.TextEdit] | None:
    """The edits of a fix, or None. In code that does not parse, first a slip mended on a broken
    row (``mend_rows``: a misspelt word, a dropped colon, bracket or comma), taken at once when
    it leaves no error. Then a one-token repair (``repair_token``): in a function that parses,
    or on its broken lines, where it must remove an error, and more than the mend did (so
    neither is tried with ``cfg.syntax_attempts`` 0); in a function that parses without a
    diagnostic that is all there is. Else the mend, else the flagged lines rewritten
    (``rewrite_rows``)."""
    doc = req.doc
    check, start, end = _check(doc, _line_start(doc, req.first_row), _line_end(doc, req.last_row))
    broken = bool(check.base_errors and req.flagged and cfg.syntax_attempts)
    mended = mend_rows(engine, req, cfg, cancel, (check, start, end)) if broken else None
    if mended and not mended[0]:
        return mended[1]
    if not check.base_errors or broken:  # a token repair that leaves fewer errors, if any
        fewer = mended[0] - 1 if mended else None
        edits = repair_token(engine, req, cfg, cancel, (check, start, end), fewer)
        if edits or mended or not req.flagged:
            return edits or (mended[1] if mended else None)
    return None if cancel() else rewrite_rows(engine, req, cfg, cancel)


def repair_token(engine, req: FixRequest, cfg: ServerConfig, cancel: Cancel,
                 checked: tuple[SyntaxCheck, int, int], allowed: int | None = None
                 ) -> list[types.TextEdit] | None:
    """The whole-line edit of the first ``token_repair.repairs`` of the flagged rows (else the
    candidate rows) that adds no syntax error, and removes one from a function that has some
    (unchecked with ``cfg.syntax_attempts`` 0), leaving at most ``allowed`` errors if given;
    ``checked`` is ``_check`` of the function. Without a diagnostic the model's token must
    beat the one there by ``cfg.fix_margin``, stand out from the function's other tokens, and
    be a word for a word (``token_repair.repairs``, unprompted)."""
    doc = req.doc
    rows = req.flagged or req.candidates
    scores = token_repair.suspects(engine, doc, rows, _line_start(doc, req.first_row),
                                   _line_end(doc, req.last_row), cancel)
    if not scores:
        return None
    check, start, end = checked
    margin = 0.0 if req.flagged else cfg.fix_margin
    allowed = _errors_left(check) if allowed is None else allowed
    for fix in token_repair.repairs(doc, scores, margin, unprompted=not req.flagged):
        if cfg.syntax_attempts and check.errors(
                doc.text[start : fix.start] + fix.text + doc.text[fix.end : end]) > allowed:
            continue
        row = doc.position_at(fix.start)[0]
        first, last = _line_start(doc, row), _line_end(doc, row)
        line = doc.text[first : fix.start] + fix.text + doc.text[fix.end : last]
        log.debug("one-token fix on row %d: %r -> %r (margin %.1f)", row,
                  doc.text[fix.start : fix.end], fix.text, fix.margin)
        return replace_span(doc, first, last, line, by_lines=True)
    return None


def _errors_left(check: SyntaxCheck) -> int:
    """The syntax errors a fix may leave: a fix of broken code must remove one."""
    return max(0, check.base_errors - 1)


def mend_rows(engine, req: FixRequest, cfg: ServerConfig, cancel: Cancel,
              checked: tuple[SyntaxCheck, int, int]
              ) -> tuple[int, list[types.TextEdit]] | None:
    """(syntax errors left, the edit) of a slip mended on a broken row, at a hole of
    ``slips.holes`` on the first ``MEND_ROWS`` flagged rows: a misspelt word replaced
    (``_word_options``), else a dropped closing bracket or quote put back where the model likes
    it best (``_closer_options``), else a closing bracket typed twice removed
    (``_stray_options``), else a row CPython finds misindented put at a level of the blocks
    above it (``_indent_options``), else an insertion at the row's end or between two operands
    (``_insert_options``). Of the candidates that remove an error, add none and name nothing
    the document lacks, the one leaving the fewest errors wins, the first in that order (the
    least mend) of those. ``checked`` is ``_check`` of the function."""
    doc = req.doc
    check, start, end = checked
    rows = [(_line_start(doc, row), doc.line_text(row)) for row in list(req.flagged)[:MEND_ROWS]]
    holes = slips.holes(doc.text, rows, doc.language)
    words = [hole for hole in holes if hole.kind == "word"]
    inserts = [hole for hole in holes if hole.kind != "word"]
    candidates = _word_options(engine, req, words) if words else []
    if not cancel():
        candidates += _closer_options(engine, req, rows, checked, cancel)
    if not cancel():
        candidates += _stray_options(engine, req, rows, checked, cancel)
    if not cancel():
        candidates += _indent_options(engine, req, checked, cancel)
    if inserts and not cancel():
        candidates += _insert_options(engine, req, cfg, inserts, cancel)
    if cancel():
        return None
    known = names.known_words(doc.text, doc.language)
    best = None
    for hole, text in candidates:
        if (not text and hole.kind not in _EMPTY_FILLS) or "\n" in text \
                or text == doc.text[hole.start : hole.end] \
                or any(word not in known for word in names.WORD.findall(text)):
            continue
        left = check.errors(doc.text[start : hole.start] + text + doc.text[hole.end : end])
        if left <= _errors_left(check) and (best is None or left < best[0]):
            best = (left, hole, text)
            if not left:
                break
    if best is None:
        return None
    left, hole, text = best
    log.debug("slip mended (%s): %r -> %r", hole.kind, doc.text[hole.start : hole.end], text)
    row = doc.position_at(hole.start)[0]
    first, last = _line_start(doc, row), _line_end(doc, row)
    return left, replace_span(doc, first, last, doc.text[first : hole.start] + text
                              + doc.text[hole.end : last], by_lines=True)


def _word_options(engine, req: FixRequest, words: list[slips.Hole]
                  ) -> list[tuple[slips.Hole, str]]:
    """For each word hole, the ``WORD_CHOICES`` words the model likes best in its place, the
    word as one mask token (``model.scoring.masked_choices``, the function as context), those
    spelt most like the slip first: a slip is spelt like the word meant."""
    from model.scoring import masked_choices

    doc = req.doc
    words = sorted(words, key=lambda hole: hole.start)
    first, last = _line_start(doc, req.first_row), _line_end(doc, req.last_row)
    choices = masked_choices(engine, doc.text[first:last],
                             [(h.start - first, h.end - first) for h in words], WORD_CHOICES)
    options = []
    for hole, found in zip(words, choices):
        slip = doc.text[hole.start : hole.end]
        texts = [text.strip() for text, _ in found if names.WORD.fullmatch(text.strip())]
        options += [(hole, text) for text in sorted(
            texts, key=lambda text: -SequenceMatcher(None, slip, text).ratio())]
    return options


def _closer_options(engine, req: FixRequest, rows: list[tuple[int, str]],
                    checked: tuple[SyntaxCheck, int, int], cancel: Cancel
                    ) -> list[tuple[slips.Hole, str]]:
    """For each bracket or string a row opens and never closes (``slips.unclosed``), its closer
    at each ``slips.closer_spots``, ranked by ``_likeliest`` (the row's end gets ``END_PRIOR``):
    a closer dropped mid-row (``math.ceil(i)**2``) parses at the row's end too, meaning
    another thing."""
    language = req.doc.language
    options = []
    for row_start, row in rows:
        for a, b, closer in slips.unclosed(row, language):
            spots = [(slips.Hole(row_start + at, row_start + at, 1, "close"), closer)
                     for at in slips.closer_spots(row, language, a, b)]
            ranked = _likeliest(engine, req, checked, (row_start, row), spots, END_PRIOR, cancel)
            if ranked is None:
                return options
            options += ranked
    return options


def _stray_options(engine, req: FixRequest, rows: list[tuple[int, str]],
                   checked: tuple[SyntaxCheck, int, int], cancel: Cancel
                   ) -> list[tuple[slips.Hole, str]]:
    """For each closing bracket that closes nothing its row opens (``slips.stray_closers``:
    typed twice, ``f(x))``), it or a closer like it before it (``slips.twin_spots``) removed,
    ranked by ``_likeliest`` (the stray itself gets ``END_PRIOR``)."""
    language = req.doc.language
    options = []
    for row_start, row in rows:
        for stray in slips.stray_closers(row, language):
            twins = [(slips.Hole(row_start + at, row_start + at + 1, 0, "stray"), "")
                     for at in slips.twin_spots(row, language, stray)]
            ranked = _likeliest(engine, req, checked, (row_start, row), twins, END_PRIOR, cancel)
            if ranked is None:
                return options
            options += ranked
    return options


def _indent_options(engine, req: FixRequest, checked: tuple[SyntaxCheck, int, int],
                    cancel: Cancel) -> list[tuple[slips.Hole, str]]:
    """Where CPython rejects a Python row's indentation (``IndentationError``: an unexpected
    indent, an unindent that matches no block, a header without its body; or an ``else``,
    ``elif``, ``except`` or ``finally`` that matches no header at its level), that row, then the
    row above it (the first of a block indented short of the rest, a header indented too
    deep), put at each ``slips.indent_levels`` of the rows above it, each row's ranked by
    ``_likeliest``; those after which CPython's first error in the whole file comes later
    first (tree-sitter may end the function at the slip, so the rows below it are unseen; a
    ``return`` moved out of its function counts: ``file_check.first_error``), then those
    nearest the row's own indentation."""
    doc = req.doc
    row, error = _python_error(doc, req.first_row, req.last_row)
    if row is None or not (isinstance(error, IndentationError)
                           or _CLAUSE.match(doc.line_text(row).lstrip())):
        return []
    above = next((r for r in range(row - 1, req.first_row, -1) if doc.line_text(r).strip()), None)
    options = []
    for moved in (row, above) if above is not None else (row,):
        text = doc.line_text(moved)
        start, indent = _line_start(doc, moved), len(text) - len(text.lstrip())
        levels = slips.indent_levels([doc.line_text(r) for r in range(req.first_row, moved + 1)])
        ranked = _likeliest(engine, req, checked, (start, text), [
            (slips.Hole(start, start + indent, 0, "indent"), level) for level in levels], 0.0,
            cancel)
        if ranked is None:
            break
        options += ranked
    if len(doc.text) <= MAX_CHARS:  # then the level nearest the row's own: a slip is small
        options.sort(key=lambda option: (-_file_error_row(doc, *option), abs(
            len(option[1]) - (option[0].end - option[0].start))))
    return options


def _file_error_row(doc: Document, hole: slips.Hole, fill: str) -> float:
    """The row of CPython's first syntax error in the document with ``hole`` filled, or of a
    ``return``, ``break`` and the like it leaves out of place on the hole's row (inf: none)."""
    row = doc.position_at(hole.start)[0]
    error = first_error(doc.text[: hole.start] + fill + doc.text[hole.end :], range(row, row + 1))
    return math.inf if error is None else error.row


def _likeliest(engine, req: FixRequest, checked: tuple[SyntaxCheck, int, int],
               row: tuple[int, str], options: list[tuple[slips.Hole, str]], last_prior: float,
               cancel: Cancel) -> list[tuple[slips.Hole, str]] | None:
    """Of ``options``, edits of one ``row`` (the offset of its start, its text), those that
    leave the fewest syntax errors if that removes one, the last ``CLOSER_SPOTS`` of them, the
    row the model finds likeliest first (``_row_logprob``, scored only where there is a
    choice; the last gets ``last_prior`` nats); None when cancelled."""
    doc = req.doc
    check, start, end = checked
    row_start, text = row
    edited = {}
    for hole, fill in options:
        new = text[: hole.start - row_start] + fill + text[hole.end - row_start :]
        edited.setdefault(new, (check.errors(
            doc.text[start : hole.start] + fill + doc.text[hole.end : end]), hole, fill))
    fewest = min((left for left, _, _ in edited.values()), default=None)
    if fewest is None or fewest > _errors_left(check):
        return []
    kept = [(new, hole, fill) for new, (left, hole, fill) in edited.items() if left == fewest]
    kept = kept[-CLOSER_SPOTS:]
    scores = [0.0] * (len(kept) - 1) + [last_prior]
    for i, (new, _, _) in enumerate(kept if len(kept) > 1 else ()):
        found = _row_logprob(engine, req, (row_start, row_start + len(text)), new, cancel)
        if found is None:
            return None
        scores[i] += found
    return [(hole, fill) for _, (_, hole, fill) in sorted(zip(scores, kept), key=lambda x: -x[0])]


def _row_logprob(engine, req: FixRequest, span: tuple[int, int], row: str, cancel: Cancel
                 ) -> float | None:
    """How likely the model finds ``row`` in place of the document's chars ``span``, the
    function as context: its tokens' summed log-probabilities, each masked
    (``model.scoring.masked_scores`` in ``CLOSER_PASSES`` passes); None when cancelled."""
    from model.scoring import masked_scores

    doc = req.doc
    first, last = _line_start(doc, req.first_row), _line_end(doc, req.last_row)
    text = doc.text[first : span[0]] + row + doc.text[span[1] : last]
    at = span[0] - first
    scores = masked_scores(engine, text, [(at, at + len(row))], CLOSER_PASSES, cancel)
    return None if scores is None else sum(score.logprob for score in scores)


def _insert_options(engine, req: FixRequest, cfg: ServerConfig, inserts: list[slips.Hole],
                    cancel: Cancel) -> list[tuple[slips.Hole, str]]:
    """The insertion holes denoised jointly (decoded as an explicit request), in the holes'
    order; at a row's end the fill's leading closing brackets and colon alone come first, then
    all of its closing marks alone, then the whole fill."""
    from model import infill_spans

    doc = req.doc
    laid = sorted(inserts, key=lambda hole: hole.start)
    bounds = [0, *(edge for hole in laid for edge in (hole.start, hole.end)), len(doc.text)]
    pieces = [doc.text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    pieces[0], pieces[-1] = _context(cfg, req.around[0] + pieces[0], pieces[-1] + req.around[1])
    budgets = [hole.budget for hole in laid]
    settings = decode_settings(cfg, max(budgets), True, False, engine, explicit=True)
    fills = dict(zip(laid, infill_spans(engine, pieces, budgets, settings, cancel=cancel).texts))
    options = []
    for hole in inserts:
        text = fills.get(hole, "").rstrip()
        least = [_CLOSERS.match(text).group(), "".join(c for c in text if c in _CLOSING)]
        for option in dict.fromkeys([*least, text] if hole.kind == "end" else [text]):
            options.append((hole, option))
    return options


def rewrite_rows(engine, req: FixRequest, cfg: ServerConfig, cancel: Cancel
                 ) -> list[types.TextEdit] | None:
    """Denoise the flagged lines jointly (one hole per line group); edits of changed lines.
    Decoded as an explicit inline request (the user asked and waits; model card: planted bugs
    on a flagged line repaired 7.2% -> 10.9% in fp32).

    Up to ``cfg.syntax_attempts`` fills: the first that leaves the function with no more syntax
    errors than before (one fewer, if it had any) wins; when none does, there is no fix.
    """
    from model import infill_spans, shared_first_pass

    doc = req.doc
    if not req.flagged:
        return None
    groups = row_groups(list(req.flagged))
    holes = [_hole(doc, g) for g in groups]
    bounds = [0, *(edge for hole in holes for edge in hole), len(doc.text)]
    pieces = [doc.text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    pieces[0], pieces[-1] = _context(cfg, req.around[0] + pieces[0], pieces[-1] + req.around[1])
    budgets = [_budget(engine, doc.text[a:b], cfg) for a, b in holes]
    single = all(first == last for first, last in groups)
    settings = decode_settings(cfg, max(budgets), single, True, engine, explicit=True)
    check, start, end = _check(doc, holes[0][0], holes[-1][1])

    def filled(texts: list[str]) -> int:  # errors over what the fill may leave
        out, at = [], start
        for (a, b), text in zip(holes, texts):
            out += [doc.text[at:a], text.rstrip()]
            at = b
        allowed = _errors_left(check)
        return max(0, check.errors("".join(out) + doc.text[at:end]) - allowed)

    with shared_first_pass(engine):  # the sampled retries share the first fill's context pass
        chosen = best_of(
            schedule(settings, cfg.syntax_attempts),
            lambda s: infill_spans(engine, pieces, budgets, s, cancel=cancel),
            lambda result: result.texts,
            filled if cfg.syntax_attempts else None,
        )
    if chosen.withheld:
        log.info("no fix: each of %d fills leaves the function broken", chosen.attempts)
    if chosen.text is None:
        return None
    edits = [edit for group, hole, text in zip(groups, holes, chosen.text)
             for edit in _group_edits(doc, group, hole, text)]
    return edits or None


def _budget(engine, text: str, cfg: ServerConfig) -> int:
    """Mask budget for a hole: the original's token length plus slack."""
    from model.sampler import encode

    n = len(encode(engine, text))
    return max(1, min(n + max(4, n // 2), cfg.max_span_tokens))


def _group_edits(doc: Document, group: tuple[int, int], hole: tuple[int, int],
                 text: str) -> list[types.TextEdit]:
    """Edits for one line group: its changed lines, or the lines removed when the fill is blank."""
    start = _line_start(doc, group[0])
    if not text.strip():
        return replace_span(doc, start, _next_line_start(doc, group[1]), "")
    new = doc.text[start : hole[0]] + text.rstrip()
    return replace_span(doc, start, hole[1], new, by_lines=True)


# -- insert docstring --------------------------------------------------------------------------


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

    before, after = _context(cfg, req.around[0] + req.doc.text[: req.insert],
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
