"""Does an insertion break the file's syntax? Scores inline completion candidates.

tree-sitter counts ERROR/MISSING nodes for every language with a grammar; for Python,
``ast.parse`` also catches what tree-sitter's error recovery lets through (indentation,
``if x = 0:``). Both only parse: workspace code is never compiled to bytecode or run.
"""

from __future__ import annotations

import ast
import warnings

from lsp_server import regions


class SyntaxCheck:
    """The document around the cursor, parsed once; ``added_errors`` scores an insertion there."""

    def __init__(self, lang: str | None, before: str, after: str):
        self.lang = lang if lang in regions.LANGUAGES else None
        self.before, self.after = before, after
        if self.lang is not None:
            self.base_errors = self._tree_errors(before + after)
            self.python_ok = self.lang == "python" and _python_parses(before + after)

    def added_errors(self, text: str) -> int:
        """How many syntax errors inserting ``text`` at the cursor adds (0 = none, or unknown)."""
        if self.lang is None:
            return 0
        source = self.before + text + self.after
        added = max(0, self._tree_errors(source) - self.base_errors)
        if self.python_ok and not _python_parses(source):
            added += 1
        return added

    def _tree_errors(self, source: str) -> int:
        tree = regions.parse(self.lang, source.encode("utf-8", "surrogatepass"))
        return sum(1 for _ in regions.error_nodes(tree))


def _python_parses(source: str) -> bool:
    """Whether CPython's parser accepts ``source`` (parsing only, nothing is executed)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences
            ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True
