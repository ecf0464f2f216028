"""Where a one-spot slip may hide on a broken row, for "Fix this function" on code that does not
parse: the holes ``actions.fix.mend_rows`` has the model refill, each kept only if it removes a
syntax error.

Three kinds, in the order their fills are preferred:
- ``word``: a word the document has nowhere else and its language does not know (Python's
  builtins and keywords, another grammar's keywords), replaced whole by one token (a
  misspelt keyword such as ``retrun`` is two tokens, beyond a one-token repair);
- ``end``: the row's end, an insertion (a dropped colon or closing bracket);
- ``gap``: a space between two operands, an insertion (a dropped comma: ``f(a b)``); not
  next to a keyword (Python's, or the grammar's), which tells an operand from a statement's
  words.

A bracket or string the row opens and never closes (``unclosed``) may have lost its closer
anywhere after it: ``closer_spots`` are the places it could go, for the model to choose among.
A closing bracket that closes nothing opened on its row (``stray_closers``) may have been typed
twice, or have lost its opener (``opener_spots``). A row whose indentation CPython rejects may
belong at another level of the blocks above it (``indent_levels``).
"""

from __future__ import annotations

import functools
import importlib
import keyword
import re
from collections import Counter
from dataclasses import dataclass

from lsp_server.names import WORD, language_words
from lsp_server.syntax_check import STRINGS_AND_COMMENT, indentation, opens_python_block

WORD_TOKENS = 1  # a keyword is one token, its misspelling often two
END_TOKENS = 2  # a dropped colon or bracket, with room for a space
GAP_TOKENS = 1  # a dropped comma
MAX_HOLES = 6  # most holes denoised jointly: each hides context from the others
_GAP = re.compile(r"(?<=[\w)\]}]) +(?=[\w(\[{])")
_OPERAND_WORDS = frozenset({"True", "False", "None", "true", "false"})
_DOUBLE = r'"(?:[^"\\]|\\.)*"'
_SINGLE = r"'(?:[^'\\]|\\.)*'"
_CHAR = r"'(?:[^'\\]|\\[^']*)'"  # a char literal: a lone quote is a lifetime (``'a``)
_COMMENTS = r"/\*.*?(?:\*/|$)|//.*"
_TEMPLATE = r"`[^`]*`?"  # may go on past the row
_RAW = r'(?<!\w)b?r(#*)"(?:.*?"\1|.*)'  # a Rust raw string: no escapes, ends at ``"`` + its ``#``s
# On one row; a comment blanks to spaces, a string to ``0``s.
_STRINGS_AND_COMMENTS: dict[str | None, re.Pattern[str]] = {
    "python": STRINGS_AND_COMMENT,
    "javascript": re.compile("|".join((_COMMENTS, _DOUBLE, _SINGLE, _TEMPLATE))),
    "go": re.compile("|".join((_COMMENTS, _DOUBLE, _CHAR, _TEMPLATE))),
    "rust": re.compile("|".join((_RAW, _COMMENTS, _DOUBLE, _CHAR))),
}
_STRINGS_AND_COMMENTS["typescript"] = _STRINGS_AND_COMMENTS["tsx"] = _STRINGS_AND_COMMENTS[
    "javascript"]
_PAIRS = {"(": ")", "[": "]", "{": "}"}
OPENERS = {closer: opener for opener, closer in _PAIRS.items()}
_METHODS = frozenset(name for kind in (str, bytes, list, dict, set, tuple, int, float)
                     for name in dir(kind)
                     if not name.startswith("_") and callable(getattr(kind, name)))
_QUOTES: dict[str | None, str] = {"go": '"', "rust": '"'}  # a one-row string's; else ' and "
# Standard-library modules whose names a split may use after ``module.``: importing them runs
# nothing but their own definitions (no module the file names is ever imported).
_MODULES = ("math", "cmath", "string", "re", "itertools", "functools", "collections", "heapq",
            "bisect", "random", "statistics", "operator", "fractions", "decimal", "copy")


@dataclass(frozen=True)
class Hole:
    """Refill the row's chars ``start``..``end`` (document offsets; equal: an insertion) with at
    most ``budget`` tokens."""

    start: int
    end: int
    budget: int
    kind: str


def holes(text: str, rows: list[tuple[int, str]], language: str | None) -> list[Hole]:
    """The holes of the rows ``(offset of the row's start, row)`` of the document ``text`` in
    ``language``, words first, at most ``MAX_HOLES``."""
    builtin = language_words(language)
    statement_words = _statement_words(language)
    known = Counter(WORD.findall(text))
    words, ends, gaps = [], [], []
    for start, row in rows:
        code = _code(row, language)
        taken = []
        for match in WORD.finditer(code):
            word = match.group()
            if known[word] == 1 and word not in builtin:
                words.append(Hole(start + match.start(), start + match.end(), WORD_TOKENS,
                                  "word"))
                taken += [match.start(), match.end()]
        end = len(code.rstrip())
        if end and end not in taken:
            ends.append(Hole(start + end, start + end, END_TOKENS, "end"))
        for match in _GAP.finditer(code) if statement_words else ():
            left = _matched(r"\w*$", code[: match.start()])
            right = _matched(r"^\w*", code[match.end() :])
            if left in statement_words or right in statement_words or match.start() in taken \
                    or match.end() in taken:
                continue
            gaps.append(Hole(start + match.start(), start + match.start(), GAP_TOKENS, "gap"))
    return (words + ends + gaps)[:MAX_HOLES]


def _statement_words(language: str | None) -> frozenset[str]:
    """A language's keywords that are not operands (Python's, or the grammar's)."""
    return (frozenset(keyword.kwlist) if language == "python" else language_words(language)) \
        - _OPERAND_WORDS


def unclosed(row: str, language: str | None) -> list[tuple[int, int, str]]:
    """``(first, last, closer)`` for each bracket the row opens and never closes, innermost
    first, then a string it opens and never closes (its quote): its ``closer`` was dropped
    somewhere in the row's offsets ``first..last`` (from just after the bracket to the row's
    end, or to the closer of an outer bracket that skips it)."""
    code = _code(row, language)
    found, _ = _brackets(code)
    end = len(code.rstrip())
    quote = next((at for at, char in enumerate(code) if char in _QUOTES.get(language, "'\"")),
                 None)
    return found + ([(quote + 1, end, code[quote])] if quote is not None else [])


def stray_closers(row: str, language: str | None) -> list[int]:
    """The row's offsets of closing brackets that close nothing it opens: typed twice, or
    closing what an earlier row opened (a fix removing one must then remove an error)."""
    return _brackets(_code(row, language))[1]


def twin_spots(row: str, language: str | None, at: int) -> list[int]:
    """The row's offsets of closers like the stray one at ``at``, up to it: a closer typed
    twice may be any of them (``(s - a)) * (s - b))`` lost its group at the first). Not a
    ``)`` right after a Python method of a builtin type: removing it would leave the method
    uncalled (``if i.isdigit):`` was ``i.isdigit()``; ``if i.isdigit:`` is always true)."""
    code = _code(row, language)
    return [i for i in range(at + 1) if code[i] == code[at] and not (
        language == "python" and code[i] == ")"
        and _matched(r"(?<=\.)\w+$", row[:i]) in _METHODS)]


def opener_spots(row: str, language: str | None, at: int, words: Counter
                 ) -> list[tuple[int, str]]:
    """``(offset, kind)`` for each place up to the stray closer at the row's offset ``at``
    where its opening bracket could have been dropped: ``open`` before a token (not inside a
    string or comment, nor where the row it makes wraps a lone operand (``_wraps``)), or
    ``split`` inside a word the document has nowhere else (``words``: its word counts) and its
    language does not know, between two words it has or knows (``lenx)`` was ``len(x)``;
    after a dot, a method of Python's builtin types, ``xs.pop0)``, or a name of a common
    standard-library module after its name, ``math.ceili)``)."""
    code = _code(row, language)
    builtin = language_words(language)
    opener = OPENERS[code[at]]
    statement_words = _statement_words(language)

    def known(word: str, after: str) -> bool:
        return word in builtin or words[word] > 0 or word.isdigit() or (
            language == "python" and after.endswith(".") and (
                word in _METHODS or word in module_names(_matched(r"\w+(?=\.$)", after))))

    spots, wrapping = [], set()
    for spot in range(len(indentation(row)), at + 1):
        if code[spot].isspace() or _in_string(row, code, spot - 1) and _in_string(row, code, spot):
            continue
        if _wraps(code, spot, opener, statement_words):
            wrapping.add(row[:spot] + opener + row[spot:])
        elif spot and _in_word(row[spot - 1] + row[spot]) and not _in_string(row, code, spot):
            left = _matched(r"\w*$", row[:spot])
            word = left + _matched(r"^\w*", row[spot:])
            if words[word] <= 1 and word not in builtin and not word[0].isdigit() \
                    and known(left, row[: spot - len(left)]) and known(word[len(left) :], ""):
                spots.append((spot, "split"))
        else:
            spots.append((spot, "open"))
    return [(spot, kind) for spot, kind in spots
            if row[:spot] + opener + row[spot:] not in wrapping]  # the same row, made otherwise


@functools.cache
def module_names(module: str) -> frozenset[str]:
    """The public names of one of ``_MODULES`` (else none)."""
    if module not in _MODULES:
        return frozenset()
    return frozenset(name for name in dir(importlib.import_module(module))
                     if not name.startswith("_"))


def _wraps(code: str, spot: int, opener: str, statement_words: frozenset[str]) -> bool:
    """Whether ``opener`` put at ``spot`` would wrap a lone operand (``(x)``, ``[s[-1]]``) but
    to call or index it (after a name, not a keyword, or a closer), or call what a bracket
    closed (``f(x)()``)."""
    before = code[:spot].rstrip()
    if opener == "(" and code[spot - 1 : spot] in (")", "]"):
        return True
    called = before[-1:] in (")", "]") or _in_word(before[-1:] + "x") and _matched(
        r"\w*$", before) not in statement_words
    return not called and _lone_operand(code[spot : _group_end(code, spot)])


def _lone_operand(code: str) -> bool:
    """Whether ``code`` is one operand: a name, number or string (a run of ``0``), or an empty
    bracket pair, then any bracketed groups (``s[-1]``, ``f(x)``, ``[]``)."""
    code = code.strip()
    at = len(_matched(r"^[\w.]*", code))
    while at < len(code) and code[at] in _PAIRS:
        at = _group_end(code, at + 1) + 1
    return 0 < at == len(code)


def _group_end(code: str, at: int) -> int:
    """The offset of the closer a bracket put at ``at`` would pair with (else the end)."""
    depth = 0
    for i in range(at, len(code)):
        depth += (code[i] in _PAIRS) - (code[i] in OPENERS)
        if depth < 0:
            return i
    return len(code)


def _in_string(row: str, code: str, at: int) -> bool:
    """Whether the row's char at ``at`` is in a string (``_code`` blanked it to ``0``)."""
    return 0 <= at < len(row) and code[at] == "0" != row[at] or code[at : at + 1] == "0" and (
        row[at] in "'\"")


def _brackets(code: str) -> tuple[list[tuple[int, int, str]], list[int]]:
    """``unclosed``'s brackets of a row's code, and its ``stray_closers``."""
    stack, found, strays = [], [], []
    for at, char in enumerate(code):
        if char in _PAIRS:
            stack.append(at)
        elif char in _PAIRS.values():
            if not any(_PAIRS[code[i]] == char for i in stack):
                strays.append(at)
                continue
            while _PAIRS[code[stack[-1]]] != char:
                opened = stack.pop()
                found.append((opened + 1, at, _PAIRS[code[opened]]))
            stack.pop()
    end = len(code.rstrip())
    return found + [(opened + 1, end, _PAIRS[code[opened]]) for opened in reversed(stack)], strays


def indent_levels(rows: list[str]) -> list[str]:
    """The indentations the last of ``rows`` (a function's, to the broken one) could have: one
    level deeper than the row above when that opens a block, the row above's, then each
    shallower one of the blocks around it, deepest first."""
    above = [row for row in rows[:-1] if row.strip()]
    if not above:
        return []
    levels = []
    if opens_python_block(above[-1]):
        indent = indentation(above[-1])
        levels.append(indent + ("\t" if indent.startswith("\t") else "    "))
    for row in reversed(above):
        indent = indentation(row)
        if not levels or len(indent) < len(levels[-1]):
            levels.append(indent)
    current = indentation(rows[-1])
    return [level for level in levels if level != current]


def block_steps(rows: list[str]) -> list[int]:
    """How much deeper than each Python block header of ``rows`` the next non-blank row is."""
    code = [row for row in rows if row.strip()]
    return [len(indentation(row)) - len(indentation(header))
            for header, row in zip(code, code[1:]) if opens_python_block(header)]


def odd_steps(rows: list[str], unit: int) -> int:
    """How many blocks of ``rows`` are not indented ``unit`` deeper than their header: an
    indentation slip leaves one (``for`` at 4, its body at 12), its repair none."""
    return sum(step != unit for step in block_steps(rows))


def closer_spots(row: str, language: str | None, first: int, last: int, quote: bool = False
                 ) -> list[int]:
    """The row's offsets in ``first..last`` where a closing bracket could follow a token: right
    after one (not a space, not inside a word or string, not after an opening bracket but the
    first). A string's closing ``quote`` may also follow a space: one may end the string
    (``split(' ')``)."""
    code = _code(row, language)
    return [at for at in range(first, last + 1)
            if at == first or quote and code[at - 1] == " " or not (
                code[at - 1].isspace() or code[at - 1] in _PAIRS
                or at < len(code) and _in_word(code[at - 1] + code[at]))]


def _in_word(pair: str) -> bool:
    """Whether two chars are both word chars (a string is a run of ``0``)."""
    return bool(re.fullmatch(r"\w\w", pair))


def _matched(pattern: str, text: str) -> str:
    """What ``pattern``, one that also matches nothing, first matches in ``text``."""
    found = re.search(pattern, text)
    return found.group() if found else ""


def _code(row: str, language: str | None) -> str:
    """The row with its strings as runs of ``0`` (operands) and its comments as spaces, so
    that offsets stay (a language without a grammar: Python's quotes and ``#``)."""
    def blank(match: re.Match) -> str:
        found = match.group()
        return " " * len(found) if found.startswith(("#", "//", "/*")) else "0" * len(found)

    return _STRINGS_AND_COMMENTS.get(language, STRINGS_AND_COMMENT).sub(blank, row)
