"""Tree-sitter regions on one real fixture per language, plus the line-based fallback."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tree_sitter import Tree

from lsp_server import regions

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Case:
    path: str
    mean: bytes  # how the documented function's region starts
    klass: bytes  # how a class-like region starts
    doc: bytes  # the existing doc of `mean`
    method_indent: str  # docstring indent for the method `size`
    size: bytes  # a statement inside `size`
    broken: tuple[bytes, bytes]  # (original, replacement) that breaks one line


CASES = {
    "python": Case(
        "python/sample.py",
        b"def mean",
        b"class Stack",
        b'"""Average of the values."""',
        " " * 8,
        b"len(self.items)",
        (b"    if x > 0:", b"    if x > 0"),
    ),
    "javascript": Case(
        "javascript/sample.js",
        b"function mean",
        b"class Stack",
        b"/** Average of the values. */",
        "  ",
        b"this.items.length",
        (b"return total / values.length;", b"return total / ;"),
    ),
    "typescript": Case(
        "typescript/sample.ts",
        b"function mean",
        b"interface Sized",
        b"/** Average of the values. */",
        "  ",
        b"this.items.length",
        (b"return total / values.length;", b"return total / ;"),
    ),
    "tsx": Case(
        "typescript/sample.ts",
        b"function mean",
        b"class Stack",
        b"/** Average of the values. */",
        "  ",
        b"this.items.length",
        (b"return total / values.length;", b"return total / ;"),
    ),
    "go": Case(
        "go/sample.go",
        b"func Mean",
        b"type Stack struct",
        b"// Mean is the average of the values.",
        "",
        b"len(s.items)",
        (b"float64(len(values))", b"float64(len(values)"),
    ),
    "rust": Case(
        "rust/sample.rs",
        b"pub fn mean",
        b"impl Stack",
        b"/// Average of the values.",
        "    ",
        b"self.items.len()",
        (b"let total: f64 = values.iter().sum();", b"let total: f64 = values.iter(.sum();"),
    ),
}


def text_of(source: bytes, region: regions.Region) -> bytes:
    return source[region.start_byte : region.end_byte]


def row_of(source: bytes, needle: bytes) -> int:
    return source[: source.index(needle)].count(b"\n")


def load(lang: str) -> tuple[bytes, Tree]:
    source = (FIXTURES / CASES[lang].path).read_bytes()
    return source, regions.parse(lang, source)


@pytest.mark.parametrize(
    ("language_id", "path", "expected"),
    [
        ("python", "", "python"),
        ("typescriptreact", "", "tsx"),
        ("javascriptreact", "", "javascript"),
        (None, "file:///src/main.rs", "rust"),
        ("plaintext", "/w/x.go", "go"),
        ("typescript", "/w/x.tsx", "typescript"),
        (None, "/w/notes.txt", None),
        ("cobol", "", None),
    ],
)
def test_language_for(language_id, path, expected):
    assert regions.language_for(language_id, path) == expected


@pytest.mark.parametrize("lang", CASES)
def test_regions_of_fixture(lang):
    case, (source, tree) = CASES[lang], load(lang)
    assert not tree.root_node.has_error
    found = regions.captures(lang, tree)
    assert found == sorted(found, key=lambda r: r.start_byte) and found

    inside = source.index(b"return total")
    mean = regions.enclosing(lang, tree, inside)
    assert text_of(source, mean).startswith(case.mean)
    body = regions.enclosing(lang, tree, inside, "function.body")
    assert mean.start_byte < body.start_byte and body.end_byte <= mean.end_byte
    statement = regions.enclosing(lang, tree, inside, "statement")
    assert text_of(source, statement).startswith(b"return total")
    assert statement.start_point[0] == row_of(source, b"return total")
    assert any(text_of(source, r).startswith(case.klass) for r in found if r.kind == "class")
    assert any(r.kind == "class.body" for r in found)
    assert any(r.kind == "block" and r.start_byte >= body.start_byte for r in found)


@pytest.mark.parametrize("lang", CASES)
def test_docstring_slots(lang):
    case, (source, tree) = CASES[lang], load(lang)
    spec = regions.LANGUAGES[lang]
    mean = regions.enclosing(lang, tree, source.index(b"return total"))
    slot = regions.docstring_slot(lang, tree, source, mean)
    assert slot.style == spec.doc_style
    assert text_of(source, slot.existing) == case.doc
    assert slot.existing.start_point[0] == row_of(source, case.doc)

    bare = regions.enclosing(lang, tree, source.index(b"return x"))
    slot = regions.docstring_slot(lang, tree, source, bare)
    assert slot.existing is None
    header_row = regions.point_at(source, bare.start_byte)[0]
    expected_row = header_row + 1 if spec.doc_inside else header_row
    assert regions.point_at(source, slot.insert_byte) == (expected_row, 0)
    assert slot.indent == ("    " if spec.doc_inside else "")

    size = regions.enclosing(lang, tree, source.index(case.size))
    assert regions.docstring_slot(lang, tree, source, size).indent == case.method_indent


@pytest.mark.parametrize("lang", CASES)
def test_error_rows_of_broken_variant(lang):
    case, (source, tree) = CASES[lang], load(lang)
    assert regions.error_rows(tree) == []
    old, new = case.broken
    broken = source.replace(old, new)
    tree = regions.parse(lang, broken)
    row = row_of(broken, new)
    assert regions.error_rows(tree) == [row]
    func = regions.enclosing(lang, tree, broken.index(new))
    assert regions.error_rows(tree, func.start_byte, func.end_byte) == [row]
    assert regions.error_rows(tree, 0, regions.line_bounds(broken, row - 1)[1]) == []


def test_python_decorators_nesting_and_one_liners():
    source = (
        b"@cache\n"
        b"def outer(x):\n"
        b"    def inner(y):\n"
        b'        """Inner doc."""\n'
        b"        return y\n"
        b"    return inner(x)\n"
        b"\n"
        b"def short(): return 1\n"
    )
    tree = regions.parse("python", source)
    outer = regions.enclosing("python", tree, source.index(b"return inner"))
    assert text_of(source, outer).startswith(b"@cache\ndef outer")
    assert regions.docstring_slot("python", tree, source, outer).existing is None
    inner = regions.enclosing("python", tree, source.index(b"return y"))
    inner_slot = regions.docstring_slot("python", tree, source, inner)
    assert text_of(source, inner_slot.existing) == b'"""Inner doc."""'
    assert inner_slot.indent == " " * 8
    short = regions.enclosing("python", tree, source.index(b"return 1"))
    assert regions.docstring_slot("python", tree, source, short) is None
    assert regions.enclosing("python", tree, source.index(b"@cache")) == outer
    assert regions.enclosing("python", tree, len(source) + 5) is None


@pytest.mark.parametrize(
    ("lang", "source"),
    [
        ("go", b"// Unrelated.\n\nfunc f() {}\n"),
        ("javascript", b"let x = 1; // trailing\nfunction f() {}\n"),
        ("rust", b"/// For S.\nstruct S;\nfn f() {}\n"),
    ],
)
def test_comments_that_are_not_the_doc(lang, source):
    tree = regions.parse(lang, source)
    func = regions.enclosing(lang, tree, source.index(b"f()") + 1)
    assert regions.docstring_slot(lang, tree, source, func).existing is None


def test_go_doc_comment_spans_several_lines():
    source = b"package p\n\n// Add adds.\n//\n// Twice.\nfunc Add() {}\n"
    tree = regions.parse("go", source)
    func = regions.enclosing("go", tree, source.index(b"Add()"))
    slot = regions.docstring_slot("go", tree, source, func)
    assert text_of(source, slot.existing) == b"// Add adds.\n//\n// Twice."
    assert slot.existing.start_point == (2, 0) and slot.existing.end_point == (4, 9)


def test_fallback_blocks_follow_indentation_and_blank_lines():
    source = b"task:\n  a\n  b\n\n  c\n\nnext\n\tdeep\n"
    assert regions.fallback_block(source, 0) == (0, 4)  # deeper lines continue past a blank
    assert regions.fallback_block(source, 1) == (1, 2)  # same indent stops at a blank line
    assert regions.fallback_block(source, 4) == (4, 4)
    assert regions.fallback_block(source, 3) == (3, 3)  # a blank line is its own block
    assert regions.fallback_block(source, 6) == (6, 7)
    assert regions.fallback_block(source, 99) == (8, 8)
    assert regions.fallback_block(b"only\r\nline\r\n", 1) == (0, 1)


def test_line_bounds_and_points():
    source = "a\r\nbé\nlast".encode()
    assert regions.line_bounds(source, 0) == (0, 1)
    assert regions.line_bounds(source, 1) == (3, 6)
    assert regions.line_bounds(source, 2) == (7, 11)
    assert regions.line_bounds(source, 9) == (11, 11)
    assert regions.point_at(source, 6) == (1, 3)


def test_regions_documents_and_plan_import_only_tree_sitter():
    code = (
        "import sys\n"
        "from lsp_server import documents, inline_plan, regions\n"
        "tree = regions.parse('python', b'def f():\\n    pass\\n')\n"
        "assert regions.captures('python', tree, {'function'})\n"
        "loaded = {'tree_sitter_rust', 'tree_sitter_go', 'pygls', 'torch'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_docstring_slot_of_a_class_only_method_is_inside_the_method():
    source = b"class A:\n    def f(self, x):\n        return x\n"
    tree = regions.parse("python", source)
    func = regions.enclosing("python", tree, source.index(b"return"), "function")
    slot = regions.docstring_slot("python", tree, source, func)
    assert slot.insert_byte == source.index(b"        return")
    assert slot.indent == "        "


@pytest.mark.parametrize("lang,source,prose", [
    ("python", 'def f():\n    """A\n    b."""\n    # c\n    x = 1  # d\n', {1, 2, 3}),
    ("javascript", "function f() {\n  /* a\n   b */ let x = 1;\n  // c\n}\n", {1, 3}),
    ("go", "func f() {\n\t// a\n\tx := 1 // b\n}\n", {1}),
    ("rust", "fn f() {\n    /// a\n    let x = 1; // b\n    /* c */\n}\n", {1, 3}),
])
def test_prose_rows_hold_only_comments_or_a_docstring(lang, source, prose):
    src = source.encode()
    assert regions.prose_rows(lang, regions.parse(lang, src), src, 0, len(src)) == prose


@pytest.mark.parametrize("lang", ["javascript", "typescript", "tsx"])
def test_a_declaration_is_a_function_only_when_it_holds_one(lang):
    """``let total = 0;`` inside a function is a statement of it, not a function of its own
    (a nested query alternation once matched any declarator)."""
    source = (b"function f(xs) {\n  let total = 0;\n  var n = 1;\n  return total;\n}\n"
              b"const g = (x) => { return x; };\nlet h = function (y) { return y; };\n"
              b"var k = 3;\n")
    tree = regions.parse(lang, source)
    found = [r.start_point for r in regions.captures(lang, tree, {"function"})]
    assert found == [(0, 0), (5, 0), (6, 0)]
    inside = source.index(b"total = 0")
    assert regions.enclosing(lang, tree, inside).start_point == (0, 0)
