"""The fix benchmark on planted bugs (model/bench_fix.py)."""

import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

import model
from lsp_server.config import ServerConfig
from lsp_server.syntax_check import python_parses
from model import bench, bench_fix
from model.bench_humaneval import DATA_DIR, SPLIT_FILES, load_tasks
from model.execution import run_program

CFG = ServerConfig()


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    """A real engine for the tokenizer; its fills and scores are faked where it matters."""
    return model.load(str(tiny_checkpoint), "cpu")


@pytest.fixture(scope="module")
def bugs():
    with ThreadPoolExecutor(2) as pool:
        return bench_fix.plant(load_tasks(DATA_DIR / SPLIT_FILES["single"], limit=12), pool)


def test_each_mutant_changes_one_token_outside_strings():
    line = '        if x < len(s) - 1 and not s == "a < b":'
    got = dict((buggy, kind) for kind, buggy in bench_fix.mutants(line))
    assert got == {
        '        if x <= len(s) - 1 and not s == "a < b":': "comparison",
        '        if x < len(s) + 1 and not s == "a < b":': "arithmetic",
        '        if x < len(s) - 2 and not s == "a < b":': "number",
        '        if x < len(s) - 1 or not s == "a < b":': "boolean",
        '        if x < len(s) - 1 and s == "a < b":': "negation",
        '        if x < len(s) - 1 and not s != "a < b":': "comparison",
    }
    assert bench_fix.mutants("    x = y") == []
    assert bench_fix.mutants("    return max(a,") == [("builtin", "    return min(a,")]


def test_each_syntax_mutant_is_one_slip():
    line = "        if x == len(s) and not f(a, b):"
    assert slips(line, bench_fix.SYNTAX_KINDS) == [
        ("keyword", "        fi x == len(s) and not f(a, b):"),
        ("assign", "        if x = len(s) and not f(a, b):"),
        ("bracket", "        if x == len(s and not f(a, b):"),
        ("keyword", "        if x == len(s) adn not f(a, b):"),
        ("keyword", "        if x == len(s) and nto f(a, b):"),
        ("comma", "        if x == len(s) and not f(a b):"),
        ("bracket", "        if x == len(s) and not f(a, b:"),
        ("colon", "        if x == len(s) and not f(a, b)"),
    ]
    assert slips("    x = y[1:]", bench_fix.SYNTAX_KINDS) == [("bracket", "    x = y[1:")]


def slips(line: str, kinds) -> list[tuple[str, str]]:
    return [slip for slip in bench_fix.syntax_mutants(line) if slip[0] in kinds]


def test_the_slips_only_kinds_names():
    """An opening bracket dropped (where its closer is on the row), a bracket typed twice, a
    string's closing quote dropped (not a triple quote's), the line indented deeper or
    shallower."""
    line = """        return f(a, "b") + '''c'''"""
    assert slips(line, bench_fix.MORE_SYNTAX_KINDS) == [
        ("opener", """        return fa, "b") + '''c'''"""),
        ("quote", """        return f(a, "b) + '''c'''"""),
        ("stray", """        return f(a, "b")) + '''c'''"""),
        ("indent", """            return f(a, "b") + '''c'''"""),
        ("indent", """      return f(a, "b") + '''c'''"""),
    ]
    assert slips("  x = 1", bench_fix.MORE_SYNTAX_KINDS) == [("indent", "      x = 1")]
    assert slips("    f(a,", ("opener",)) == []  # its closer is on the next row


def test_a_planted_syntax_bug_leaves_the_file_unparsed():
    with ThreadPoolExecutor(2) as pool:
        bugs = bench_fix.plant(load_tasks(DATA_DIR / SPLIT_FILES["single"], limit=12), pool,
                               syntax=True)
    assert len(bugs) >= 8
    for bug in bugs:
        assert python_parses(bench_fix.original(bug)) and not python_parses(bug.text)
        assert bug.text.split("\n")[bug.row] == bug.line
        assert bug.kind in {"colon", "assign", "bracket", "comma", "keyword"}
    with ThreadPoolExecutor(2) as pool:
        more = bench_fix.plant(load_tasks(DATA_DIR / SPLIT_FILES["single"], limit=12), pool,
                               syntax=True, kinds=bench_fix.MORE_SYNTAX_KINDS)
    assert len(more) >= 8 and {bug.kind for bug in more} <= set(bench_fix.MORE_SYNTAX_KINDS)
    assert all(not python_parses(bug.text) for bug in more)


def test_a_variable_becomes_another_of_the_file():
    text = "from typing import List\ndef f(a: List, b):\n    x = a.lower()\n    return [x, b]\n"
    names = bench_fix.variables(text)
    assert names == ["a", "b", "f", "x"]  # no keyword, builtin, attribute or type
    assert bench_fix.mutants("    x = a.lower()", names) == [("name", "    a = a.lower()"),
                                                              ("name", "    x = b.lower()")]


def test_a_planted_bug_is_one_line_the_tests_catch(bugs):
    assert len(bugs) >= 8  # most tasks admit a bug the tests catch
    for bug in bugs:
        task = bug.task
        truth = task["canonical_solution"].split("\n")[0]
        assert bug.text == task["prompt"] + bug.line + "\n" + task["suffix"]
        assert bug.text.split("\n")[bug.row] == bug.line != truth
        assert not run_program(bench_fix.with_tests(task, bug.text)).passed
        assert run_program(bench_fix.with_tests(task, bug.text.replace(bug.line, truth))).passed


def _differing(bug) -> tuple[int, int, str]:
    """The char span of ``bug.text`` where the bug differs from the true line (grown to the left
    until neither side is blank), and the true text there."""
    truth = bug.task["canonical_solution"].split("\n")[0]
    head = next(i for i, (a, b) in enumerate(zip(bug.line + "\0", truth + "\1")) if a != b)
    tail = next(i for i, (a, b) in enumerate(zip(bug.line[::-1] + "\0", truth[::-1] + "\1"))
                if a != b)
    tail = min(tail, len(bug.line) - head, len(truth) - head)
    while not (bug.line[head:len(bug.line) - tail].strip()
               and truth[head:len(truth) - tail].strip()):
        head -= 1
    at = bug.text.index(bug.line) + head
    return at, at + len(bug.line) - tail - head, truth[head:len(truth) - tail]


def _fake_model(monkeypatch, bugs, right: bool | str, suspect: bool):
    """A fill that writes the true line where the bug is (``right``; a string: that), else
    keeps what was there; a scorer that prefers the true text where the bug is (``suspect``;
    on the file without the bug, the bug's text there), else agrees with every token. No name
    is respelt (``actions.respell``): a bug that renames a binding leaves a name unbound."""
    from lsp_server.actions import fix
    from model import scoring

    monkeypatch.setattr(fix, "respell", lambda req, score: None)

    def fill(engine, pieces, budgets, settings, cancel=None):
        bug = next(b for b in bugs if pieces[0] in b.text)
        line = bug.text[bug.text.index(pieces[0]) + len(pieces[0]):].split("\n")[0]
        truth = bug.task["canonical_solution"].split("\n")[0].strip()
        text = (truth if right is True else right) if right and line == bug.line.strip() else line
        return SimpleNamespace(texts=[text], cancelled=False, forward_passes=1, elapsed_ms=3.0)

    def scores(engine, text, spans, passes=scoring.PASSES, cancel=None):
        bug = next(b for b in bugs if text in b.text or text in bench_fix.original(b))
        start, end, truth = _differing(bug)
        if not suspect:
            return []
        if text in bug.text:  # the buggy file (offsets in ``text``)
            at = start - bug.text.index(text)
            return [scoring.TokenScore(at, at + end - start, -9.0, truth, -1.0)]
        at = start - bench_fix.original(bug).index(text)
        return [scoring.TokenScore(at, at + len(truth), -9.0, bug.text[start:end], -1.0)]

    monkeypatch.setattr(model, "infill_spans", fill)
    monkeypatch.setattr(scoring, "masked_scores", scores)


def _outcomes(engine, bugs, variant):
    with ThreadPoolExecutor(2) as pool:
        return bench_fix.score(engine, bugs, {"f": variant}, pool)["f"]


@pytest.mark.parametrize("right", [True, False])
def test_a_flagged_line_the_model_agrees_with_is_rewritten(engine, bugs, monkeypatch, right):
    bugs = bugs[:4]
    _fake_model(monkeypatch, bugs, right, suspect=False)
    s = bench_fix.summary(_outcomes(engine, bugs, bench_fix.server_fix(CFG, True)))
    assert s["n"] == 4 and s["located"] == float(right)  # the flagged row, rewritten
    if right:
        assert s["repaired"] == s["restored"] == s["offered"] == 1.0 and s["broke"] == 0.0
    else:  # the same line again: no edit, nothing offered
        assert s["repaired"] == s["restored"] == s["offered"] == s["broke"] == 0.0


@pytest.mark.parametrize("suspect", [True, False])
def test_located_counts_whether_the_fix_changed_the_buggy_line(engine, bugs, monkeypatch,
                                                                suspect):
    bugs = bugs[:4]
    _fake_model(monkeypatch, bugs, False, suspect)
    s = bench_fix.summary(_outcomes(engine, bugs, bench_fix.server_fix(CFG, False)))
    assert s["located"] == s["repaired"] == s["restored"] == s["offered"] == float(suspect)
    assert (0 < s["chance"] < 1) if suspect else s["chance"] == 0.0


def test_clean_counts_correct_code_the_fix_breaks(engine, bugs, monkeypatch):
    bugs = bugs[:4]
    _fake_model(monkeypatch, bugs, False, suspect=True)  # it would plant the bug
    clean = _outcomes(engine, bugs, bench_fix.server_fix(CFG, False, clean=True))
    s = bench_fix.summary(clean)
    assert s["offered"] == s["broke"] == 1.0 and s["repaired"] == 0.0
    assert [o.fixed for o in clean] == [b.text for b in bugs]
    _fake_model(monkeypatch, bugs, False, suspect=False)
    s = bench_fix.summary(_outcomes(engine, bugs, bench_fix.server_fix(CFG, False, clean=True)))
    assert s["offered"] == s["broke"] == 0.0


def test_smoke_run_writes_json_and_samples(tiny_checkpoint, tmp_path, capsys):
    out, samples = tmp_path / "fix.json", tmp_path / "fix.jsonl"
    assert bench.main(["fix", "--checkpoint", str(tiny_checkpoint), "--limit", "4",
                       "--json", str(out), "--samples", str(samples),
                       "--versus", '{"threshold": 0.9}']) == 0
    metrics = json.loads(out.read_text())
    assert 1 <= metrics["n"] <= metrics["tasks"] == 4
    assert set(metrics["variants"]) == {"located", "flagged", "clean", "versus_located",
                                        "versus_flagged", "versus_clean"}
    assert metrics["repaired"] == metrics["variants"]["located"]["repaired"]
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(rows) == metrics["n"] and all(r["buggy"] != r["canonical"] for r in rows)
    assert samples.with_suffix(".versus_clean.jsonl").is_file()
    assert "fix on planted bugs" in capsys.readouterr().out
    assert bench.main(["fix", "--checkpoint", str(tiny_checkpoint), "--limit", "4", "--syntax",
                       "--json", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["syntax"] and set(metrics["variants"]) == {"located", "flagged"}
    assert "fix on planted syntax bugs" in capsys.readouterr().out


def test_a_fix_that_removes_the_line_is_recorded_without_crashing(engine, bugs, monkeypatch):
    bugs = bugs[:2]
    _fake_model(monkeypatch, bugs, " ", suspect=False)  # a blank fill removes the line
    unchecked = bench_fix.server_fix(ServerConfig(syntax_attempts=0), True)
    records = bench_fix.rows(_outcomes(engine, bugs, unchecked))
    assert [r["lines_added"] for r in records] == [-1, -1]
    assert [r["fixed"] for r in records] == [None, None] and all(r["offered"] for r in records)


def test_a_typo_misspells_a_variable_the_line_uses():
    """Its middle letter dropped, second and third swapped, last doubled: never a name the file
    has, a keyword or a builtin, nor an attribute or a short name."""
    names = ["total", "totl", "xs"]
    assert bench_fix.typo_mutants("    return total + xs.count(x)", names) == [
        ("typo", "    return toal + xs.count(x)"), ("typo", "    return total + xs.count(x)"
                                                     .replace("total", "ttoal")),
        ("typo", "    return totall + xs.count(x)")]
    assert bench_fix.typo_mutants("    y = ab.count", ["ab", "count"]) == []
    # ``if`` is a keyword, and swapping ``ff`` spells the name itself
    assert bench_fix.typo_mutants("    return iff", ["iff"]) == [("typo", "    return ifff")]
