"""Tree-sitter regions: languages, parsing, functions, classes, docstring slots, error rows.

Queries live in `queries/<lang>.scm`; code here branches only on capture names, except for
the small `LANGUAGES` table. Imports only tree-sitter (grammar wheels lazily), never pygls/torch.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree


@dataclass(frozen=True)
class LanguageSpec:
    """How to load one grammar, and its comment/docstring conventions."""

    module: str  # grammar wheel, imported on first use
    function: str  # function of `module` returning the language pointer
    query: str  # queries/<query>.scm
    doc_style: str  # what opens a docstring
    doc_inside: bool  # docstring is the body's first line (Python) or the lines before
    block_openers: tuple[str, ...]  # line endings that open a block


_BRACES = ("{",)
LANGUAGES: dict[str, LanguageSpec] = {
    "python": LanguageSpec("tree_sitter_python", "language", "python", '"""', True, (":",)),
    "javascript": LanguageSpec(
        "tree_sitter_javascript", "language", "javascript", "/**", False, _BRACES
    ),
    "typescript": LanguageSpec(
        "tree_sitter_typescript", "language_typescript", "typescript", "/**", False, _BRACES
    ),
    "tsx": LanguageSpec(
        "tree_sitter_typescript", "language_tsx", "typescript", "/**", False, _BRACES
    ),
    "go": LanguageSpec("tree_sitter_go", "language", "go", "//", False, _BRACES),
    "rust": LanguageSpec("tree_sitter_rust", "language", "rust", "///", False, _BRACES),
}
FALLBACK_OPENERS = (":", "{")

_LANGUAGE_IDS = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "go": "go",
    "rust": "rust",
}
_EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
}
_DEFINITIONS = frozenset({"function", "class"})
_BODIES = frozenset({"function.body", "class.body"})


@dataclass(frozen=True)
class Region:
    """A captured span of source: capture name, bytes and (row, byte column) points."""

    kind: str
    start_byte: int
    end_byte: int
    start_point: tuple[int, int]
    end_point: tuple[int, int]


@dataclass(frozen=True)
class DocstringSlot:
    """Where a new docstring goes for a definition, and the one it already has."""

    insert_byte: int
    indent: str
    style: str
    existing: Region | None


def language_for(language_id: str | None, path: str = "") -> str | None:
    """Map an LSP languageId, else a file extension, to a supported grammar name."""
    if language_id in _LANGUAGE_IDS:
        return _LANGUAGE_IDS[language_id]
    return _EXTENSIONS.get(os.path.splitext(path)[1].lower())


@cache
def _language(lang: str) -> Language:
    spec = LANGUAGES[lang]
    return Language(getattr(importlib.import_module(spec.module), spec.function)())


@cache
def keywords(lang: str | None) -> frozenset[str]:
    """The words a grammar spells out (``return``, ``func``): its anonymous node kinds that are
    words; none for a language without a grammar."""
    if lang not in LANGUAGES:
        return frozenset()
    found = _language(lang)
    kinds = (found.node_kind_for_id(i) for i in range(found.node_kind_count)
             if not found.node_kind_is_named(i) and found.node_kind_is_visible(i))
    return frozenset(k for k in kinds if k and (k[0].isalpha() or k[0] == "_") and k.isidentifier())


@cache
def _parser(lang: str) -> tuple[Parser, threading.Lock]:
    return Parser(_language(lang)), threading.Lock()


def _query_text(name: str) -> str:
    text = (resources.files("lsp_server") / "queries" / f"{name}.scm").read_text("utf-8")
    first = text.split("\n", 1)[0]
    if first.startswith("; inherits:"):
        parents = first.removeprefix("; inherits:").split(",")
        text = "\n".join([*(_query_text(p.strip()) for p in parents), text])
    return text


@cache
def _query(lang: str) -> Query:
    return Query(_language(lang), _query_text(LANGUAGES[lang].query))


def parse(lang: str, source: bytes, old_tree: Tree | None = None) -> Tree:
    """Parse `source` (incrementally when `old_tree` was edited to match it)."""
    parser, lock = _parser(lang)
    with lock:
        return parser.parse(source, old_tree) if old_tree is not None else parser.parse(source)


def _region(kind: str, node: Node) -> Region:
    (start_row, start_col), (end_row, end_col) = node.start_point, node.end_point
    return Region(kind, node.start_byte, node.end_byte, (start_row, start_col), (end_row, end_col))


def captures(
    lang: str,
    tree: Tree,
    kinds: set[str] | None = None,
    byte_range: tuple[int, int] | None = None,
) -> list[Region]:
    """All regions of the given kinds (optionally touching `byte_range`), by start byte."""
    cursor = QueryCursor(_query(lang))
    if byte_range is not None:
        cursor.set_byte_range(*byte_range)
    found = {
        _region(name, node)
        for name, nodes in cursor.captures(tree.root_node).items()
        if kinds is None or name in kinds
        for node in nodes
    }
    return sorted(found, key=lambda r: (r.start_byte, -r.end_byte, r.kind))


def _innermost(regions: list[Region], start: int, end: int) -> Region | None:
    inside = [r for r in regions if r.start_byte <= start and end <= r.end_byte]
    return min(inside, key=lambda r: r.end_byte - r.start_byte, default=None)


def enclosing(
    lang: str, tree: Tree, byte_offset: int, kind: str | set[str] = "function"
) -> Region | None:
    """The innermost region of `kind` (or of any of a set of kinds) containing `byte_offset`.

    A region's end counts as inside it.
    """
    kinds = {kind} if isinstance(kind, str) else set(kind)
    near = (max(byte_offset - 1, 0), byte_offset + 1)
    return _innermost(captures(lang, tree, kinds, near), byte_offset, byte_offset)


def line_bounds(source: bytes, row: int) -> tuple[int, int]:
    """Byte offsets of the start and end (before the newline) of `row`; clamped."""
    start = 0
    for _ in range(max(row, 0)):
        newline = source.find(b"\n", start)
        if newline < 0:
            return len(source), len(source)
        start = newline + 1
    end = source.find(b"\n", start)
    end = len(source) if end < 0 else end
    return start, end - 1 if source[start:end].endswith(b"\r") else end


def point_at(source: bytes, byte: int) -> tuple[int, int]:
    """Tree-sitter point (row, byte column) of a byte offset."""
    return source.count(b"\n", 0, byte), byte - (source.rfind(b"\n", 0, byte) + 1)


def record_edit(tree: Tree, old: bytes, new: bytes, start: int, old_end: int, new_end: int
                ) -> None:
    """Tell ``tree`` (in place) that ``old[start:old_end]`` became ``new[start:new_end]``."""
    tree.edit(start_byte=start, old_end_byte=old_end, new_end_byte=new_end,
              start_point=point_at(old, start), old_end_point=point_at(old, old_end),
              new_end_point=point_at(new, new_end))


def _line_start(source: bytes, byte: int) -> int:
    return source.rfind(b"\n", 0, byte) + 1


def _paragraph_start(source: bytes, line_start: int) -> int:
    """Start of the first line of the run of non-blank lines just above `line_start`."""
    while line_start > 0:
        above = _line_start(source, line_start - 1)
        if not source[above:line_start].strip():
            break
        line_start = above
    return line_start


def _leading_space(line: bytes) -> bytes:
    return line[: len(line) - len(line.lstrip())]


def _indent_of_line(source: bytes, line_start: int) -> str:
    end = source.find(b"\n", line_start)
    line = source[line_start : end if end >= 0 else len(source)].rstrip(b"\r")
    return _leading_space(line).decode("utf-8", "replace")


def docstring_slot(lang: str, tree: Tree, source: bytes, func: Region) -> DocstringSlot | None:
    """Where to write a docstring for `func` (a function or class) and any existing one."""
    spec = LANGUAGES[lang]
    start = _line_start(source, func.start_byte)
    near = (func.start_byte if spec.doc_inside else _paragraph_start(source, start), func.end_byte)
    regions = captures(lang, tree, {"docstring", "statement"} | _DEFINITIONS | _BODIES, near)
    if spec.doc_inside:
        return _inside_slot(spec.doc_style, regions, source, func)
    existing = _comments_before(regions, source, start)
    return DocstringSlot(start, _indent_of_line(source, start), spec.doc_style, existing)


def _inside_slot(
    style: str, regions: list[Region], source: bytes, func: Region
) -> DocstringSlot | None:
    """Slot on the first line of the body; the existing docstring is the body's opening string."""
    # A body starting where the definition starts is an enclosing one (a class whose only
    # member is this method has the same span), never this definition's own.
    bodies = [r for r in regions if r.kind in _BODIES and _contains(func, r)
              and r.start_byte > func.start_byte]
    if not bodies:
        return None
    body = bodies[0]  # the definition's own body starts before any nested one
    start = _line_start(source, body.start_byte)
    if source[start : body.start_byte].strip():
        return None  # one-line definition: the body shares the header's line
    definitions = [r for r in regions if r.kind in _DEFINITIONS]
    existing = next(
        (
            r
            for r in regions
            if r.kind == "docstring"
            and _contains(body, r)
            and _innermost(definitions, r.start_byte, r.end_byte) == func
        ),
        None,
    )
    return DocstringSlot(start, _indent_of_line(source, start), style, existing)


def _contains(outer: Region, inner: Region) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _comments_before(regions: list[Region], source: bytes, limit: int) -> Region | None:
    """The run of doc comments that ends right above `limit` with no blank line or code between."""
    starts = [r.start_byte for r in regions if r.kind != "docstring"]
    run: list[Region] = []
    for doc in reversed([r for r in regions if r.kind == "docstring" and r.end_byte <= limit]):
        gap_end = run[0].start_byte if run else limit
        gap = source[doc.end_byte : gap_end]
        own_line = not source[_line_start(source, doc.start_byte) : doc.start_byte].strip()
        if b"\n\n" in gap.replace(b"\r", b"").replace(b" ", b"").replace(b"\t", b""):
            break
        if not own_line or any(doc.end_byte <= s < gap_end for s in starts):
            break
        run.insert(0, doc)
    if not run:
        return None
    end = run[0].start_byte + len(source[run[0].start_byte : run[-1].end_byte].rstrip())
    start = run[0].start_byte
    return Region("docstring", start, end, point_at(source, start), point_at(source, end))


CHECK_SPAN_BYTES = 8192  # a statement span longer than this is narrowed to an inner block


def statement_span(lang: str | None, tree: Tree, first: int, last: int | None = None,
                   max_bytes: int = CHECK_SPAN_BYTES) -> tuple[int, int, bool]:
    """Bytes of the statements around ``first``..``last``: the one before through the one after.

    Syntax is local to them, so checking an edit there costs what the function costs, not the
    file. They are top-level statements; in Python, when those are longer than ``max_bytes`` (a
    long class), the statements of the outermost block inside them that holds both ends, and so
    on down. Returns (start, end, nested); a nested span starts at its line's start, indented.
    """
    last = first if last is None else last
    container = tree.root_node
    while True:
        children = container.children
        anchor = max((c for c in children if c.start_byte <= first), key=lambda c: c.start_byte,
                     default=container)
        start = anchor.start_byte
        end = min((c.end_byte for c in children if c.end_byte >= last), default=container.end_byte)
        end = max(end, last)
        inner = _outer_block(children, first, last) if lang == "python" else None
        if end - start <= max_bytes or inner is None:
            break
        container = inner
    nested = container != tree.root_node
    if nested:
        start -= anchor.start_point[1]  # the indentation of the first line
    return start, end, nested


def _outer_block(children: list[Node], first: int, last: int) -> Node | None:
    """The outermost ``block`` inside the child holding ``first``..``last``, if it holds them."""
    holder = next((c for c in children if c.start_byte <= first and last <= c.end_byte), None)
    if holder is None:
        return None
    node, found = holder.descendant_for_byte_range(first, last), None
    while node is not None and node != holder:
        if node.type == "block" and node.start_byte <= first and last <= node.end_byte:
            found = node
        node = node.parent
    return found


def prose_rows(lang: str, tree: Tree, source: bytes, start_byte: int, end_byte: int) -> set[int]:
    """Rows in the byte range that hold only comments or a docstring (and whitespace)."""
    rows: set[int] = set()
    for region in captures(lang, tree, {"comment", "docstring"}, (start_byte, end_byte)):
        first, last = region.start_point[0], region.end_point[0]
        head = source[line_bounds(source, first)[0] : region.start_byte]
        tail = source[region.end_byte : line_bounds(source, last)[1]]
        rows.update(range(first + bool(head.strip()), last + 1 - bool(tail.strip())))
    return rows


def error_nodes(tree: Tree, start_byte: int = 0, end_byte: int | None = None) -> Iterator[Node]:
    """ERROR and MISSING nodes that start inside the byte range (the whole tree by default)."""
    end_byte = tree.root_node.end_byte if end_byte is None else end_byte
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte < start_byte or node.start_byte > end_byte:
            continue
        if not (node.has_error or node.is_missing):
            continue
        if (node.is_error or node.is_missing) and node.start_byte >= start_byte:
            yield node
        stack.extend(node.children)


def error_rows(tree: Tree, start_byte: int = 0, end_byte: int | None = None) -> list[int]:
    """Rows where an ERROR or MISSING node starts, for nodes starting inside the byte range."""
    return sorted({node.start_point.row for node in error_nodes(tree, start_byte, end_byte)})


def _indent(line: bytes) -> int:
    return len(_leading_space(line).expandtabs(4))


def fallback_block(source: bytes, row: int) -> tuple[int, int]:
    """Line-based block (start_row, end_row) around `row`: same-or-deeper indentation, no gaps."""
    lines = source.split(b"\n")
    row = min(max(row, 0), len(lines) - 1)
    if not lines[row].strip():
        return row, row
    base = _indent(lines[row])
    start = row
    while start > 0 and lines[start - 1].strip() and _indent(lines[start - 1]) >= base:
        start -= 1
    end, probe = row, row + 1
    while probe < len(lines):
        if lines[probe].strip():
            deeper = _indent(lines[probe]) > base
            if not (deeper or (probe == end + 1 and _indent(lines[probe]) == base)):
                break
            end = probe
        probe += 1
    return start, end
