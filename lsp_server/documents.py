"""Open documents: text, UTF-16 positions and an incrementally reparsed tree-sitter tree."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from functools import cached_property

from tree_sitter import Tree

from lsp_server.regions import language_for, parse, record_edit

Position = tuple[int, int]  # LSP (line, UTF-16 character)
Range = tuple[Position, Position]
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ENCODING = ("utf-8", "surrogatepass")


def _utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True)
class Document:
    """One immutable version of an open document."""

    uri: str
    language: str | None
    version: int
    text: str
    tree: Tree | None = None
    skipped_reason: str | None = None
    language_id: str | None = None  # as the client named it (``language``: the grammar's)

    @cached_property
    def source(self) -> bytes:
        """The text as UTF-8 bytes (what tree-sitter sees)."""
        return self.text.encode(*_ENCODING)

    @cached_property
    def _lines(self) -> tuple[list[int], list[int]]:
        """Char offsets where each line starts, and where its content ends (before the break)."""
        starts, ends = [0], []
        for match in _LINE_BREAK.finditer(self.text):
            ends.append(match.start())
            starts.append(match.end())
        ends.append(len(self.text))
        return starts, ends

    @cached_property
    def _line_bytes(self) -> list[int]:
        starts, ends = self._lines
        out, total = [], 0
        for i, start in enumerate(starts):
            out.append(total)
            if i + 1 < len(starts):
                total += len(self.text[start : starts[i + 1]].encode(*_ENCODING))
        return out

    def offset_at(self, line: int, utf16_char: int) -> int:
        """Char offset of an LSP position, clamped into the document and the line."""
        starts, ends = self._lines
        if line < 0:
            return 0
        if line >= len(starts):
            return len(self.text)
        start, end = starts[line], ends[line]
        if self.text[start:end].isascii():
            return start + min(max(utf16_char, 0), end - start)
        units, offset = 0, start
        while offset < end and units + _utf16_len(self.text[offset]) <= utf16_char:
            units += _utf16_len(self.text[offset])
            offset += 1
        return offset

    def position_at(self, char_offset: int) -> Position:
        """LSP position of a char offset (clamped)."""
        char_offset = min(max(char_offset, 0), len(self.text))
        starts, _ = self._lines
        line = bisect.bisect_right(starts, char_offset) - 1
        return line, _utf16_len(self.text[starts[line] : char_offset])

    def byte_at(self, char_offset: int) -> int:
        """UTF-8 byte offset of a char offset (clamped)."""
        char_offset = min(max(char_offset, 0), len(self.text))
        starts, _ = self._lines
        line = bisect.bisect_right(starts, char_offset) - 1
        return self._line_bytes[line] + len(
            self.text[starts[line] : char_offset].encode(*_ENCODING)
        )

    def char_at_byte(self, byte: int) -> int:
        """Char offset of a UTF-8 byte offset; a byte inside a character maps to its start."""
        byte = min(max(byte, 0), len(self.source))
        line = bisect.bisect_right(self._line_bytes, byte) - 1
        head = self.source[self._line_bytes[line] : byte].decode("utf-8", "ignore")
        return self._lines[0][line] + len(head)

    def line_text(self, row: int) -> str:
        """Text of line `row` without its line break; empty when out of range."""
        starts, ends = self._lines
        return self.text[starts[row] : ends[row]] if 0 <= row < len(starts) else ""


class DocumentStore:
    """Open documents by URI, reparsed incrementally on every change."""

    def __init__(self, max_bytes: int = 2_000_000):
        self.max_bytes = max_bytes
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, language_id: str | None, version: int, text: str) -> Document:
        """Track a newly opened document and parse it."""
        doc = Document(uri, language_for(language_id, uri), version, text,
                       language_id=language_id)
        self._docs[uri] = self._parsed(doc, None)
        return self._docs[uri]

    def change(
        self, uri: str, version: int, changes: list[tuple[Range | None, str]]
    ) -> Document | None:
        """Apply LSP content changes in order; None when the document is not open."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        tree = doc.tree.copy() if doc.tree is not None else None
        for rng, new_text in changes:
            if rng is None:
                doc, tree = replace(doc, text=new_text), None
            else:
                doc = self._edit(doc, tree, rng, new_text)
        self._docs[uri] = self._parsed(replace(doc, version=version), tree)
        return self._docs[uri]

    def preview(self, doc: Document, rng: Range, new_text: str) -> Document:
        """``doc`` as it would be with ``new_text`` over ``rng``: the same URI and version,
        reparsed incrementally, not stored."""
        tree = doc.tree.copy() if doc.tree is not None else None
        return self._parsed(self._edit(doc, tree, rng, new_text), tree)

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._docs.pop(uri, None)

    def get(self, uri: str) -> Document | None:
        """The current version of a document, or None."""
        return self._docs.get(uri)

    @staticmethod
    def _edit(doc: Document, tree: Tree | None, rng: Range, new_text: str) -> Document:
        """Splice `new_text` over `rng`, recording the edit on `tree` (in place) if any."""
        start = doc.offset_at(*rng[0])
        end = max(doc.offset_at(*rng[1]), start)
        start_byte, old_end_byte = doc.byte_at(start), doc.byte_at(end)
        new = replace(doc, text=doc.text[:start] + new_text + doc.text[end:])
        if tree is None:
            return new
        new_end_byte = start_byte + len(new_text.encode(*_ENCODING))
        record_edit(tree, doc.source, new.source, start_byte, old_end_byte, new_end_byte)
        return new

    def _parsed(self, doc: Document, old_tree: Tree | None) -> Document:
        """`doc` with its tree (reusing an edited `old_tree`) or the reason it has none."""
        if "\x00" in doc.text:
            return replace(doc, tree=None, skipped_reason="binary (NUL bytes)")
        if len(doc.source) > self.max_bytes:
            reason = f"too large ({len(doc.source)} bytes > {self.max_bytes})"
            return replace(doc, tree=None, skipped_reason=reason)
        if doc.language is None:
            return replace(doc, tree=None, skipped_reason=None)
        return replace(doc, tree=parse(doc.language, doc.source, old_tree), skipped_reason=None)
