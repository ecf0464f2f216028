"""The inline completion length policy: cursor context -> how much to generate, on how many lines.

Shared by the server's inline completion and the HumanEval benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Tree

from lsp_server.regions import FALLBACK_OPENERS, LANGUAGES, enclosing, line_bounds

_CONTAINERS = {"statement", "block", "function.body", "class.body"}


@dataclass(frozen=True)
class InlinePlan:
    """How to fill at the cursor: the rest of the line, or a statement/block on an empty line."""

    mode: str  # "line" | "block"
    single_line: bool
    max_tokens: int


def plan(
    lang: str | None,
    tree: Tree | None,
    source: bytes,
    row: int,
    byte_col: int,
    line_tokens: int = 24,
    block_tokens: int = 24,
) -> InlinePlan:
    """Plan an inline completion at (row, byte column) of `source`."""
    start, end = line_bounds(source, row)
    before = source[start : min(start + max(byte_col, 0), end)]
    line = InlinePlan("line", True, line_tokens)
    if before.strip():
        return line  # mid-expression or end of a line with content
    if _after_opener(lang, source, row) or not _continues_statement(lang, tree, row, start):
        return InlinePlan("block", False, block_tokens)
    return line  # an empty line inside a multi-line expression: one more item


def _after_opener(lang: str | None, source: bytes, row: int) -> bool:
    """Whether the previous non-blank line ends with a block opener (`:` in Python, `{`)."""
    openers = LANGUAGES[lang].block_openers if lang in LANGUAGES else FALLBACK_OPENERS
    for prev in range(row - 1, -1, -1):
        text = source[slice(*line_bounds(source, prev))].rstrip()
        if text:
            return text.decode("utf-8", "replace").endswith(openers)
    return False


def _continues_statement(lang: str | None, tree: Tree | None, row: int, line_start: int) -> bool:
    """Whether the line sits inside a statement that began on an earlier line, outside any block."""
    if lang not in LANGUAGES or tree is None:
        return False
    inner = enclosing(lang, tree, line_start, _CONTAINERS)
    return inner is not None and inner.kind == "statement" and inner.start_point[0] < row
