"""Does a Python file compile as well with a candidate in it as without?

The statement-scoped check (``syntax_check``) sees a few statements around the cursor, so it
cannot tell that a line's indentation leaves the block it belongs to, or that ``return`` now
stands outside any function. This check reads whole top-level statements (those around the
cursor: ``actions.inline._file_check``) with CPython's parser, plus the compiler's rule of where
``return``, ``yield``, ``break`` and ``continue`` may stand (an AST walk: nothing is compiled
to bytecode or run), and compares the first error it finds with the code's own.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property

from lsp_server.syntax_check import indentation, python_tree

MAX_CHARS = 100_000  # a larger text is not checked (CPython parses about 6 ms per 1,000 lines)
# Errors the empty line itself causes: the line below is indented for a header that is missing,
# or the header above has no body. Only a candidate that fills the hole removes them.
HOLE_ERRORS = ("unexpected indent", "expected an indented block")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_NODES = (ast.stmt, ast.expr, ast.excepthandler, ast.match_case)


@dataclass(frozen=True)
class FileError:
    """The first error CPython reports: its 0-based row and message."""

    row: int
    message: str


def first_error(source: str, rows: range) -> FileError | None:
    """The first parse error of ``source``, else the first ``return``/``yield`` outside a
    function or ``break``/``continue`` outside a loop on ``rows``; None when there is neither.
    An error with no line (null bytes) reads as row 0."""
    try:
        tree = python_tree(source)
    except SyntaxError as exc:
        return FileError((exc.lineno or 1) - 1, exc.msg)
    except (ValueError, MemoryError, RecursionError) as exc:
        return FileError(0, str(exc))
    return next(_misplaced(tree.body, rows, False, False), None)


def _misplaced(nodes, rows: range, in_function: bool, in_loop: bool):
    """The statements on ``rows`` that the compiler rejects for where they stand."""
    for node in nodes:
        first = getattr(node, "lineno", rows.start + 1) - 1  # a match case has no lines
        last = (getattr(node, "end_lineno", None) or first + 1) - 1
        if last < rows.start or first >= rows.stop:
            continue
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)) and not in_function:
            word = "return" if isinstance(node, ast.Return) else "yield"
            yield FileError(first, f"'{word}' outside function")
        elif isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            yield FileError(first, f"'{type(node).__name__.lower()}' outside loop")
        function = isinstance(node, _FUNCTIONS)
        loop = isinstance(node, _LOOPS)
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            children = [c for c in children if isinstance(c, _NODES)]
            # A loop's ``else`` and its iterable are outside the loop; a class ends both scopes.
            inside_loop = (in_loop or (loop and field == "body")) and not function
            if isinstance(node, ast.ClassDef):
                yield from _misplaced(children, rows, False, False)
            else:
                yield from _misplaced(children, rows, in_function or function, inside_loop)


class FileCheck:
    """Python code around an insertion at ``offset`` (a whole file, or whole top-level
    statements of one, starting at a line's start): whether a candidate makes it compile worse."""

    def __init__(self, text: str, offset: int):
        self.text, self.offset = text, offset
        self.row = text.count("\n", 0, offset)
        self.lines = text.split("\n")

    @cached_property
    def below(self) -> int:
        """The first non-blank row below the cursor's (the end of the text when none)."""
        return self._non_blank(range(self.row + 1, len(self.lines)), len(self.lines))

    @cached_property
    def base(self) -> FileError | None:
        """The text's own first error, ``return`` and the like from the cursor's row on (parsed
        on first use only)."""
        return first_error(self.text, range(self.row, len(self.lines)))

    @cached_property
    def filled(self) -> FileError | None:
        """The first error of the text with its hole filled by a neutral line (``if True:``
        for the line below, ``pass`` under the header above): what the hole hid, if that line
        mends the hole (no error up to the line below). The hole's own error when no neutral
        line fits (the cursor's row is not blank)."""
        line = self._neutral_line()
        if line is None:
            return self.base
        lines = self.lines[: self.row] + [line] + self.lines[self.row + 1 :]
        return first_error("\n".join(lines), range(self.row, len(lines)))

    def _non_blank(self, rows: range, default: int) -> int:
        return next((r for r in rows if self.lines[r].strip()), default)

    def _neutral_line(self) -> str | None:
        """A line that mends the hole's own error whatever the code around it means."""
        above = self._non_blank(range(self.row - 1, -1, -1), -1)
        if (self.base is None or self.lines[self.row].strip() or above < 0
                or self.below >= len(self.lines)):
            return None
        indent = indentation(self.lines[above])
        if self.base.message.startswith("expected an indented block"):
            return indent + ("\t" if indent.startswith("\t") else "    ") + "pass"
        if len(indent) < len(indentation(self.lines[self.below])):
            return indent + "if True:"
        return None

    def worse(self, source: str) -> bool:
        """Whether ``source``, the text with a candidate at the offset, compiles worse: an error
        from the cursor's row on where there was none, or before the text's own; or the hole's
        own error (``HOLE_ERRORS``) left, or one the hole hid before that of the text with the
        hole filled by a neutral line (``try:`` without ``except``). ``return`` and the like
        count on every row from the cursor's on, since a candidate can change what a later line
        belongs to. Text over ``MAX_CHARS`` is not checked."""
        if len(self.text) > MAX_CHARS:
            return False
        extra = source.count("\n") - self.text.count("\n")
        new = first_error(source, range(self.row, len(self.lines) + extra))
        if new is None or new.row < self.row:
            return False  # above the cursor: a bracket opened there and not closed yet, say
        base = self.base
        if base is not None and base.row < self.row:
            return False  # CPython stops before the cursor: nothing to compare
        row = max(self.row, new.row - extra)
        if base is not None and base.row <= self.below and base.message.startswith(HOLE_ERRORS):
            if row <= self.below:
                return True  # the hole's own error left, or a new one before it
            base = self.filled
            if base is not None and base.row <= self.below:
                return False  # no neutral line mends it: what the hole hid is unknown
        return base is None or row < base.row
