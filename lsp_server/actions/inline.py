"""Inline completion: the span at the cursor planned, denoised, checked and cleaned, and a
completion item's edit of it."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types

from lsp_server import calls, names
from lsp_server.actions.common import (
    Cancel,
    context,
    decode_settings,
    edit_check,
    line_start,
    statement_span,
)
from lsp_server.attempts import Attempted, best_of, merged, schedule
from lsp_server.config import ServerConfig
from lsp_server.documents import Document
from lsp_server.edits import char_range
from lsp_server.file_check import FileCheck
from lsp_server.inline_plan import InlinePlan, plan
from lsp_server.prose import garbled, unreadable
from lsp_server.syntax_check import SyntaxCheck, opens_python_block, python_line_parses

log = logging.getLogger(__name__)
_WORD_BEFORE = re.compile(r"\w+$")


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
    byte_col = doc.byte_at(offset) - doc.byte_at(line_start(doc, row))
    inline = plan(doc.language, doc.tree, doc.source, row, byte_col,
                  cfg.line_tokens, cfg.block_tokens)
    prefix, suffix = context(cfg, around[0] + doc.text[:offset], doc.text[offset:] + around[1])
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
    cost = found.forward_passes, found.elapsed_ms
    if found.ranked is None:
        return [first, InfillResult("", [], True, *cost)]
    out = [InfillResult(r.text, r.token_ids, False, 0, 0.0) for r in found.ranked
           if r.text != first.text]
    if not out:  # nothing new: an empty result that carries the cost
        return [first, InfillResult("", [], False, *cost)]
    return [first, InfillResult(out[0].text, out[0].token_ids, False, *cost)] + out[1:]


def syntax_check(req: InlineRequest) -> SyntaxCheck:
    """The check for an insertion at the cursor, over the statements around it."""
    return edit_check(req.doc, req.offset, req.offset)[0]


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
    start, end, _ = statement_span(req.doc, req.offset, req.offset, max_bytes=None)
    start = line_start(req.doc, req.doc.position_at(start)[0])
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
    column = req.offset - line_start(req.doc, row)

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


def clean_inline(req: InlineRequest, raw: str) -> str | None:
    """Trim the model's text so nothing already after the cursor is inserted twice; None when
    nothing new is left, when it would copy the line just above or below, or when it holds a
    U+FFFD or control character the file has none of (``unreadable``)."""
    following = req.doc.text[req.offset :]
    rest_of_line, _, after = following.partition("\n")
    if req.plan.single_line:
        text = _before_the_rest(raw.split("\n", 1)[0].rstrip(), rest_of_line)
        text = text[: len(text) - _overlap(text, rest_of_line.rstrip())]
    else:
        text = _drop_repeated_lines(raw.rstrip(), after.split("\n"))
        if rest_of_line.strip():  # a block typed mid-line: never repeat the line's tail
            text = text[: len(text) - _overlap(text, rest_of_line.rstrip())]
    if unreadable(text, req.doc.text):
        return None  # half of a character (the model's bytes did not decode), a control one
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
    line, column = doc.line_text(row), req.offset - line_start(doc, row)
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
    word = _WORD_BEFORE.search(req.doc.text[line_start(req.doc, row) : req.offset])
    start = req.offset - (len(word.group()) if word else 0)
    return char_range(req.doc, start, req.offset), req.doc.text[start : req.offset] + text
