"""The "Fix this function" action: the rows to mask (diagnostics, else syntax errors, else the
model's choice), then a slip mended, a token repaired, or the flagged rows rewritten."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from lsprotocol import types
from tree_sitter import Tree

from lsp_server import names, regions, slips, token_repair
from lsp_server.actions.common import (
    Cancel,
    context,
    decode_settings,
    edit_check,
    line_end,
    line_start,
    next_line_start,
    statement_span,
)
from lsp_server.actions.respell import respell
from lsp_server.attempts import best_of, schedule
from lsp_server.config import ServerConfig
from lsp_server.documents import Document
from lsp_server.edits import replace_span
from lsp_server.file_check import MAX_CHARS, first_error
from lsp_server.prose import unreadable
from lsp_server.syntax_check import SyntaxCheck, indentation, python_error

log = logging.getLogger(__name__)
MEND_ROWS = 3  # the broken rows ``mend_rows`` looks at
WORD_CHOICES = 8  # the model's words tried in place of a misspelt one
CLOSER_SPOTS = 8  # most places a dropped closing bracket is tried (the last ones in the row)
OPENER_SPOTS = 3  # most places a dropped opening bracket is tried (the nearest the stray closer)
END_PRIOR = 1.0  # nats added to the row's end for a dropped closing bracket: where most go
_CLAUSE = re.compile(r"(else|elif|except|finally)\b")  # a clause that needs a header at its level
_EMPTY_FILLS = ("stray", "indent")  # a mend may fill with nothing: a bracket typed twice; column 0
_CLOSING = ")]}:;"


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
    language, tree = doc.language, doc.tree
    func = regions.enclosing(language, tree, doc.byte_at(offset), "function")
    if func is not None:
        return _rows_of(language, tree, func, func.end_point[0])
    row = doc.position_at(offset)[0]
    func = _function_above(doc, tree, row)
    if func is not None:
        return _rows_of(language, tree, func, row)
    # a syntax error in the header hides the definition from tree-sitter
    rows = _line_block(doc, offset)
    start, end = doc.byte_at(line_start(doc, rows[0])), doc.byte_at(line_end(doc, rows[2]))
    return rows if regions.error_rows(doc.tree, start, end) else None


def _rows_of(language: str, tree: Tree, func: regions.Region, last: int
             ) -> tuple[int, int, int]:
    """(first row, body's first row, ``last``) of a function region."""
    bodies = regions.captures(language, tree, {"function.body"},
                              (func.start_byte, func.end_byte))
    body_row = next((b.start_point[0] for b in bodies if b.start_byte >= func.start_byte),
                    func.start_point[0])
    return func.start_point[0], body_row, last


def _function_above(doc: Document, tree: Tree, row: int) -> regions.Region | None:
    """The innermost Python function (a region of the document's ``tree``) around the row
    above ``row`` that ends above ``row`` and has its header indented less than ``row``: a row
    whose indentation slipped out of its block (``  return x`` in a body at 4, or after a
    nested function), which tree-sitter puts after the function; else None."""
    indent = len(indentation(doc.line_text(row)))
    if doc.language != "python" or not doc.line_text(row).strip() or not indent:
        return None
    above = next((r for r in range(row - 1, -1, -1) if doc.line_text(r).strip()), None)
    if above is None:
        return None
    start = doc.byte_at(line_start(doc, above) + len(indentation(doc.line_text(above))))
    around = [func for func in regions.captures("python", tree, {"function"}, (start, start + 1))
              if func.start_byte <= start <= func.end_byte and func.end_point[0] < row]
    return min((func for func in around
                if indent > len(indentation(doc.line_text(func.start_point[0])))),
               key=lambda func: func.end_byte - func.start_byte, default=None)


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
        start, end = doc.byte_at(line_start(doc, first)), doc.byte_at(line_end(doc, last))
        flagged = [r for r in regions.error_rows(doc.tree, start, end) if r in inside]
        pinned = _python_error(doc, first, last)[0] if pin else None
        if pinned is not None:  # and tree-sitter's rows next to it
            flagged = sorted({pinned, *(r for r in flagged if abs(r - pinned) <= 1)})
    comments = set()
    if doc.tree is not None and doc.language in regions.LANGUAGES:
        comments = regions.prose_rows(doc.language, doc.tree, doc.source,
                                      doc.byte_at(line_start(doc, first)),
                                      doc.byte_at(line_end(doc, last)))
    code = [r for r in inside if doc.line_text(r).strip() and r not in comments]
    candidates = [r for r in code if r >= max(body, first + 1)] or code
    return FixRequest(doc, first, last, tuple(flagged), tuple(candidates), around)


def _python_error(doc: Document, first: int, last: int
                  ) -> tuple[int | None, SyntaxError | None]:
    """The row of CPython's first syntax error in the rows ``first``..``last`` of a Python
    document, and the error; None for the row without one there. They are parsed after the
    rows of the statements around them (``_context_row``: a nested function's indentation is
    wrong only there), else alone (nested under a header when indented)."""
    if doc.language != "python":
        return None, None
    found: tuple[int | None, SyntaxError | None] = (None, None)
    for begin in dict.fromkeys((_context_row(doc, first, last), first)):
        lines = [doc.line_text(row) for row in range(begin, last + 1)]
        header = "if 1:\n" if lines[0][:1].isspace() else ""
        error = python_error(header + "\n".join(lines) + "\n")
        row = error.lineno - 1 + begin - bool(header) if error and error.lineno else None
        found = (row if row is not None and first <= row <= last else None), error
        if found[0] is not None:
            break
    return found


def _context_row(doc: Document, first: int, last: int) -> int:
    """The first row of the statements around the rows ``first``..``last`` (what
    ``edit_check`` sees of them)."""
    return doc.position_at(statement_span(doc, line_start(doc, first), line_end(doc, last))[0])[0]


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
    start = line_start(doc, group[0])
    first = doc.line_text(group[0])
    return start + len(first) - len(first.lstrip()), line_end(doc, group[1])


def run_fix(engine, req: FixRequest, cfg: ServerConfig, cancel: Cancel
            ) -> list[types.TextEdit] | None:
    """The edits of a fix, or None. In code that parses, first a name nothing binds respelt
    (``respell``: ``reslt`` -> ``result``). In code that does not parse, first a slip mended on
    a broken row (``mend_rows``: a misspelt word, a dropped colon, bracket or comma), taken at
    once when it leaves no error. Then a one-token repair (``repair_token``): in a function
    that parses, or on its broken lines, where it must remove an error, and more than the mend
    did (so neither is tried with ``cfg.syntax_attempts`` 0); in a function that parses without
    a diagnostic that is all there is. Else the mend, else the flagged lines rewritten
    (``rewrite_rows``)."""
    doc = req.doc
    check, start, end = edit_check(doc, line_start(doc, req.first_row), line_end(doc, req.last_row))
    if not check.base_errors:  # first a name nothing binds, respelt
        edits = respell(req, lambda span, rows: _rows_logprob(engine, req, span, rows, cancel))
        if edits or cancel():
            return edits
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
    ``checked`` is ``edit_check`` of the function. Without a diagnostic the model's token must
    beat the one there by ``cfg.fix_margin``, stand out from the function's other tokens, and
    be a word for a word (``token_repair.repairs``, unprompted)."""
    doc = req.doc
    rows = req.flagged or req.candidates
    scores = token_repair.suspects(engine, doc, rows, line_start(doc, req.first_row),
                                   line_end(doc, req.last_row), cancel)
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
        first, last = line_start(doc, row), line_end(doc, row)
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
    it best (``_closer_options``), else a closing bracket typed twice removed or its dropped
    opener put back (``_stray_options``), else a row CPython finds misindented put at a level
    of the blocks above it (``_indent_options``), else an insertion at the row's end or between
    two operands (``_insert_options``). Of the candidates that remove an error, add none and
    name nothing the document lacks, the one leaving the fewest errors wins, the first in that
    order (the least mend) of those. ``checked`` is ``edit_check`` of the function."""
    doc = req.doc
    check, start, end = checked
    rows = [(line_start(doc, row), doc.line_text(row)) for row in list(req.flagged)[:MEND_ROWS]]
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
    first, last = line_start(doc, row), line_end(doc, row)
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
    first, last = line_start(doc, req.first_row), line_end(doc, req.last_row)
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
    options: list[tuple[slips.Hole, str]] = []
    for row_start, row in rows:
        for a, b, closer in slips.unclosed(row, language):
            spots = [(slips.Hole(row_start + at, row_start + at, 1, "close"), closer)
                     for at in slips.closer_spots(row, language, a, b, closer not in slips.OPENERS)]
            ranked = _likeliest(engine, req, checked, (row_start, row), spots, END_PRIOR, cancel)
            if ranked is None:
                return options
            options += ranked
    return options


def _stray_options(engine, req: FixRequest, rows: list[tuple[int, str]],
                   checked: tuple[SyntaxCheck, int, int], cancel: Cancel
                   ) -> list[tuple[slips.Hole, str]]:
    """For each closing bracket that closes nothing its row opens (``slips.stray_closers``),
    its opener put back (dropped: ``lenx)``) or it or a closer like it before it removed (typed
    twice: ``f(x))``, ``slips.twin_spots``), ranked by ``_likeliest`` (the stray's removal gets
    ``END_PRIOR``). Where the opener put back inside a word splits it into two the document
    has (``slips.opener_spots``), that alone; else at the ``OPENER_SPOTS`` places nearest
    the stray."""
    language = req.doc.language
    words = Counter(names.WORD.findall(req.doc.text))

    def nearest(kept: list) -> list:
        splits = [option for option in kept if option[1].kind == "split"]
        return splits or [option for option in kept if option[1].kind == "open"][
            -OPENER_SPOTS:] + [option for option in kept if option[1].kind == "stray"][
            -CLOSER_SPOTS:]

    options: list[tuple[slips.Hole, str]] = []
    for row_start, row in rows:
        for stray in slips.stray_closers(row, language):
            opened = [(slips.Hole(row_start + at, row_start + at, 1, kind),
                       slips.OPENERS[row[stray]])
                      for at, kind in slips.opener_spots(row, language, stray, words)]
            twins = [(slips.Hole(row_start + at, row_start + at + 1, 0, "stray"), "")
                     for at in slips.twin_spots(row, language, stray)]
            ranked = _likeliest(engine, req, checked, (row_start, row), opened + twins,
                                END_PRIOR, cancel, nearest)
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
    ``return`` moved out of its function counts: ``file_check.first_error``), then those that
    leave the fewest blocks indented other than the file's usual step deeper than their
    header (``slips.odd_steps``), then those nearest the row's own indentation."""
    doc = req.doc
    row, error = _python_error(doc, req.first_row, req.last_row)
    if row is None or not (isinstance(error, IndentationError)
                           or _CLAUSE.match(doc.line_text(row).lstrip())):
        return []
    indent = len(indentation(doc.line_text(row)))
    above = [r for r in range(row - 1, req.first_row, -1) if doc.line_text(r).strip()]
    opener = next((r for r in above if len(indentation(doc.line_text(r))) < indent), None)
    top = _context_row(doc, req.first_row, req.last_row)
    options = []
    for moved in dict.fromkeys(r for r in (row, above[0] if above else None, opener)
                               if r is not None):
        text = doc.line_text(moved)
        start, indent = line_start(doc, moved), len(text) - len(text.lstrip())
        levels = slips.indent_levels([doc.line_text(r) for r in range(top, moved + 1)])
        ranked = _likeliest(engine, req, checked, (start, text), [
            (slips.Hole(start, start + indent, 0, "indent"), level) for level in levels], 0.0,
            cancel)
        if ranked is None:
            break
        options += ranked
    if len(doc.text) <= MAX_CHARS:  # then the level nearest the row's own: a slip is small
        unit = Counter(slips.block_steps(doc.text.split("\n"))).most_common(1) or [(4, 0)]
        options.sort(key=lambda option: (-_file_error_row(doc, *option), _odd_steps(
            req, option[0], option[1], unit[0][0]), abs(
            len(option[1]) - (option[0].end - option[0].start))))
    return options


def _odd_steps(req: FixRequest, hole: slips.Hole, fill: str, unit: int) -> int:
    """``slips.odd_steps`` of the function's rows with ``hole`` filled."""
    doc = req.doc
    first, last = line_start(doc, req.first_row), line_end(doc, req.last_row)
    return slips.odd_steps((doc.text[first : hole.start] + fill + doc.text[hole.end : last])
                           .split("\n"), unit)


def _file_error_row(doc: Document, hole: slips.Hole, fill: str) -> float:
    """The row of CPython's first syntax error in the document with ``hole`` filled, or of a
    ``return``, ``break`` and the like it leaves out of place on the hole's row (inf: none)."""
    row = doc.position_at(hole.start)[0]
    error = first_error(doc.text[: hole.start] + fill + doc.text[hole.end :], range(row, row + 1))
    return math.inf if error is None else error.row


def _likeliest(engine, req: FixRequest, checked: tuple[SyntaxCheck, int, int],
               row: tuple[int, str], options: list[tuple[slips.Hole, str]], last_prior: float,
               cancel: Cancel, keep: Callable[[list], list] = lambda kept: kept[-CLOSER_SPOTS:]
               ) -> list[tuple[slips.Hole, str]] | None:
    """Of ``options``, edits of one ``row`` (the offset of its start, its text), those that
    leave the fewest syntax errors if that removes one, of those the ones ``keep`` picks from
    their ``(row, hole, fill)`` (by default the last ``CLOSER_SPOTS``), the row the model
    finds likeliest first (``_rows_logprob``, scored only where there is a
    choice; the last gets ``last_prior`` nats); None when cancelled."""
    doc = req.doc
    check, start, end = checked
    row_start, text = row
    edited: dict[str, tuple[int, slips.Hole, str]] = {}
    for hole, fill in options:
        new = text[: hole.start - row_start] + fill + text[hole.end - row_start :]
        edited.setdefault(new, (check.errors(
            doc.text[start : hole.start] + fill + doc.text[hole.end : end]), hole, fill))
    fewest = min((left for left, _, _ in edited.values()), default=None)
    if fewest is None or fewest > _errors_left(check):
        return []
    kept = keep([(new, hole, fill) for new, (left, hole, fill) in edited.items()
                 if left == fewest])
    scores = [0.0] * (len(kept) - 1) + [last_prior]
    if len(kept) > 1:
        found = _rows_logprob(engine, req, (row_start, row_start + len(text)),
                              [new for new, _, _ in kept], cancel)
        if found is None:
            return None
        scores = [prior + score for prior, score in zip(scores, found)]
    return [(hole, fill) for _, (_, hole, fill) in sorted(zip(scores, kept), key=lambda x: -x[0])]


def _rows_logprob(engine, req: FixRequest, span: tuple[int, int], rows: list[str],
                  cancel: Cancel) -> list[float] | None:
    """How likely the model finds each of ``rows`` in place of the document's chars ``span``,
    the function as context (``model.scoring.span_logprobs``: a left-to-right chain score,
    which unlike each token masked in turn gives an added bracket pair no credit for itself;
    model card); None when cancelled."""
    from model.scoring import span_logprobs

    doc = req.doc
    first, last = line_start(doc, req.first_row), line_end(doc, req.last_row)
    return span_logprobs(engine, doc.text[first : span[0]], doc.text[span[1] : last], rows,
                         cancel)


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
    pieces[0], pieces[-1] = context(cfg, req.around[0] + pieces[0], pieces[-1] + req.around[1])
    budgets = [hole.budget for hole in laid]
    settings = decode_settings(cfg, max(budgets), True, False, engine, explicit=True)
    fills = dict(zip(laid, infill_spans(engine, pieces, budgets, settings, cancel=cancel).texts))
    options = []
    for hole in inserts:
        text = fills.get(hole, "").rstrip()
        least = [text[: len(text) - len(text.lstrip(_CLOSING))],
                 "".join(c for c in text if c in _CLOSING)]
        for option in dict.fromkeys([*least, text] if hole.kind == "end" else [text]):
            options.append((hole, option))
    return options


def rewrite_rows(engine, req: FixRequest, cfg: ServerConfig, cancel: Cancel
                 ) -> list[types.TextEdit] | None:
    """Denoise the flagged lines jointly (one hole per line group); edits of changed lines.
    Decoded as an explicit inline request (the user asked and waits; model card: planted bugs
    on a flagged line repaired 7.2% -> 10.9% in fp32).

    Up to ``cfg.syntax_attempts`` fills: the first that leaves the function with no more syntax
    errors than before (one fewer, if it had any) and writes no character that is no text
    (``unreadable``) wins; when none does, there is no fix.
    """
    from model import infill_spans, shared_first_pass

    doc = req.doc
    if not req.flagged:
        return None
    groups = row_groups(list(req.flagged))
    holes = [_hole(doc, g) for g in groups]
    bounds = [0, *(edge for hole in holes for edge in hole), len(doc.text)]
    pieces = [doc.text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    pieces[0], pieces[-1] = context(cfg, req.around[0] + pieces[0], pieces[-1] + req.around[1])
    budgets = [_budget(engine, doc.text[a:b], cfg) for a, b in holes]
    single = all(first == last for first, last in groups)
    settings = decode_settings(cfg, max(budgets), single, True, engine, explicit=True)
    check, start, end = edit_check(doc, holes[0][0], holes[-1][1])

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
            lambda result: None if any(unreadable(t, doc.text) for t in result.texts)
            else result.texts,
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
    start = line_start(doc, group[0])
    if not text.strip():
        return replace_span(doc, start, next_line_start(doc, group[1]), "")
    new = doc.text[start : hole[0]] + text.rstrip()
    return replace_span(doc, start, hole[1], new, by_lines=True)
