"""The plain logic behind the features, called directly (the model is the tiny real checkpoint)."""

from pathlib import Path

import msgspec
import pytest

from lsp_server import regions, slips
from lsp_server.actions import common, docstring, fix, inline, respell
from lsp_server.config import BLOCK, QUICK, ServerConfig
from lsp_server.documents import DocumentStore
from lsp_server.edits import apply
from lsp_server.syntax_check import DocumentCheck, indentation, python_parses

SAMPLE = (Path(__file__).parent / "fixtures" / "python" / "sample.py").read_text()
CFG = ServerConfig()
UNCHECKED = ServerConfig(syntax_attempts=0)  # random weights rarely write code that parses
NO_SEARCH = ServerConfig(length_search=False)  # scripted samplers have no lengths to search
NEVER = lambda: False  # noqa: E731


def open_doc(text: str, uri: str = "file:///t.py", language: str = "python"):
    return DocumentStore().open(uri, language, 1, text)


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    from model import load

    return load(str(tiny_checkpoint), "cpu")


def changed_rows(before: str, after: str) -> set[int]:
    old, new = before.split("\n"), after.split("\n")
    assert len(old) == len(new), "these edits keep the line count"
    return {i for i, (a, b) in enumerate(zip(old, new)) if a != b}


# -- inline ------------------------------------------------------------------------------------


def test_inline_plan_end_of_line_is_single_line():
    doc = open_doc(SAMPLE)
    row = SAMPLE.split("\n").index("    total = sum(values)")
    req = inline.inline_request(doc, row, 100, CFG)  # past the end: clamped
    assert req.plan.single_line
    assert req.prefix.endswith("total = sum(values)")
    assert req.suffix.startswith("\n    return total")


def test_the_last_line_ends_in_a_newline_for_the_model():
    """A file with no final newline still ends in one for the model, wherever the cursor is (in
    training every file does); the document itself is not changed."""
    text = "def mean(values):\n    return"
    req = inline.inline_request(open_doc(text), 1, 10, CFG)
    assert req.suffix == "\n" and req.doc.text == text
    assert inline.inline_request(open_doc(text), 1, 4, CFG).suffix == "return\n"
    assert inline.inline_request(open_doc(text + "\n"), 1, 10, CFG).suffix == "\n"
    suffix = inline.inline_request(open_doc(text), 0, 3, CFG).suffix
    assert suffix == " mean(values):\n    return\n"


def test_inline_plan_empty_line_in_block_is_multi_line():
    text = "def f(x):\n    \n"
    req = inline.inline_request(open_doc(text), 1, 4, CFG)
    assert not req.plan.single_line
    assert req.plan.max_tokens == CFG.block_tokens


def test_the_decoding_defaults_are_careful_and_wide_unless_fp32_on_a_cpu(tiny_checkpoint):
    from model import load

    quick = common.decode_settings(CFG, 24, True, False, load(tiny_checkpoint, "cpu", "float32"))
    careful = common.decode_settings(CFG, 24, True, False,
                                     load(tiny_checkpoint, "cpu", "bfloat16"))
    assert (quick.threshold, quick.steps_per_token, quick.context_tokens) == (0.5, 0.125, 256)
    assert (careful.threshold, careful.steps_per_token, careful.context_tokens) == (0.9, 0.5, 384)
    asked = common.decode_settings(CFG, 24, True, False, None, explicit=True)
    assert (asked.threshold, asked.steps_per_token, asked.context_tokens) == (0.9, 1.0, 384)
    set_ = msgspec.structs.replace(CFG, threshold=0.8, steps_per_token=0.25)
    assert common.decode_settings(set_, 24, True, False, None).threshold == 0.8


def test_inline_position_is_utf16():
    text = "s = '😀' + \n"
    req = inline.inline_request(open_doc(text), 0, 11, CFG)  # 😀 is two UTF-16 units
    assert req.prefix == "s = '😀' + "


@pytest.mark.parametrize(
    ("text", "col", "raw", "expected"),
    [
        ("print(\n", 6, "x, y)  \nmore", "x, y)"),  # single line: cut at the newline, rstrip
        ("print()\n", 6, "x, y)", "x, y"),  # the ')' already follows the cursor
        ("f(a, )\n", 5, "b)", "b"),
        ("x = \n", 4, "x = ", "x ="),  # overlap only with what follows, never with the prefix
        ("print()\n", 6, ")", None),  # nothing new left
        # the rest of the line written out again, then more: cut where it begins
        ("t = sum()  # é😀\n", 8, 'values)  # é😀"; t = sum(label', "values"),
        ("n = len(x)  # size\n", 10, "  # size of x  # size", None),
        ("f(a, )\n", 5, "b), g(c)", "b), g(c"),  # a one-character rest: not cut at
    ],
)
def test_clean_inline_never_duplicates_the_rest_of_the_line(text, col, raw, expected):
    req = inline.inline_request(open_doc(text), 0, col, CFG)
    assert req.plan.single_line
    assert inline.clean_inline(req, raw) == expected


def test_clean_inline_block_drops_repeated_following_lines():
    text = "def f(x):\n    \n    return y\n"
    req = inline.inline_request(open_doc(text), 1, 4, CFG)
    assert inline.clean_inline(req, "y = x * 2\n    return y\n") == "y = x * 2"


@pytest.mark.parametrize(
    ("text", "row", "col", "raw", "expected"),
    [
        ("def f(x):\n    y = x\n    \n    return y\n", 2, 4, "y = x", None),  # the line above
        ("def f(x):\n    y = x\n    \n    return y\n", 2, 4, "return y", None),  # below
        ("def f(x):\n    y = x\n    \n    return y\n", 2, 4, "z = y\n    return y", "z = y"),
        ("def f(x):\n    y = x\n    \n    return y\n", 2, 4, "y = x\n    z = y", None),
        ("def f(x):\n    y = x\n    \n    return y\n", 2, 4, "    y = x", "    y = x"),  # deeper
        ("def f(x):\n    y = x\n    y = \n", 2, 8, "x", None),  # the typed head counts
        ("def f(x):\n    y = x\n    y = \n", 2, 8, "x + 1", "x + 1"),
    ],
)
def test_clean_inline_never_copies_the_line_above_or_below(text, row, col, raw, expected):
    req = inline.inline_request(open_doc(text), row, col, CFG)
    assert inline.clean_inline(req, raw) == expected


def test_clean_inline_offers_no_half_written_character():
    req = inline.inline_request(open_doc("faces = ['😀', \n"), 0, 14, CFG)
    assert inline.clean_inline(req, "'\ufffd\ufffd']") is None
    assert inline.clean_inline(req, "'😃']") == "'😃']"
    kept = inline.inline_request(open_doc("bad = '\ufffd'\nx = \n"), 1, 4, CFG)
    assert inline.clean_inline(kept, "'\ufffd'") == "'\ufffd'"  # the file has them itself
    assert inline.clean_inline(req, "'\x10']") is None  # a control character, likewise


def test_completion_edit_covers_the_word_before_the_cursor():
    text = "value = compu\n"
    req = inline.inline_request(open_doc(text), 0, 13, CFG)
    rng, new_text = inline.completion_edit(req, "te(x)")
    assert (rng.start.character, rng.end.character) == (8, 13)
    assert new_text == "compute(x)"


def test_run_inline_with_the_model_returns_one_line(engine):
    doc = open_doc(SAMPLE)
    row = SAMPLE.split("\n").index("    total = sum(values)")
    req = inline.inline_request(doc, row, 10, CFG)
    texts = inline.run_inline(engine, req, CFG, NEVER)
    assert len(texts) <= 1 and all("\n" not in text for text in texts)


def test_inline_syntax_check_covers_the_function_not_the_broken_rest_of_the_file():
    text = "def broken(:\n    pass\n\n\ndef f(x):\n    \n    return x\n"
    req = inline.inline_request(open_doc(text), 5, 4, CFG)
    check = inline.syntax_check(req)
    assert check.before == "def f(x):\n    " and check.after == "\n    return x"
    assert check.base_errors == 0
    assert check.added_errors("y = (") > 0 and check.added_errors("y = x") == 0


TYPING = "def f(values, n):\n    total = 0\n    if n %\n    return total\n"


def test_the_rest_of_a_broken_line_must_leave_that_line_parseable():
    """The half-typed line breaks the function, so a suggestion that leaves it broken adds no
    error: it is withheld because the completed line does not parse on its own."""
    req = inline.inline_request(open_doc(TYPING), 2, len("    if n %"), CFG)
    count = inline.inline_errors(req)
    assert inline.syntax_check(req).added_errors("  #") == 0  # what the old check let through
    assert count("  #") > 0 and count(" values") > 0
    assert count(" 2 == 0:") == 0  # a header with no body yet is a finished line
    written = "def f(values):\n    table = {\n        'zero\n"  # top-down, nothing after
    req = inline.inline_request(open_doc(written), 2, len("        'zero"), CFG)
    assert inline.inline_errors(req)("': 0,") == 0  # an entry of a dict opened above
    assert inline.inline_errors(req)("': 0 0") > 0


@pytest.mark.parametrize("below", ["", "\n\ndef other():\n    pass\n", "    return total\n"])
def test_a_block_header_whose_body_is_not_written_yet_may_be_offered(below):
    """Writing top-down, the next line is often a header: its missing body is no error."""
    text = "def f(xs):\n    total = 0\n    \n" + below
    req = inline.inline_request(open_doc(text), 2, 4, CFG)
    count = inline.inline_errors(req)
    assert inline.syntax_check(req).added_errors("for x in xs:") > 0  # withheld before
    assert count("for x in xs:") == 0 and count("if total:  # none yet") == 0
    assert count("for x in:") > 0 and count("for x in xs: (") > 0
    typed = inline.inline_request(open_doc(text.replace("    \n", "    for x \n", 1)), 2, 10, CFG)
    assert inline.inline_errors(typed)("in xs:") == 0  # the rest of a typed header too


def test_a_python_candidate_must_leave_the_whole_file_compiling():
    """The statement-scoped check reads the lines around the cursor alone; the whole file shows
    that ``return`` at column 0 stands outside the function, and that a line indented under a
    missing header needs one (``lsp_server.file_check``)."""
    text = "def f(xs):\n    total = 0\n    \"\"\"A note.\"\"\"\n\n"
    req = inline.inline_request(open_doc(text), 3, 0, CFG)
    assert inline.inline_errors(req, whole_file=False)("return total") == 0
    assert inline.inline_errors(req)("return total") > 0
    assert inline.inline_errors(req)("    return total") == 0
    hole = "def f(xs):\n    total = 0\n\n        total += 1\n    return total\n"
    req = inline.inline_request(open_doc(hole), 2, 0, CFG)
    assert inline.inline_errors(req, whole_file=False)("    total = 1") == 0
    assert inline.inline_errors(req)("    total = 1") > 0
    assert inline.inline_errors(req)("    for x in xs:") == 0


def test_the_whole_file_check_reads_the_top_level_statements_around_the_cursor():
    text = "import os\n\n\ndef f(xs):\n    total = 0\n\n\ndef g():\n    pass\n\n\nx = (\n"
    req = inline.inline_request(open_doc(text), 5, 0, CFG)
    check = inline._file_check(req)
    assert check.text == "def f(xs):\n    total = 0\n\n\ndef g():\n    pass"
    assert inline.inline_errors(req)("return total") > 0  # x = ( below is not read
    assert inline.inline_errors(req)("    return total") == 0
    typed = inline.inline_request(open_doc("def f(xs):\n    return (\n"), 1, 12, CFG)
    assert inline._file_check(typed).text.startswith("def f")  # not from the broken line


def test_the_line_rule_spares_prose_and_other_languages():
    text = 'def f(:\n    """Return the\n    """\n'
    req = inline.inline_request(open_doc(text), 1, len('    """Return the'), CFG)
    assert inline.syntax_check(req).base_errors > 0
    assert inline.inline_errors(req)(" sum of it") == 0  # inside a docstring: words
    js = "function f(x) {\n  if (x %\n}\n"
    req = inline.inline_request(open_doc(js, "file:///t.js", "javascript"), 1, 9, CFG)
    assert inline.inline_errors(req)(" 2") == inline.syntax_check(req).added_errors(" 2")


def test_a_huge_python_statement_is_checked_incrementally_over_the_document():
    """A literal of 60,000 items has no block to narrow the check to: parsing it whole for every
    candidate took seconds, so it is checked by tree-sitter's incremental reparse instead."""
    text = "import os\n\nDATA = [" + "1, " * 60_000 + "]\n"
    doc = open_doc(text)
    cursor = text.index("1, ") + 3 * 30_000
    req = inline.inline_request(doc, *doc.position_at(cursor), CFG)
    check = inline.syntax_check(req)
    assert isinstance(check, DocumentCheck) and check.base_errors == 0
    assert check.added_errors("7, ") == 0 and check.added_errors("(7, ") > 0


def scripted(monkeypatch, name: str, field: str, outputs: list) -> list:
    """Replace ``model.<name>`` by a sampler returning ``outputs.pop(0)`` as ``field``; the list
    returned collects the settings of every call."""
    from types import SimpleNamespace

    import model

    seen: list = []

    def fake(engine, first, second, settings, cancel=None):
        seen.append(settings)
        return SimpleNamespace(**{field: outputs.pop(0)}, forward_passes=1, elapsed_ms=1.0,
                               cancelled=False)

    monkeypatch.setattr(model, name, fake)
    return seen


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [('def f(xs):\n    """Sum the """\n    return sum(xs)\n', 1, 15),
     ("def f(xs):\n    # sum the \n    return sum(xs)\n", 1, 14),
     ("function f(xs) {\n  // sum the \n  return xs;\n}\n", 1, 12)],
)
def test_inline_text_in_a_docstring_or_comment_is_never_garbled(monkeypatch, text, row, column):
    outputs = ["product product product", "values of the list"]
    scripted(monkeypatch, "infill", "text", outputs)
    uri = "file:///t.js" if text.startswith("function") else "file:///t.py"
    doc = open_doc(text, uri, "javascript" if uri.endswith(".js") else "python")
    req = inline.inline_request(doc, row, column, CFG)
    assert req.plan.single_line
    assert inline.run_inline(None, req, CFG, NEVER) == []  # garbled: withheld
    assert inline.run_inline(None, req, CFG, NEVER) == ["values of the list"]


def test_run_inline_retries_a_block_and_never_offers_text_that_breaks_the_syntax(monkeypatch):
    outputs = ["y = (x", "y = x + 1"]
    seen = scripted(monkeypatch, "infill", "text", outputs)
    req = inline.inline_request(open_doc("def f(x):\n    \n    return y\n"), 1, 4, CFG)
    assert inline.run_inline(None, req, NO_SEARCH, NEVER) == ["y = x + 1"]
    assert len(seen) == 2 and seen[1].single_line and not seen[0].single_line
    assert {s.steps_per_token for s in seen} == {BLOCK[1]}
    outputs.extend(["y = (x", "y = (x + ["])
    assert inline.run_inline(None, req, NO_SEARCH, NEVER) == []  # both break it: nothing shown
    one = ServerConfig(syntax_attempts=1, length_search=False)
    outputs.append("y = (x")
    assert inline.run_inline(None, req, one, NEVER) == []  # one try, still checked
    unchecked = ServerConfig(syntax_attempts=0)
    outputs.append("y = (x")
    assert inline.run_inline(None, req, unchecked, NEVER) == ["y = (x"]  # shown as it came
    line = inline.inline_request(open_doc("def f(x):\n    y = x\n    return y\n"), 1, 9, CFG)
    assert line.plan.single_line
    outputs.extend([" + (1", " + 1"])
    seen.clear()
    assert inline.run_inline(None, line, CFG, NEVER) == [] and len(seen) == 1  # not retried
    assert inline.run_inline(None, line, CFG, NEVER) == [" + 1"]
    copied = inline.inline_request(open_doc("def f(x):\n    y = x\n    \n"), 2, 4, CFG)
    outputs.extend(["y = x", "return y"])  # a copy of the line above is not offered either
    assert inline.run_inline(None, copied, CFG, NEVER) == ["return y"]
    typing = inline.inline_request(open_doc("def f(x):\n    y = \n    return y\n"), 1, 8, CFG)
    outputs.append("(x")  # the line is already broken: this adds no error of its own
    assert inline.run_inline(None, typing, CFG, NEVER) == ["(x"]


def test_an_empty_line_decodes_carefully_where_a_typed_line_decodes_quickly(monkeypatch):
    from types import SimpleNamespace

    fp32 = SimpleNamespace(device=SimpleNamespace(type="cpu"), dtype="torch.float32")
    assert not common.computes_fast(fp32)
    outputs = ["y = (x", "y = x + 1"]
    seen = scripted(monkeypatch, "infill", "text", outputs)
    block = inline.inline_request(open_doc("def f(x):\n    \n    return y\n"), 1, 4, CFG)
    assert inline.run_inline(fp32, block, CFG, NEVER) == ["y = x + 1"]
    # the block and its one-line retry: BLOCK (an empty line's goal is 350 ms, not 120)
    assert [(s.threshold, s.steps_per_token) for s in seen] == [BLOCK, BLOCK]
    line = inline.inline_request(open_doc("def f(x):\n    y = x\n    return y\n"), 1, 9, CFG)
    outputs.append(" + 1")
    seen.clear()
    assert inline.run_inline(fp32, line, CFG, NEVER) == [" + 1"]
    assert [(s.threshold, s.steps_per_token) for s in seen] == [QUICK]
    outputs.extend(["y = x + 1", "y = x + 1", "y = x * 2", "y = x - 1"])
    seen.clear()  # asked by a key: the greedy tries as the block, the samples as a typed line
    assert len(inline.run_inline(fp32, block, NO_SEARCH, NEVER, explicit=True)) == 3
    assert [(s.threshold, s.steps_per_token) for s in seen] == [BLOCK] * 2 + [QUICK] * 2


def test_an_explicit_request_keeps_several_different_candidates(monkeypatch):
    outputs = ["y = x + 1", "y = (x", "y = x + 1", "y = x * 2"]
    seen = scripted(monkeypatch, "infill", "text", outputs)
    req = inline.inline_request(open_doc("def f(x):\n    \n    return y\n"), 1, 4, CFG)
    # the block, one line (breaks the syntax), then samples: the repeat is dropped
    assert inline.run_inline(None, req, NO_SEARCH, NEVER, explicit=True) == [
        "y = x + 1", "y = x * 2"]
    assert len(seen) == 4 and not seen[0].single_line and seen[1].single_line
    assert seen[2].temperature > 0 and seen[2].seed != seen[3].seed
    # the user waits: the greedy tries take one step per token, the samples as typing does
    assert [s.steps_per_token for s in seen] == [1.0, 1.0, 0.5, 0.5]
    line = inline.inline_request(open_doc("def f(x):\n    y = x\n    return y\n"), 1, 9, CFG)
    outputs.extend([" + 1", " + 2", " + 3"])
    seen.clear()
    assert inline.run_inline(None, line, CFG, NEVER, explicit=True) == [" + 1", " + 2", " + 3"]
    assert len(seen) == 3 and all(s.single_line for s in seen)  # the rest of a line, sampled


def test_an_explicit_block_takes_its_alternatives_from_other_lengths_best_scored_first(
        engine, monkeypatch):
    from model import infill, shared_first_pass
    from model.length_search import search_lengths

    monkeypatch.setattr(inline, "unreadable", lambda text, around="": False)  # half characters

    block = inline.inline_request(open_doc("def f(x):\n    \n    return y\n"), 1, 4, CFG)
    search = ServerConfig(syntax_attempts=0, explicit_candidates=4, known_names=False)
    never = ServerConfig(syntax_attempts=0, explicit_candidates=4, known_names=False,
                         length_search=False)
    asked = inline.attempt_inline(engine, block, search, NEVER, explicit=True)
    settings = common.decode_settings(search, 24, False, False, engine, explicit=True,
                                      block=True)
    with shared_first_pass(engine):
        first = infill(engine, block.prefix, block.suffix, settings)
        ranked = search_lengths(engine, block.prefix, block.suffix, settings,
                                [first.token_ids]).ranked
    expected = []
    for raw in [first.text] + [r.text for r in ranked]:
        text = inline.clean_inline(block, raw)
        if text and text not in expected:
            expected.append(text)
    # the greedy block first, then the best-scored lengths (then, if short, the usual tries)
    assert len(expected) > 1 and asked.texts[:len(expected[:4])] == expected[:4]
    plain = inline.attempt_inline(engine, block, never, NEVER, explicit=True)
    assert plain.texts[0] == asked.texts[0] and plain.texts != asked.texts
    # typing (one suggestion) with a usable candidate, and the rest of a line, never search
    for req in (block, inline.inline_request(
            open_doc("def f(x):\n    y = x\n    return y\n"), 1, 9, CFG)):
        assert (inline.attempt_inline(engine, req, search, NEVER).forward_passes
                == inline.attempt_inline(engine, req, never, NEVER).forward_passes)


def test_an_empty_line_with_nothing_usable_tries_the_other_lengths(engine, monkeypatch):
    from model import infill, shared_first_pass
    from model.length_search import search_lengths

    monkeypatch.setattr(inline, "unreadable", lambda text, around="": False)  # half characters

    block = inline.inline_request(open_doc("def f(x):\n    \n    return y\n"), 1, 4, CFG)
    search = ServerConfig(known_names=False)
    never = ServerConfig(known_names=False, length_search=False)
    settings = common.decode_settings(search, 24, False, False, engine, block=True)
    with shared_first_pass(engine):
        first = infill(engine, block.prefix, block.suffix, settings)
        ranked = search_lengths(engine, block.prefix, block.suffix, settings,
                                [first.token_ids]).ranked
    # say every text of the plan's own tries adds a syntax error, and nothing else does
    plan_texts = []

    def check(req, whole_file):
        return lambda text: plan_texts.append(text) or 1 if recording else int(text in plan_texts)

    monkeypatch.setattr(inline, "inline_errors", check)
    recording = True
    plain = inline.attempt_inline(engine, block, never, NEVER)
    assert plain.texts == [] and plain.withheld and plain.attempts == never.syntax_attempts
    recording = False
    cleaned = [inline.clean_inline(block, r.text) for r in ranked if r.text != first.text]
    usable = [t for t in cleaned if t and t not in plan_texts]
    found = inline.attempt_inline(engine, block, search, NEVER)
    assert usable and found.texts == usable[:1]  # the best-scored other length
    assert found.forward_passes > plain.forward_passes and not found.withheld
    assert inline.attempt_inline(engine, block, never, NEVER).texts == []


def test_run_inline_honours_cancel(engine):
    req = inline.inline_request(open_doc(SAMPLE), 3, 0, CFG)
    assert inline.run_inline(engine, req, CFG, lambda: True) == []


# -- fix this function -------------------------------------------------------------------------


def test_fix_request_prefers_diagnostics_inside_the_function():
    doc = open_doc(SAMPLE)
    row = SAMPLE.split("\n").index("def mean(values):")
    req = fix.fix_request(doc, row + 2, 4, diagnostic_rows=[row + 2, 0])
    assert (req.first_row, req.last_row) == (row, row + 3)
    assert req.flagged == (row + 2,)


def test_fix_request_falls_back_to_syntax_errors():
    text = "def f(x):\n    y = (x +\n    return y\n"
    req = fix.fix_request(open_doc(text), 1, 4)
    assert req.flagged and set(req.flagged) <= {1, 2}


def test_fix_request_without_flags_lets_the_model_choose_body_rows():
    doc = open_doc(SAMPLE)
    row = SAMPLE.split("\n").index("def mean(values):")
    req = fix.fix_request(doc, row + 1, 0)
    assert req.flagged == ()
    assert req.candidates == (row + 2, row + 3)  # neither the header nor the docstring


def test_fix_request_never_lets_the_model_pick_a_docstring_or_comment_line():
    """Prose is unlikely to a code model: left alone, it would be rewritten before the bug."""
    text = ('def f(x):\n    """Sum it\n    up."""\n    # the total\n    y = x + 1  # why\n'
            "\n    return y\n")
    req = fix.fix_request(open_doc(text), 4, 4)
    assert req.candidates == (4, 6)


def test_fix_request_on_a_broken_def_line_uses_the_indented_block():
    text = "import os\n\n\ndef f(x)\n    y = x + 1\n    return y\n\n\ndef g():\n    return 2\n"
    req = fix.fix_request(open_doc(text), 4, 4)  # the missing colon hides `def f`
    assert (req.first_row, req.last_row) == (3, 5)
    assert 3 in req.flagged and set(req.flagged) <= {3, 4, 5}


def test_fix_request_outside_any_function():
    assert fix.fix_request(open_doc("x = 1\n\ny = 2\n"), 0, 0) is None


FIX_TEXT = "def scale(values, factor):\n    total = 0\n    return [v * values for v in values]\n"


@pytest.fixture
def token_scores(monkeypatch):
    """``model.scoring.masked_scores`` made to score given (token, choice, margin) triples of
    ``FIX_TEXT`` (everything else: the model agrees); the list of rows each call scored."""
    from model import scoring

    wanted, calls = [], []

    def fake(engine, text, spans, passes=scoring.PASSES, cancel=None):
        calls.append(sorted(FIX_TEXT.count("\n", 0, a) for a, _ in spans))
        out = []
        for token, best, margin in wanted:
            at = text.index(token)
            if any(a <= at < b for a, b in spans):
                out.append(scoring.TokenScore(at, at + len(token), margin - 1.0, best, -1.0))
        return out

    monkeypatch.setattr(scoring, "masked_scores", fake)
    return wanted, calls


def test_a_fix_without_diagnostic_replaces_the_least_likely_token(token_scores, engine):
    wanted, calls = token_scores
    wanted += [(" values for", " factor for", -8.0), ("total", "scale", -5.0)]
    doc = open_doc(FIX_TEXT)
    edits = fix.run_fix(engine, fix.fix_request(doc, 2, 4), CFG, NEVER)
    assert [(e.range.start.line, e.range.start.character) for e in edits] == [(2, 0)]
    assert apply(doc, edits) == FIX_TEXT.replace("v * values", "v * factor")
    assert calls == [[1, 2]]  # the body rows, the model's own pick


def test_a_fix_without_diagnostic_needs_the_model_to_prefer_its_token_clearly(token_scores,
                                                                                engine):
    wanted, _ = token_scores
    wanted.append((" values for", " factor for", -2.0))  # e^2: not enough
    assert fix.run_fix(engine, fix.fix_request(open_doc(FIX_TEXT), 2, 4), CFG,
                       NEVER) is None


def test_a_fix_without_diagnostic_must_stand_out_from_the_other_tokens(token_scores, engine):
    wanted, _ = token_scores
    wanted += [(" values for", " factor for", -7.0), ("total", "scale", -6.0)]
    req = fix.fix_request(open_doc(FIX_TEXT), 2, 4)
    assert fix.run_fix(engine, req, CFG, NEVER) is None  # 7 < 5 + 6 / 2
    eager = msgspec.structs.replace(CFG, fix_margin=3.0)  # 7 > 3 + 6 / 2
    assert apply(req.doc, fix.run_fix(engine, req, eager, NEVER)) == FIX_TEXT.replace(
        "v * values", "v * factor")


def test_a_token_fix_that_breaks_the_syntax_is_passed_over(token_scores, engine):
    wanted, _ = token_scores
    wanted += [(" values for", " for for", -9.0), ("total", "values", -8.0)]
    doc = open_doc(FIX_TEXT)
    eager = msgspec.structs.replace(CFG, fix_margin=3.0)  # 8 > 3 + 9 / 2
    edits = fix.run_fix(engine, fix.fix_request(doc, 2, 4), eager, NEVER)
    assert apply(doc, edits) == FIX_TEXT.replace("total =", "values =")
    unchecked = msgspec.structs.replace(UNCHECKED, fix_margin=3.0)
    assert apply(doc, fix.run_fix(engine, fix.fix_request(doc, 2, 4), unchecked,
                                  NEVER)) == FIX_TEXT.replace("v * values for", "v * for for")


def test_a_diagnosed_row_gets_a_token_fix_else_its_line_rewritten(token_scores, monkeypatch,
                                                                 engine):
    wanted, calls = token_scores
    wanted += [("total", "scale", -9.0), (" values for", " factor for", -0.5)]
    doc = open_doc(FIX_TEXT)
    req = fix.fix_request(doc, 2, 4, diagnostic_rows=[2])
    edits = fix.run_fix(engine, req, CFG, NEVER)  # any preference will do on a flagged row
    assert apply(doc, edits) == FIX_TEXT.replace("v * values", "v * factor")
    assert calls == [[2]]
    wanted.clear()  # the model agrees with every token: the row is rewritten
    scripted(monkeypatch, "infill_spans", "texts", [["return [v * factor for v in values]"]])
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == apply(doc, edits)


def test_row_groups():
    assert fix.row_groups([7, 3, 4, 9, 8]) == [(3, 4), (7, 9)]


def test_run_fix_changes_only_flagged_rows(engine):
    doc = open_doc(SAMPLE)
    row = SAMPLE.split("\n").index("class Stack:")
    flagged = [row + 4, row + 8]  # two groups: `self.items = []` and `return len(self.items)`
    req = fix.fix_request(doc, row + 4, 8, diagnostic_rows=flagged)
    edits = fix.run_fix(engine, req, UNCHECKED, NEVER)
    assert edits, "the tiny model rewrites something"
    assert {e.range.start.line for e in edits} <= set(flagged)
    assert all(e.range.start.character == 0 and "\n" not in e.new_text.rstrip("\n")
               for e in edits)  # whole single lines
    after = apply(doc, edits)
    assert changed_rows(SAMPLE, after) <= set(flagged)
    for i in flagged:  # a rewritten line keeps its indentation
        assert after.split("\n")[i].startswith("        ")


def test_run_fix_tries_again_and_offers_no_fix_that_leaves_the_function_broken(monkeypatch, engine):
    fills = [[" ("], ["y = (x +"], ["y = x + 1"]]  # first the insertion at the row's end
    seen = scripted(monkeypatch, "infill_spans", "texts", fills)
    text = "import os\n\n\ndef f(x):\n    y = x +\n    return y\n"
    req = fix.fix_request(open_doc(text), 4, 4, diagnostic_rows=[4])
    edits = fix.run_fix(engine, req, CFG, NEVER)
    assert apply(open_doc(text), edits).split("\n")[4] == "    y = x + 1"
    assert seen.pop(0).max_tokens == slips.END_TOKENS
    assert len(seen) == 2 and seen[1].temperature > 0 and seen[1].max_tokens == seen[0].max_tokens
    # the user asked and waits: decoded as an explicit inline request, one step slower than typing
    assert (seen[0].threshold, seen[0].steps_per_token) == CFG.decoding(False, explicit=True)
    assert CFG.decoding(False, explicit=True) != CFG.decoding(False)
    fills.extend([[" ("], ["y = (x +"], ["y = x +"]])
    assert fix.run_fix(engine, req, CFG, NEVER) is None  # none removes the error
    fills.extend([[" ("], ["y = (x +"]])
    assert fix.run_fix(engine, req, ServerConfig(syntax_attempts=1), NEVER) is None
    fills.append(["y = (x +"])
    unchecked = fix.run_fix(engine, req, ServerConfig(syntax_attempts=0), NEVER)
    assert apply(open_doc(text), unchecked).split("\n")[4] == "    y = (x +"  # as it came


@pytest.fixture
def spans_sent(monkeypatch) -> list[list[str]]:
    """The pieces each ``infill_spans`` call gets (the model's answer: ``y = x + 1``)."""
    calls = []

    def fake(engine, pieces, budgets, settings, cancel=None):
        from types import SimpleNamespace

        calls.append(pieces)
        return SimpleNamespace(texts=["y = x + 1"] * len(budgets), cancelled=False,
                               forward_passes=1, elapsed_ms=1.0)

    import model

    monkeypatch.setattr(model, "infill_spans", fake)
    return calls


def test_fix_and_docstring_see_the_text_around_the_document(spans_sent, engine):
    """A notebook cell's other code cells are the context of its fix and docstring too."""
    around = ("import math\n\n", "\n\nprint(f(2))")
    calls = spans_sent
    text = "def f(x):\n    y = x +\n    return y\n"
    request = fix.fix_request(open_doc(text), 1, 4, diagnostic_rows=[1], around=around)
    assert fix.run_fix(engine, request, UNCHECKED, NEVER)
    slot = docstring.docstring_request(open_doc(text), 1, 4, around=around)
    docstring.run_docstring(engine, slot, UNCHECKED, NEVER)
    for pieces in calls:
        assert pieces[0].startswith(around[0] + "def f(x):")
        assert pieces[-1].endswith(around[1] + "\n")  # the last cell ends, as files do


def test_fix_and_docstring_at_the_end_of_a_file_see_its_last_line_end(spans_sent, engine):
    """As for inline completion: a file with no final newline still ends in one for the model."""
    text = "def f(x):\n    y = x +\n    return y"
    request = fix.fix_request(open_doc(text), 1, 4, diagnostic_rows=[1])
    assert fix.run_fix(engine, request, UNCHECKED, NEVER)
    slot = docstring.docstring_request(open_doc(text), 1, 4)
    docstring.run_docstring(engine, slot, UNCHECKED, NEVER)  # code, not prose: every try runs
    assert len(spans_sent) == 1 + docstring.DOCSTRING_TRIES
    assert all(pieces[-1].endswith("return y\n") for pieces in spans_sent), spans_sent


def test_run_fix_honours_cancel(engine):
    req = fix.fix_request(open_doc(SAMPLE), 16, 4, diagnostic_rows=[16])
    assert fix.run_fix(engine, req, CFG, lambda: True) is None


# -- insert docstring --------------------------------------------------------------------------


def test_docstring_request_python_indent_and_quotes():
    text = "class A:\n    def f(self, x):\n        return x\n\n    def g(self):\n        pass\n"
    req = docstring.docstring_request(open_doc(text), 2, 8)
    assert req.insert == text.index("        return x")
    assert (req.opening, req.closing) == ('        """', '"""\n')


def test_docstring_request_follows_the_files_quote_style():
    text = "def g():\n    '''Doc.'''\n\n\ndef f(x):\n    return x\n"
    req = docstring.docstring_request(open_doc(text), 5, 4)
    assert req.opening == "    '''"


def test_docstring_request_skips_documented_functions():
    doc = open_doc(SAMPLE)
    row = SAMPLE.split("\n").index("def mean(values):")
    assert docstring.docstring_request(doc, row + 2, 4) is None


def test_docstring_request_jsdoc():
    text = "class A {\n  run(x) {\n    return x;\n  }\n}\n"
    req = docstring.docstring_request(open_doc(text, "file:///a.js", "javascript"), 2, 4)
    assert req.insert == text.index("  run(x)")
    assert req.opening == "  /**\n   * "
    assert req.closing == "\n   */\n"


@pytest.mark.parametrize(
    ("raw", "closing", "expected"),
    [('Return x."""', '"""\n', "Return x."), ('"""Return x."""', '"""\n', "Return x."),
     ("Run it.  ", "\n   */\n", "Run it."), ('"""', '"""\n', None),
     ('Sum a list."""."""', '"""\n', "Sum a list."), ("Parse it. */", "\n */\n", "Parse it."),
     ("// Add two.", "\n", "Add two."), ("Return x.'''", "'''\n", "Return x.")],
)
def test_docstring_text_is_the_summary_up_to_the_closing_delimiter(raw, closing, expected):
    assert docstring.docstring_text(raw, closing, '""" *') == expected


def _docstring_fills(monkeypatch, answers: list[str]) -> list:
    """``infill_spans`` answering ``answers`` in turn; the calls' (pieces, settings)."""
    import model

    calls = []

    def fake(engine, pieces, budgets, settings, cancel=None):
        from types import SimpleNamespace

        calls.append((pieces, settings))
        return SimpleNamespace(texts=[answers[len(calls) - 1]], cancelled=False,
                               forward_passes=1, elapsed_ms=1.0)

    monkeypatch.setattr(model, "infill_spans", fake)
    return calls


def test_run_docstring_gives_the_opening_and_retries_a_garbled_summary(engine, monkeypatch):
    text = "def f(xs):\n    return sum(xs)\n"
    calls = _docstring_fills(monkeypatch, ['Sum sum the list."""', 'total = 0"""',
                                           'Sum the list."""'])
    edits = docstring.run_docstring(engine, docstring.docstring_request(open_doc(text), 1, 4),
                                    CFG, NEVER)
    assert apply(open_doc(text), edits) == (
        'def f(xs):\n    """Sum the list."""\n    return sum(xs)\n')
    assert [pieces[0] for pieces, _ in calls] == ['def f(xs):\n    """'] * 3
    first, *samples = [settings for _, settings in calls]
    assert (first.temperature, first.threshold) == (0.0, CFG.decoding(False, explicit=True)[0])
    assert all(s.temperature > 0 and s.seed != first.seed for s in samples)


def test_run_docstring_offers_nothing_when_every_try_is_garbled(engine, monkeypatch):
    text = "def f(xs):\n    return sum(xs)\n"
    _docstring_fills(monkeypatch, ['Sum sum."""', '"""', "x = 1"])
    req = docstring.docstring_request(open_doc(text), 1, 4)
    assert docstring.run_docstring(engine, req, CFG, NEVER) is None


def test_run_docstring_inserts_one_indented_line(engine):
    doc = open_doc(SAMPLE)
    row = SAMPLE.split("\n").index("def undocumented(x):")
    req = docstring.docstring_request(doc, row, 4)
    edits = docstring.run_docstring(engine, req, CFG, NEVER)
    if edits is None:  # a random model may say nothing; nothing is then inserted
        return
    [edit] = edits
    assert edit.range.start == edit.range.end
    assert (edit.range.start.line, edit.range.start.character) == (row + 1, 0)
    assert edit.new_text.startswith('    """') and edit.new_text.endswith('"""\n')
    assert edit.new_text.count("\n") == 1
    after = apply(doc, edits).split("\n")
    assert after[: row + 1] + after[row + 2 :] == SAMPLE.split("\n")


def test_a_broken_line_gets_a_token_fix_that_removes_its_error(token_scores, monkeypatch,
                                                               engine):
    wanted, calls = token_scores
    text = ("def scale(values, factor):\n    if factor = 0:\n        return values\n"
            "    return [v * factor for v in values]\n")
    wanted += [(" 0", " 1", -7.0), (" =", " ==", -5.0)]  # the first leaves the error
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)
    assert req.flagged == (1,)  # no diagnostic: the server finds the broken line
    edits = fix.run_fix(engine, req, CFG, NEVER)
    assert apply(doc, edits) == text.replace("factor = 0", "factor == 0")
    assert calls == [[1]]
    wanted.clear()  # no one-token repair removes the error: the line is rewritten
    scripted(monkeypatch, "infill_spans", "texts", [[" #"], ["if not factor:"]])
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace(
        "if factor = 0:", "if not factor:")


def test_a_broken_row_gets_the_short_insertion_at_its_end_that_removes_its_error(
        token_scores, monkeypatch, engine):
    text = "def f(x):\n    y = 1\n    if x > 0\n        return y\n    return 0\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)  # the model agrees with every token: no token repair
    seen = scripted(monkeypatch, "infill_spans", "texts", [[":"]])
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace("0\n", "0:\n", 1)
    assert seen[0].max_tokens == slips.END_TOKENS and seen[0].single_line
    # An insertion that leaves the error: the row is rewritten.
    seen = scripted(monkeypatch, "infill_spans", "texts", [[" and"], ["if x > 0 and y:"]])
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace(
        "if x > 0\n", "if x > 0 and y:\n")
    assert [s.max_tokens == slips.END_TOKENS for s in seen] == [True, False]


def _spans_seen(monkeypatch, answer) -> list:
    """``infill_spans`` answering ``answer(pieces, budgets)``; the calls' (pieces, budgets)."""
    from types import SimpleNamespace

    import model

    calls = []

    def fake(engine, pieces, budgets, settings, cancel=None):
        calls.append((pieces, budgets))
        return SimpleNamespace(texts=answer(pieces, budgets), cancelled=False,
                               forward_passes=1, elapsed_ms=1.0)

    monkeypatch.setattr(model, "infill_spans", fake)
    return calls


@pytest.fixture
def word_choices(monkeypatch) -> list:
    """``model.scoring.masked_choices`` answering the (token, log-probability) lists appended
    to the list returned, one list per call, after recording the spans' text in
    ``word_choices.asked``."""
    from model import scoring

    answers: list = []

    def fake(engine, text, spans, k=8, max_tokens=2048):
        fake.asked.append([text[a:b] for a, b in spans])
        return answers.pop(0)

    fake.asked = []
    monkeypatch.setattr(scoring, "masked_choices", fake)
    return answers


def test_a_misspelt_keyword_is_replaced_whole_by_a_word_that_removes_the_error(
        token_scores, word_choices, monkeypatch, engine):
    text = "def f(xs):\n    total = 0\n    fro x in xs:\n        total += x\n    return total\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)  # the model agrees with every token: no token repair
    assert req.flagged == (2,)
    # ``fore`` is a word the file lacks, ``(`` no word, and ``x`` leaves the error; the row's
    # end (denoised) leaves it too
    word_choices.append([[(" fore", -0.5), (" (", -0.7), (" x", -1.0), (" for", -2.0)]])
    calls = _spans_seen(monkeypatch, lambda pieces, budgets: [":"])
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace("fro x", "for x")
    from model import scoring

    assert scoring.masked_choices.asked == [["fro"]]
    [(pieces, budgets)] = calls
    assert pieces[0].endswith("fro x in xs:") and budgets == [slips.END_TOKENS]
    # No word removes the error: the row is rewritten.
    word_choices.append([[(" fore", -0.5), (" x", -1.0)]])
    calls = _spans_seen(monkeypatch, lambda pieces, budgets: (
        [":"] if pieces[0].endswith(":") else ["for x in xs:"]))
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace("fro x", "for x")
    assert len(calls) == 2


def test_the_least_mend_comes_first(token_scores, word_choices, monkeypatch, engine):
    """Of mends that all parse: the word spelt most like the slip, the fill's closing marks
    alone at a row's end."""
    text = "def f(x, y):\n    retrun x\n"
    doc = open_doc(text)
    word_choices.append([[(" assert", -0.5), (" return", -1.0)]])  # both parse
    _spans_seen(monkeypatch, lambda pieces, budgets: [""] * len(budgets))
    fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 1, 4), CFG, NEVER))
    assert fixed == "def f(x, y):\n    return x\n"
    for text, fill, row in (("    if x > y\n        return x\n", "1:", "    if x > y:"),
                            ("    return g(x\n", ", x)", "    return g(x)"),
                            ("    return g(\n", "(k)", "    return g()")):
        doc = open_doc("def f(x, y, g):\n" + text)
        _spans_seen(monkeypatch, lambda pieces, budgets, fill=fill: [fill] * len(budgets))
        fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 1, 4), CFG, NEVER))
        assert fixed.split("\n")[1] == row, (fill, fixed)


def test_a_misspelt_keyword_is_mended_in_other_languages_too(token_scores, word_choices,
                                                             monkeypatch, engine):
    """Without Python's list, the grammar's own keywords are the words the language knows."""
    text = "function f(xs) {\n  let total = 0;\n  retrun total;\n}\n"
    doc = open_doc(text, "file:///a.js", "javascript")
    req = fix.fix_request(doc, 1, 2)
    assert 2 in req.flagged
    word_choices.append([[(" retur", -0.5), (" return", -1.0)]])
    _spans_seen(monkeypatch, lambda pieces, budgets: [""] * len(budgets))
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace("retrun", "return")
    assert "return" not in text and {"return", "function", "let"} <= regions.keywords(
        "javascript")


@pytest.mark.parametrize(
    ("uri", "language", "text"),
    [("file:///a.py", "python", "def f(a, b):\n    return max(a b, key=len)\n"),
     ("file:///a.ts", "typescript",
      "function f(a: number, b: number, max: (x: number, y: number) => number) {\n"
      "  return max(a b, 0);\n}\n")],
)
def test_a_dropped_comma_is_inserted_between_two_operands(token_scores, monkeypatch, engine,
                                                          uri, language, text):
    doc = open_doc(text, uri, language)
    req = fix.fix_request(doc, 1, 4)
    # holes: the row's end, then the gap between ``a`` and ``b`` (not after ``return``)
    calls = _spans_seen(monkeypatch, lambda pieces, budgets: [",", " +"])  # in text order
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace("a b", "a, b")
    [(pieces, budgets)] = calls
    assert pieces[1].startswith(" b, ") and budgets == [slips.GAP_TOKENS, slips.END_TOKENS]


@pytest.mark.parametrize(
    ("row", "holes"),
    [("    retrun False", [("retrun", "word"), ("", "end")]),  # False: Python knows it
     ("    a = [y fro y in 'ab cd' if y] # a b", [("fro", "word"), ("", "end")]),
     ("    return max(a f)", [("", "end"), ("", "gap")]),
     ("    for a in a: pass", [("", "end")]),  # no gap next to a keyword
     ("    a = [] True", [("", "end"), ("", "gap")]),
     ("    a = foo", [("foo", "word")])],  # no end hole right after a word hole
)
def test_slip_holes(row, holes):
    text = "def f(a):\n" + row + "\n    return a\n"
    found = slips.holes(text, [(10, row)], "python")
    assert [(text[h.start : h.end], h.kind) for h in found] == holes
    gaps = [h.start - 10 for h in found if h.kind == "gap"]
    assert all(row[at - 1] != " " and row[at] == " " for at in gaps)


@pytest.mark.parametrize(
    ("language", "head", "row"),
    [("rust", "fn f(a: i32, b: i32) -> i32 {", "  let n = max(a b); // max(a b) '('"),
     ("javascript", "function f(a, b) {", "  const n = max(a b); /* ( */ // max(a b)"),
     ("go", "func f(a int, b int) int {", "\tvar n = max(a b) // max(a b) `(`")],
)
def test_slip_holes_in_other_grammars(language, head, row):
    """The grammar's keywords are no operands; its comments and strings are no code."""
    text = f"{head}\n{row}\n    return n\n}}\n"
    at = len(head) + 1
    found = slips.holes(text, [(at, row)], language)
    code_end = row.index(" /")  # the row's end, before its comments
    assert [(h.kind, h.start - at) for h in found] == [("end", code_end),
                                                       ("gap", row.index("a b") + 1)]
    assert not slips.unclosed(row, language)  # the brackets in comments and strings
    assert "gap" not in [h.kind for h in slips.holes(text, [(at, row)], None)]  # no grammar


@pytest.mark.parametrize("row", ['let p = r#"a "(" b"# + g(x);', 'let p = r"C:\\" + f("(");',
                                 'let p = br##"("#"##;', 'let p = r#"(', 'let p = "\\"(";'])
def test_rust_raw_strings_are_no_code(row):
    """A raw string ends at its quote and ``#``s, whatever backslashes it holds."""
    assert not slips.unclosed(row, "rust")
    assert slips.unclosed(row.replace("let p =", "let p = max("), "rust")


@pytest.mark.parametrize(
    ("row", "closed"),
    [("    y = math.ceil(i**2", ["    y = math.ceil()i**2", "    y = math.ceil(i)**2",
                                "    y = math.ceil(i*)*2", "    y = math.ceil(i**)2",
                                "    y = math.ceil(i**2)"]),
     # the ``]`` of the outer bracket skips ``str(``: its closer goes before it
     ("    ' '.join([str(x for x in r(n)])", ["    ' '.join([str()x for x in r(n)])",
                                             "    ' '.join([str(x) for x in r(n)])",
                                             "    ' '.join([str(x for) x in r(n)])",
                                             "    ' '.join([str(x for x) in r(n)])",
                                             "    ' '.join([str(x for x in) r(n)])",
                                             "    ' '.join([str(x for x in r)(n)])",
                                             "    ' '.join([str(x for x in r(n))])"]),
     ('    s = "(" + f(x)', []),  # a bracket in a string is no bracket
     ("    frq[i += 1  # (", ["    frq[]i += 1  # (", "    frq[i] += 1  # (",
                            "    frq[i +]= 1  # (", "    frq[i +=] 1  # (",
                            "    frq[i += 1]  # ("]),
     # a string the row never closes: its quote after any token of it
     ("    print('done)", ["    print(''done)", "    print('done')", "    print('done)'"]),
     # and after a space: the string may end with it
     ("    xs = s.split(' )", ["    xs = s.split('' )", "    xs = s.split(' ')",
                              "    xs = s.split(' )'"])],
)
def test_a_dropped_closer_may_go_after_any_token_the_bracket_opens(row, closed):
    found = [row[:at] + closer + row[at:] for a, b, closer in slips.unclosed(row, "python")
             for at in slips.closer_spots(row, "python", a, b, closer not in slips.OPENERS)]
    assert list(dict.fromkeys(found)) == closed


def test_a_dropped_closer_goes_where_the_model_likes_the_row_best(word_choices, monkeypatch,
                                                                   engine):
    """Of the places a closer may go that parse: the row the model scores highest, the row's
    end ahead by ``END_PRIOR``."""
    from model import scoring

    text = "import math\n\n\ndef f(i):\n    return math.ceil(i**2\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 4, 4)
    assert 4 in req.flagged
    rows: list[str] = []
    liked: dict[str, float] = {}

    def fake(engine, prefix, suffix, fills, cancel=None):
        rows.extend(fill.strip() for fill in fills)
        return [liked.get(fill.strip(), -3.0) for fill in fills]

    monkeypatch.setattr(scoring, "span_logprobs", fake)
    _spans_seen(monkeypatch, lambda pieces, budgets: [""] * len(budgets))
    for mid, fixed in ((-1.0, "return math.ceil(i)**2"), (-2.5, "return math.ceil(i**2)")):
        rows.clear()
        liked["return math.ceil(i)**2"] = mid  # the row's end: -3.0
        word_choices.append([[], [], []])
        assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)).split("\n")[4] == (
            "    " + fixed)
        # only the places that parse are scored: ``ceil()i**2`` and ``i*)*2`` are not
        assert sorted(set(rows)) == ["return math.ceil(i)**2", "return math.ceil(i**2)"]


@pytest.mark.parametrize(("row", "strays"), [
    ("    r = v * s)", [13]),
    ("    f(x)) + [1]]", [8, 15]),
    ('    ")" + g(x)', []),  # in a string
    ("    1, 2)", [8]),  # closing what an earlier row opened: removing it adds an error
])
def test_a_closer_that_closes_nothing_on_its_row_is_stray(row, strays):
    assert slips.stray_closers(row, "python") == strays


@pytest.mark.parametrize(("rows", "levels"), [
    (["def f(xs):", "    t = 0", "    for x in xs:", "        t += x", "            t *= 2"],
     ["        ", "    ", ""]),
    (["def f(xs):", "    for x in xs:", "    t += x"], ["        ", ""]),  # the body first
    (["def f(xs):", "\tfor x in xs:", "\tt += x"], ["\t\t", ""]),
    (["def f(xs):", "    if xs:", "        return 1", "", "      return 0"],
     ["        ", "    ", ""]),  # a closed block's level is no level
    (["      x = 1"], []),
])
def test_a_misindented_row_may_take_the_level_of_a_block_around_it(rows, levels):
    assert slips.indent_levels(rows) == levels


def _liked_rows(monkeypatch, liked: dict) -> list:
    """``model.scoring.span_logprobs`` scoring a row ``liked[row]`` (else -3); the rows seen."""
    from model import scoring

    rows: list[str] = []

    def fake(engine, prefix, suffix, fills, cancel=None):
        rows.extend(fills)
        return [liked.get(fill, -3.0) for fill in fills]

    monkeypatch.setattr(scoring, "span_logprobs", fake)
    return rows


@pytest.mark.parametrize(("broken", "fixed"), [
    ("    print('done)\n", "    print('done')\n"),  # a string's closing quote dropped
    ('    print("a", "b)\n', '    print("a", "b")\n'),
])
def test_a_dropped_quote_comes_back(token_scores, word_choices, monkeypatch, engine, broken,
                                    fixed):
    """Only one edit parses: the model is not asked to choose."""
    text = "def f(v, s):\n" + broken + "    return r\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)
    assert 1 in req.flagged
    rows = _liked_rows(monkeypatch, {})
    word_choices.extend([[[]]] * 3)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace(broken, fixed)
    assert rows == []


@pytest.mark.parametrize(("broken", "liked", "fixed"), [
    ("    r = v * s)\n", None, "    r = v * s\n"),  # a bracket typed twice
    ("    r = f(v)) * s\n", None, "    r = f(v) * s\n"),
    ("    r = v * s)\n", "    r = (v * s)", "    r = (v * s)\n"),  # or its opener dropped
])
def test_a_stray_closer_goes_or_its_opener_comes_back(token_scores, word_choices, monkeypatch,
                                                      engine, broken, liked, fixed):
    """The model chooses; as likely as the rest, the stray goes (``END_PRIOR``)."""
    text = "def f(v, s):\n" + broken + "    return r\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)
    rows = _liked_rows(monkeypatch, {liked: -1.0})
    word_choices.extend([[[]]] * 3)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace(broken, fixed)
    assert fixed.rstrip("\n") in rows


def test_an_opener_dropped_inside_a_word_splits_it(token_scores, word_choices, monkeypatch,
                                                    engine):
    """``lenv)``: ``len`` and ``v`` are words the file has, ``lenv`` is not: the opener goes
    between them, and the model is not asked."""
    text = "def f(v, s):\n    r = lenv)\n    return r\n"
    doc = open_doc(text)
    rows = _liked_rows(monkeypatch, {"    r = lenv": 0.0})
    word_choices.extend([[[]]] * 3)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    assert apply(doc, fix.run_fix(engine, fix.fix_request(doc, 1, 4), CFG, NEVER)) == (
        text.replace("lenv)", "len(v)"))
    assert rows == []


def test_a_closer_typed_twice_may_be_before_the_stray_one(token_scores, word_choices,
                                                          monkeypatch, engine):
    """``range(len(s)) - 2)``: removing either ``)`` parses; the model chooses, the stray itself
    ahead by ``END_PRIOR``."""
    text = "def f(s):\n    return range(len(s)) - 2)\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)
    assert slips.twin_spots(doc.line_text(1), "python", 28) == [22, 23, 28]
    word_choices.extend([[[]]] * 6)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    for liked, fixed in ((-1.0, "range(len(s) - 2)"), (-2.5, "range(len(s)) - 2")):
        rows = _liked_rows(monkeypatch, {"    return range(len(s) - 2)": liked})
        assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == (
            "def f(s):\n    return " + fixed + "\n")
        assert {"    return range(len(s) - 2)", "    return range(len(s)) - 2",
                "    return range(len(s)) - 2()"} <= set(rows)  # an opener dropped, too


def test_a_method_left_uncalled_is_no_fix(token_scores, word_choices, monkeypatch, engine):
    """``if c.isdigit):`` lost the opener of an empty call: removing the ``)`` parses too, but
    leaves the method uncalled (always true), so it is not offered even when the model likes
    it best; a ``)`` after a name that is no builtin method may still go."""
    text = "def f(s):\n    for c in s:\n        if c.isdigit):\n            return c\n"
    doc = open_doc(text)
    row = doc.line_text(2)
    assert slips.twin_spots(row, "python", row.index(")")) == []
    assert slips.twin_spots("    x = c.width)", "python", 15) == [15]
    assert slips.twin_spots("    x = c.real)", "python", 14) == [14]  # a property
    word_choices.extend([[[]]] * 6)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    rows = _liked_rows(monkeypatch, {"        if c.isdigit:": 0.0})
    assert apply(doc, fix.run_fix(engine, fix.fix_request(doc, 2, 8), CFG, NEVER)) == (
        text.replace("isdigit)", "isdigit()"))
    assert "        if c.isdigit:" not in rows


def test_a_misindented_row_goes_to_the_nearest_level_then_the_one_the_model_likes(
        token_scores, word_choices, monkeypatch, engine):
    """Two spaces short of the loop's body, or two past the loop: both parse and are as near,
    so the model chooses; four past the body goes back to it, whatever the model likes. A
    level that breaks the function (column 0, before its ``return``) is not offered."""
    text = ("def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n"
            "      t *= 2\n    return t\n")
    doc = open_doc(text)
    req = fix.fix_request(doc, 4, 4)
    assert 4 in req.flagged
    word_choices.extend([[[]]] * 6)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    for liked, level in (("        t *= 2", 8), ("    t *= 2", 4)):
        rows = _liked_rows(monkeypatch, {liked: -1.0})
        fixed = apply(doc, fix.run_fix(engine, req, CFG, NEVER))
        assert fixed == text.replace("      t *= 2", " " * level + "t *= 2")
        assert sorted(rows) == ["        t *= 2", "    t *= 2"]
    deep = text.replace("      t *= 2", "            t *= 2")
    doc = open_doc(deep)
    _liked_rows(monkeypatch, {"    t *= 2": -1.0})
    fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 4, 4), CFG, NEVER))
    assert fixed == text.replace("      t *= 2", "        t *= 2")
    body = "def f(xs):\n    for x in xs:\n    print(x)\n"  # a header without its body
    doc = open_doc(body)
    _liked_rows(monkeypatch, {})
    fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 2, 4), CFG, NEVER))
    assert fixed == body.replace("    print", "        print")


@pytest.mark.parametrize(("text", "row", "fixed"), [
    # a header indented too deep: its body is no deeper, so the header moves, not the body
    ("def f(j):\n    def g():\n            if j:\n            return 0\n        else:\n"
     "            return 1\n", 3, "def f(j):\n    def g():\n        if j:\n            return 0\n"
     "        else:\n            return 1\n"),
    # a row that slipped out of its function: tree-sitter ends the function above it
    ("def f(x):\n    y = x\n\n  return y\n", 3, "def f(x):\n    y = x\n\n    return y\n"),
    # ... or out of a nested function, into the function around it
    ("def f(n):\n    def g(m):\n        return m\n  k = g(n)\n    return k\n", 3,
     "def f(n):\n    def g(m):\n        return m\n    k = g(n)\n    return k\n"),
    # a nested function's header indented too deep: wrong only among the rows around it
    ('def f(n):\n    """Doc."""\n\n        def g(m):\n        for j in m:\n            return j\n'
     '        return 0\n\n    return g(n)\n', 3, 'def f(n):\n    """Doc."""\n\n    def g(m):\n'
     '        for j in m:\n            return j\n        return 0\n\n    return g(n)\n'),
])
def test_the_row_to_move_may_be_above_the_one_cpython_names(token_scores, word_choices,
                                                            monkeypatch, engine, text, row, fixed):
    doc = open_doc(text)
    req = fix.fix_request(doc, row, len(indentation(doc.line_text(row))))  # at the row's code
    assert req is not None and row in req.flagged
    last = doc.text.count("\n")  # a row past the end is read as the last, at once
    assert fix.fix_request(doc, 2**40, 2) == fix.fix_request(doc, last, 2)
    word_choices.extend([[[]]] * 3)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    _liked_rows(monkeypatch, {})
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == fixed


@pytest.mark.parametrize(("text", "row", "liked"), [
    # the body of a loop too deep: its row moves back, not the row below out of the loop
    ("def f(xs):\n    t = 0\n    for x in xs:\n            t += x\n        if t < 0:\n"
     "            return 1\n    return 0\n", 4, "    if t < 0:"),
    # the first row of a block too shallow: not the row CPython names, nor the row above it
    ("def f(n):\n    def g(m):\n      if m:\n            return 1\n        return 0\n"
     "    if n:\n        return g(n)\n    return 0\n", 4, "      return 0"),
])
def test_a_misindented_row_is_the_one_whose_block_is_not_one_step_deeper(
        token_scores, word_choices, monkeypatch, engine, text, row, liked):
    """Of the rows a move could mend, the one after whose move every block is indented the
    file's usual step deeper than its header, whatever row the model likes best."""
    doc = open_doc(text)
    req = fix.fix_request(doc, row, 4)
    assert req is not None and row in req.flagged
    word_choices.extend([[[]]] * 3)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    _liked_rows(monkeypatch, {liked: -1.0})
    fixed = apply(doc, fix.run_fix(engine, req, CFG, NEVER))
    assert fixed is not None and python_parses(fixed) and liked not in fixed.split("\n")
    assert slips.odd_steps(fixed.split("\n"), 4) == 0


def test_a_clause_goes_to_its_headers_level_and_a_return_stays_in_its_function(
        token_scores, word_choices, monkeypatch, engine):
    """An ``else`` CPython finds no ``if`` for is moved like a misindented row; a ``return`` at
    column 0 parses but is out of its function, so it comes after the level inside, however
    much the model likes it."""
    word_choices.extend([[[]]] * 6)
    _spans_seen(monkeypatch, lambda pieces, budgets: ["x"] * len(budgets))
    clause = "def f(x):\n    if x:\n        y = 1\n        else:\n        y = 2\n    return y\n"
    doc = open_doc(clause)
    _liked_rows(monkeypatch, {})
    fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 3, 8), CFG, NEVER))
    assert fixed == clause.replace("        else:", "    else:")
    text = 'def f(x):\n    """Doc."""\n        return x\n'
    doc = open_doc(text)
    _liked_rows(monkeypatch, {"return x": -1.0})
    fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 2, 8), CFG, NEVER))
    assert fixed == text.replace("        return", "    return")


def test_a_mend_that_leaves_errors_gives_way_to_a_token_repair_that_leaves_fewer(
        token_scores, word_choices, monkeypatch, engine):
    wanted, _ = token_scores
    text = "def f(xs):\n    fro x in xs:\n        xs.append(x\n    return xs\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)
    assert req.flagged[:3] == (0, 1, 2)
    closed = text.replace("(x\n", "(x)\n")  # the mend: one error fewer, others left
    for answer, fixed in (([("fro", "for", -5.0)], text.replace("fro", "for")), ([], closed)):
        wanted[:] = answer
        word_choices.append([[(" x", -1.0)]])  # ``x x in xs:``: no word removes an error
        calls = _spans_seen(monkeypatch, lambda pieces, budgets: ["", "", ")"])
        assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == fixed
        assert len(calls) == 1  # no rewrite


def test_code_only_cpython_rejects_is_flagged_by_cpython(token_scores, word_choices,
                                                         monkeypatch, engine):
    text = "def g(x):\n    y = 1\n    del f()\n    return y\n"  # tree-sitter sees no error
    doc = open_doc(text)
    req = fix.fix_request(doc, 1, 4)
    assert req.flagged == (2,)
    # holes: the word ``f`` and the row's end (none between ``del`` and ``f``); ``del y()``
    # leaves the error, so the row is rewritten
    word_choices.append([[(" y", -1.0)]])
    calls = _spans_seen(monkeypatch, lambda pieces, budgets: (
        [""] if pieces[0].endswith("f()") else ["del y"]))
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace("f()", "y")
    assert len(calls) == 2


def test_an_unclosed_bracket_is_flagged_on_its_row_not_where_tree_sitter_smears_it(
        token_scores, monkeypatch, engine):
    text = ('class A:\n    def f(self, x):\n        """Doc."""\n        s = str(x\n'
            '        if x:\n            return s[::-1]\n        return s\n')
    doc = open_doc(text)
    assert 1 in regions.error_rows(doc.tree)  # tree-sitter's error starts at the def
    req = fix.fix_request(doc, 3, 8)
    assert req.flagged[0] == 3 and 1 not in req.flagged  # CPython names the row
    assert fix.fix_request(doc, 3, 8, pin=False).flagged == (1,)  # asked whether it applies
    # the fill ``) + 1`` parses too, but its closing bracket alone is the least that mends
    _spans_seen(monkeypatch, lambda pieces, budgets: [") + 1"] + [""] * (len(budgets) - 1))
    assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace("(x\n", "(x)\n")


def test_a_name_nothing_binds_is_respelt_as_the_model_likes(monkeypatch, engine):
    """``totl`` is spelt like both ``total`` and ``tot``: the row the model likes best."""
    text = "def f(xs):\n    total = len(xs)\n    tot = 1\n    return totl + tot\n"
    doc = open_doc(text)
    req = fix.fix_request(doc, 3, 4)
    assert req.flagged == ()
    for liked in ("    return tot + tot", "    return total + tot"):
        rows = _liked_rows(monkeypatch, {liked: -1.0})
        assert apply(doc, fix.run_fix(engine, req, CFG, NEVER)) == text.replace(
            "    return totl + tot", liked)
        assert sorted(rows) == ["    return tot + tot", "    return total + tot"]


def test_a_dropped_dot_after_a_module_is_put_back(monkeypatch, engine):
    text = "import math\n\n\ndef f(x):\n    y = 2\n    return mathceil(x) + y\n"
    doc = open_doc(text)
    _liked_rows(monkeypatch, {})
    fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 5, 4), CFG, NEVER))
    assert fixed == text.replace("mathceil", "math.ceil")


def test_a_name_with_nothing_spelt_like_it_is_no_respelling(monkeypatch):
    """Nor is one off the flagged rows, nor one a ``*`` import may bind."""
    def never(span, rows):
        raise AssertionError("nothing to choose among")

    doc = open_doc("def f(xs):\n    n = len(xs)\n    return frobnicate(n)\n")
    assert respell.respell(fix.fix_request(doc, 2, 4), never) is None
    text = "def f(xs):\n    total = len(xs)\n    n = 2\n    return totl\n"
    doc = open_doc(text)
    assert respell.respell(fix.fix_request(doc, 3, 4, [2]), never) is None
    assert respell.respell(fix.fix_request(doc, 3, 4, [3]), never) is not None
    doc = open_doc("from os import *\n" + text)
    assert respell.respell(fix.fix_request(doc, 4, 4), never) is None


def test_a_misspelt_binding_takes_the_spelling_its_uses_have(monkeypatch, engine):
    """``result`` is read twice and bound nowhere: the slip is ``resultt``, bound and never
    read, so that is what changes; a diagnostic on a use finds it too."""
    text = ("def f(xs):\n    resultt = []\n    for x in xs:\n        result.append(x)\n"
            "    return result\n")
    doc = open_doc(text)
    _liked_rows(monkeypatch, {})
    for flagged in (None, [3]):
        fixed = apply(doc, fix.run_fix(engine, fix.fix_request(doc, 3, 8, flagged), CFG, NEVER))
        assert fixed == text.replace("resultt", "result")


def test_a_respelling_is_the_fewest_edits_away():
    """``oddss`` is one edit from ``odds``, two from ``odd``: only ``odds``. ``cahr`` is one
    from ``char`` (two letters swapped) and from ``chr``: the model chooses."""
    from collections import Counter

    assert respell.respellings("oddss", Counter({"odds": 2, "odd": 1, "oddss": 1})) == ["odds"]
    assert sorted(respell.respellings("cahr", Counter({"char": 2, "cahr": 1}))) == [
        "char", "chr"]
    assert [respell.edit_distance(a, b) for a, b in (
        ("cahr", "char"), ("cahr", "chr"), ("oddss", "odd"), ("", "ab"), ("ab", "ab"))] == [
        1, 1, 2, 2, 0]
