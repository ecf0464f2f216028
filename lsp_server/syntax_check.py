"""Does an insertion break the file's syntax? Scores inline completion candidates.

tree-sitter counts ERROR/MISSING nodes for every language with a grammar; for Python,
``ast.parse`` also catches what tree-sitter's error recovery lets through (indentation,
``if x = 0:``). Both only parse: workspace code is never compiled to bytecode or run.
"""

from __future__ import annotations

import ast
import warnings
from functools import cached_property

from lsp_server import regions


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
        return count + (self.lang == "python" and not _python_parses(source))

    def added_errors(self, text: str) -> int:
        """How many syntax errors inserting ``text`` at the cursor adds (0 = none, or unknown)."""
        return self.added_errors_in(self.before + text + self.after)

    def added_errors_in(self, source: str) -> int:
        """How many more syntax errors ``source``, a rewrite of ``before + after``, has."""
        return max(0, self.errors(source) - self.base_errors)


def _python_parses(source: str) -> bool:
    """Whether CPython's parser accepts ``source`` (parsing only, nothing is executed)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences
            ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True
