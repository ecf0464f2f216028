"""Syntax-checked candidates: the check, the schedule and the choice."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lsp_server import regions
from lsp_server.attempts import SAMPLE_TEMPERATURE, best_of, schedule
from lsp_server.syntax_check import SyntaxCheck
from model import DecodeSettings

BEFORE = "def f(x):\n    y = 1\n"
AFTER = "\n    return y\n"


@pytest.mark.parametrize(
    ("text", "breaks"),
    [
        ("    z = 2", False),
        ("    for i in range(x):\n        y += i", False),
        ("    z = (", True),  # tree-sitter sees it
        ("    if x = 0:\n        pass", True),
        ("  z = 2", True),  # only CPython's parser sees the bad dedent
        ("    print 'a'", True),
    ],
)
def test_python_insertions_are_scored_by_the_errors_they_add(text, breaks):
    assert (SyntaxCheck("python", BEFORE, AFTER).added_errors(text) > 0) is breaks


def test_a_file_that_is_already_broken_only_counts_new_errors():
    broken_before = "def g(:\n    pass\n\n" + BEFORE
    check = SyntaxCheck("python", broken_before, AFTER)
    assert check.base_errors > 0
    assert check.added_errors("    z = 2") == 0
    assert check.added_errors("    z = (((") > 0


def test_a_rewrite_is_compared_with_the_original_not_appended_to_it():
    original = "def f(x):\n    y = x +\n    return y\n"  # one error
    check = SyntaxCheck("python", original, "")
    assert check.base_errors == 2  # tree-sitter's error node and CPython's rejection
    assert check.added_errors_in(original.replace("x +", "x + 1")) == 0  # fixed: nothing added
    assert check.added_errors_in(original) == 0
    worse = original.replace("x +", "(x + [")
    assert check.added_errors_in(worse) > 0


def test_other_grammars_and_unknown_languages():
    js = SyntaxCheck("javascript", "function f(x) {\n  ", "\n  return x;\n}\n")
    assert js.added_errors("x += 1;") == 0 and js.added_errors("x += ) (;") > 0
    assert SyntaxCheck(None, "a", "b").added_errors("((((") == 0  # no grammar: never rejects


def test_the_check_sees_only_the_top_level_statements_around_the_cursor():
    source = b"import os\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n"
    tree = regions.parse("python", source)
    inside_a = source.index(b"return 1")
    assert regions.statement_span("python", tree, inside_a) == (
        source.index(b"def a"), source.index(b"\n\n\ndef b"), False)
    between = source.index(b"\n\ndef b")
    start, end, _ = regions.statement_span("python", tree, between)
    assert source[start:end].startswith(b"def a") and source[start:end].endswith(b"return 2")


BIG_CLASS = "import os\n\n\nclass Big:\n" + "".join(
    f"    def m{i}(self, x):\n        y = x + {i}\n        \n        return y * 2\n\n"
    for i in range(400))


def test_in_a_long_class_the_check_narrows_to_the_methods_around_the_cursor():
    source = BIG_CLASS.encode()
    tree = regions.parse("python", source)
    cursor = source.index(b"y = x + 200\n") + len(b"y = x + 200\n        ")
    start, end, nested = regions.statement_span("python", tree, cursor)
    span = source[start:end].decode()
    assert nested and span.startswith("    def m200(") and span.endswith("return y * 2")
    assert end - start < regions.CHECK_SPAN_BYTES and "def m199" not in span
    fill = source.index(b"def m201")  # both ends in one method: its statements, deeper still
    assert regions.statement_span("python", tree, cursor, fill, max_bytes=200)[2]
    text = BIG_CLASS
    check = SyntaxCheck("python", text[start:cursor], text[cursor:end], nested)
    assert check.base_errors == 0  # indented methods parse under the header
    assert check.added_errors("z = 2") == 0
    assert check.added_errors("z = (") > 0
    assert check.added_errors("z = 2\n  w = 3") > 0  # a dedent no block matches
    whole = SyntaxCheck("python", text[:cursor], text[cursor:])  # the file, for comparison
    for insertion in ("z = 2", "z = (", "z = 2\n  w = 3", "for i in x:\n            z = i"):
        assert (check.added_errors(insertion) > 0) == (whole.added_errors(insertion) > 0)


def test_other_languages_keep_the_top_level_span():
    source = ("class Big {\n" + "".join(f"  m{i}(x) {{\n    return x + {i};\n  }}\n"
                                        for i in range(400)) + "}\n").encode()
    tree = regions.parse("javascript", source)
    cursor = source.index(b"return x + 200")
    assert regions.statement_span("javascript", tree, cursor) == (0, len(source) - 1, False)


def test_schedule_plan_first_then_one_line_then_samples():
    block = DecodeSettings(max_tokens=64, seed=3)
    tries = schedule(block, 4, line_tokens=24)
    assert tries[0] == block
    assert tries[1].single_line and tries[1].max_tokens == 24 and tries[1].temperature == 0
    assert [(t.temperature, t.seed) for t in tries[2:]] == [(SAMPLE_TEMPERATURE, 4),
                                                           (SAMPLE_TEMPERATURE, 5)]
    line = DecodeSettings(max_tokens=24, single_line=True)
    assert [t.temperature for t in schedule(line, 2, 24)] == [0.0, SAMPLE_TEMPERATURE]
    assert [t.temperature for t in schedule(block, 2)] == [0.0, SAMPLE_TEMPERATURE]  # no line
    assert schedule(block, 1, 24) == [block]
    assert schedule(block, 0, 24) == [block]  # syntaxAttempts 0: one try, unchecked


def scripted(outputs: list[str], cancel_at: int | None = None):
    """A stand-in sampler returning ``outputs`` in turn; records the settings it was given."""
    calls = []

    def generate(settings):
        calls.append(settings)
        k = len(calls) - 1
        return SimpleNamespace(text=outputs[k], forward_passes=2, elapsed_ms=5.0,
                               cancelled=k == cancel_at)

    return generate, calls


def text_of(result):
    return result.text or None  # an empty candidate is no candidate


def test_the_first_candidate_that_parses_wins():
    generate, calls = scripted(["    z = (", "    z = 2", "    z = 3"])
    check = SyntaxCheck("python", BEFORE, AFTER)
    tries = schedule(DecodeSettings(max_tokens=64), 3, 24)
    got = best_of(tries, generate, text_of, check.added_errors)
    assert (got.text, got.attempts, got.added_errors) == ("    z = 2", 2, 0)
    assert got.forward_passes == 4 and got.elapsed_ms == 10.0 and len(calls) == 2


def test_when_every_candidate_breaks_nothing_is_offered():
    generate, _ = scripted(["    z = ((((", "    z = (", "", "    z = [[[["])
    check = SyntaxCheck("python", BEFORE, AFTER)
    tries = schedule(DecodeSettings(max_tokens=64), 4, 24)
    got = best_of(tries, generate, text_of, check.added_errors)
    assert got.text is None and got.withheld and got.attempts == 4
    assert got.added_errors == check.added_errors("    z = (")  # the fewest any candidate added


def test_a_cancelled_attempt_returns_nothing():
    generate, calls = scripted(["    z = (", "    z = 2"], cancel_at=1)
    check = SyntaxCheck("python", BEFORE, AFTER)
    tries = schedule(DecodeSettings(max_tokens=64), 3, 24)
    got = best_of(tries, generate, text_of, check.added_errors)
    assert got.cancelled and got.text is None and len(calls) == 2
    assert got.added_errors > 0 and not got.withheld  # the first broke it; the second never came


def test_a_lone_try_is_checked_too_unless_the_check_is_off():
    check = SyntaxCheck("python", BEFORE, AFTER)
    assert check.__dict__.get("base_errors") is None  # lazy: nothing parsed until asked
    generate, _ = scripted(["    z = (", "    z = 2"])
    got = best_of([DecodeSettings()], generate, text_of, check.added_errors)
    assert got.text is None and got.withheld
    assert best_of([DecodeSettings()], generate, text_of, check.added_errors).text == "    z = 2"
    generate, _ = scripted(["    z = ("])
    got = best_of([DecodeSettings()], generate, text_of, None)
    assert got.text == "    z = (" and got.added_errors is None and not got.withheld


def test_keep_collects_different_candidates_that_parse_in_order():
    generate, calls = scripted(["    z = 2", "    z = (", "    z = 2", "    z = 3", "    z = 4"])
    check = SyntaxCheck("python", BEFORE, AFTER)
    tries = schedule(DecodeSettings(max_tokens=64), 5, 24)
    got = best_of(tries, generate, text_of, check.added_errors, keep=2)
    assert got.texts == ["    z = 2", "    z = 3"] and got.text == "    z = 2"
    assert got.attempts == 4 and len(calls) == 4  # stops once it has two
    generate, _ = scripted(["    z = 2", "    z = (", "    z = 2", "    z = 3"], cancel_at=3)
    got = best_of(tries, generate, text_of, check.added_errors, keep=2)
    assert got.cancelled and got.texts == [] and got.text is None


def test_nothing_at_all_is_not_withheld():
    generate, _ = scripted(["", ""])
    check = SyntaxCheck("python", BEFORE, AFTER)
    got = best_of(schedule(DecodeSettings(max_tokens=64), 2, 24), generate, text_of,
                  check.added_errors)
    assert got.text is None and not got.withheld and got.attempts == 2


FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {"python": "python/sample.py", "javascript": "javascript/sample.js",
           "typescript": "typescript/sample.ts", "go": "go/sample.go", "rust": "rust/sample.rs"}


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_a_line_typed_back_is_never_flagged(lang):
    """Each line of a correct file, cut at its indentation or halfway and typed back from the
    cursor: the server's check must not flag the text that was there (even in brace languages,
    where the cut file's braces do not balance)."""
    from lsp_server.actions import inline
    from lsp_server.config import ServerConfig
    from lsp_server.documents import DocumentStore

    lines = (FIXTURES / SAMPLES[lang]).read_text().split("\n")
    flagged, checked = [], 0
    for row, line in enumerate(lines):
        body = line.lstrip()
        indent = len(line) - len(body)
        for cut in {indent, indent + len(body) // 2} if body else ():
            text = "\n".join([*lines[:row], line[:cut], *lines[row + 1 :]])
            doc = DocumentStore().open(f"file:///cut/{SAMPLES[lang]}", lang, 1, text)
            req = inline.inline_request(doc, row, cut, ServerConfig())
            checked += 1
            if inline.syntax_check(req).added_errors(line[cut:]):
                flagged.append(line)
    assert checked > 30 and flagged == []
