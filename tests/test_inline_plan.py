"""The inline length policy on real parses in every language, and without a grammar."""

from __future__ import annotations

import pytest

from lsp_server import regions
from lsp_server.inline_plan import InlinePlan, plan

CURSOR = "█"
LINE = InlinePlan("line", True, 24)
BLOCK = InlinePlan("block", False, 24)

# language -> situation -> source with the cursor marked
SOURCES = {
    "python": {
        "mid_line": "def f(x):\n    return x +█\n",
        "empty_line": "def f(x):\n    y = 1\n    █\n    return y\n",
        "after_opener": "def f(x):\n    █\n",
        "inside_call": "total = add(\n    1,\n    █\n)\n",
    },
    "javascript": {
        "mid_line": "function f(x) {\n  return x +█\n}\n",
        "empty_line": "function f(x) {\n  const y = 1;\n  █\n  return y;\n}\n",
        "after_opener": "const o = {\n  █\n};\n",
        "inside_call": "const total = add(\n  1,\n  █\n);\n",
    },
    "typescript": {
        "mid_line": "function f(x: number): number {\n  return x +█\n}\n",
        "empty_line": "function f(x: number) {\n  const y: number = 1;\n  █\n  return y;\n}\n",
        "after_opener": "class A {\n  m(): void {\n    █\n  }\n}\n",
        "inside_call": "const total: number = add(\n  1,\n  █\n);\n",
    },
    "go": {
        "mid_line": "package p\n\nfunc f(x int) int {\n\treturn x +█\n}\n",
        "empty_line": "package p\n\nfunc f() int {\n\ty := 1\n\t█\n\treturn y\n}\n",
        "after_opener": "package p\n\nfunc f() {\n\t█\n}\n",
        "inside_call": "package p\n\nfunc f() {\n\ttotal := add(\n\t\t1,\n\t\t█\n\t)\n}\n",
    },
    "rust": {
        "mid_line": "fn f(x: i32) -> i32 {\n    x +█\n}\n",
        "empty_line": "fn f() -> i32 {\n    let y = 1;\n    █\n    y\n}\n",
        "after_opener": "impl A {\n    fn m(&self) {\n        █\n    }\n}\n",
        "inside_call": "fn f() {\n    let total = add(\n        1,\n        █\n    );\n}\n",
    },
}
EXPECTED = {"mid_line": LINE, "empty_line": BLOCK, "after_opener": BLOCK, "inside_call": LINE}


def plan_at(lang: str | None, marked: str, **budgets) -> InlinePlan:
    source = marked.replace(CURSOR, "").encode()
    cursor = marked.encode().index(CURSOR.encode())
    row, col = regions.point_at(source, cursor)
    tree = regions.parse(lang, source) if lang else None
    return plan(lang, tree, source, row, col, **budgets)


@pytest.mark.parametrize(
    ("lang", "situation"),
    [(lang, situation) for lang, cases in SOURCES.items() for situation in cases],
)
def test_plan_per_language(lang, situation):
    assert plan_at(lang, SOURCES[lang][situation]) == EXPECTED[situation]


def test_cursor_in_indentation_before_code_is_a_block():
    assert plan_at("python", "def f(x):\n    █return x\n") == BLOCK


def test_budgets_are_passed_through():
    assert plan_at("go", SOURCES["go"]["mid_line"], line_tokens=7) == InlinePlan("line", True, 7)
    marked = SOURCES["rust"]["empty_line"]
    assert plan_at("rust", marked, block_tokens=99) == InlinePlan("block", False, 99)


def test_humaneval_shaped_prompt_is_a_block():
    prompt = 'def add(a, b):\n    """Sum of a and b."""\n'
    assert plan_at("python", prompt + "    █\n\ndef check():\n    pass\n") == BLOCK


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("x = █\n", LINE),
        ("task:\n  █\n", BLOCK),
        ("call(\n  a,\n  █\n)\n", BLOCK),  # no tree: an empty line is always a block
        ("█", BLOCK),
    ],
)
def test_unknown_language_uses_text_only(marked, expected):
    assert plan_at(None, marked) == expected
