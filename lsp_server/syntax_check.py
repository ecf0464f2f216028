"""Does an insertion break the file's syntax? Scores inline completion candidates.

tree-sitter counts ERROR/MISSING nodes for every language with a grammar; for Python,
``ast.parse`` also catches what tree-sitter's error recovery lets through (indentation,
``if x = 0:``). Both only parse: workspace code is never compiled to bytecode or run.
"""

from __future__ import annotations

import ast
import re
import warnings
from functools import cached_property

from lsp_server import regions
from lsp_server.documents import Document


class SyntaxCheck:
    """The code around the cursor, parsed once; scores an insertion there, or a rewrite of it."""

    def __init__(self, lang: str | None, before: str, after: str, nested: bool = False):
        self.lang = lang if lang in regions.LANGUAGES else None
        self.before, self.after = before, after
        # Indented statements from inside a block parse under a header that opens one.
        self.header = "if 1:\n" if nested and self.lang == "python" else ""

    @cached_property
    def base_errors(self) -> int:
        """Errors of ``before + after`` as they are (parsed on first use only)."""
        return self.errors(self.before + self.after)

    def errors(self, source: str) -> int:
        """tree-sitter ERROR/MISSING nodes, plus one if CPython's parser rejects Python source."""
        if self.lang is None:
            return 0
        source = self.header + source
        tree = regions.parse(self.lang, source.encode("utf-8", "surrogatepass"))
        count = sum(1 for _ in regions.error_nodes(tree))
        return count + (self.lang == "python" and not python_parses(source))

    def added_errors(self, text: str) -> int:
        """How many syntax errors inserting ``text`` at the cursor adds (0 = none, or unknown)."""
        return self.added_errors_in(self.before + text + self.after)

    def added_errors_in(self, source: str) -> int:
        """How many more syntax errors ``source``, a rewrite of ``before + after``, has."""
        return max(0, self.errors(source) - self.base_errors)


class DocumentCheck(SyntaxCheck):
    """The check over the whole document, reparsed incrementally from its tree.

    For brace languages: a top-level statement cut out of a file whose braces do not balance yet
    is no unit of its own, and error recovery over such a cut misjudges correct code. A candidate
    replaces the span ``start``..``end`` (an insertion when they are equal).
    """

    def __init__(self, doc: Document, start: int, end: int):
        super().__init__(doc.language, "", doc.text[start:end])
        if doc.tree is None or self.lang is None:
            raise ValueError("a DocumentCheck needs a document with a tree-sitter tree")
        self.doc, self.start, self.end = doc, start, end
        self.tree, self.grammar = doc.tree, self.lang

    @cached_property
    def base_errors(self) -> int:
        """Errors of the document as it is, from the tree it already has."""
        return sum(1 for _ in regions.error_nodes(self.tree))

    def errors(self, source: str) -> int:
        """Errors of the document with its span replaced by ``source``."""
        doc, tree = self.doc, self.tree.copy()
        start, end = doc.byte_at(self.start), doc.byte_at(self.end)
        new = doc.source[:start] + source.encode("utf-8", "surrogatepass") + doc.source[end:]
        regions.record_edit(tree, doc.source, new, start, end, len(new) - (len(doc.source) - end))
        return sum(1 for _ in regions.error_nodes(regions.parse(self.grammar, new, tree)))


def python_tree(source: str) -> ast.Module:
    """CPython's AST of ``source`` (parsing only, nothing is executed); raises SyntaxError, or
    ValueError (null bytes), MemoryError or RecursionError where CPython does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. invalid escape sequences
        return ast.parse(source if source.isascii() else  # lone surrogates: "?", one for one
                         source.encode("utf-8", "replace").decode())


def python_parses(source: str) -> bool:
    """Whether CPython's parser accepts ``source``."""
    return python_error_row(source) is None


def python_error_row(source: str) -> int | None:
    """The row (from 0) of CPython's first syntax error in ``source``: None when it parses, -1
    when the error has no row. CPython pinpoints what tree-sitter's error recovery smears: an
    unclosed bracket on its own row, a missing colon on its header."""
    error = python_error(source)
    if error is None:
        return None
    return error.lineno - 1 if error.lineno else -1


def python_error(source: str) -> SyntaxError | None:
    """CPython's first syntax error in ``source`` (an ``IndentationError`` where a row's
    indentation is the error; one without a row for null bytes); None when it parses."""
    try:
        python_tree(source)
    except SyntaxError as error:
        return error
    except (ValueError, MemoryError, RecursionError) as error:
        return SyntaxError(str(error))
    return None


# What a Python line needs around it to parse alone: a header before a clause, a body after a
# header, a def after a decorator.
_CLAUSE_HEADERS = {"elif": "if 1:\n    pass\n", "else": "if 1:\n    pass\n",
                   "except": "try:\n    pass\n", "finally": "try:\n    pass\n"}
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
STRINGS_AND_COMMENT = re.compile(  # on one line of Python
    r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|#.*""")


def python_line_parses(line: str) -> bool:
    """Whether one Python line parses on its own: as a statement (a block header with a body, a
    clause such as ``else:`` after a header, a decorator before a def), or as the part of a
    bracketed expression that opens or closes on other lines (a dict entry, a call's first or
    last line). A line the user is typing is judged by this when the code around it is broken
    anyway, so that its errors no longer hide a suggestion that leaves it broken."""
    code = line.strip()
    word = re.match(r"\w+|@", code)
    head = _CLAUSE_HEADERS.get(word.group() if word else "", "")
    tail = ""
    if opens_python_block(code):
        tail = "\n    pass" + ("\nexcept:\n    pass" if word and word.group() == "try" else "")
    elif word and word.group() == "@":
        tail = "\ndef f(): pass"
    opens, closes = _unbalanced(code)
    wrapped = ((head, tail), ("[", "]"), ("{", "}"), ("f(", ")"),
               (("x = " if opens else "") + opens, closes))
    return any(python_parses(before + code + after) for before, after in wrapped)


def indentation(line: str) -> str:
    """The whitespace a line starts with."""
    return line[: len(line) - len(line.lstrip())]


def opens_python_block(line: str) -> bool:
    """Whether a Python line ends in a block header's ``:`` (outside strings and comments)."""
    return STRINGS_AND_COMMENT.sub("", line).rstrip().endswith(":")


def _unbalanced(code: str) -> tuple[str, str]:
    """(openers, closers) that would balance the brackets of ``code``, outside its strings."""
    stack, opens = [], ""
    closer_of = {close: open_ for open_, close in _BRACKETS.items()}
    for ch in STRINGS_AND_COMMENT.sub("", code):
        if ch in _BRACKETS:
            stack.append(ch)
        elif ch in closer_of:
            if stack and stack[-1] == closer_of[ch]:
                stack.pop()
            else:
                opens = closer_of[ch] + opens
    return opens, "".join(_BRACKETS[ch] for ch in reversed(stack))
