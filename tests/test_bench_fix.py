"""The fix benchmark on planted bugs (model/bench_fix.py)."""

import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

import model
from lsp_server.config import ServerConfig
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


def _fake_model(monkeypatch, bugs, right: bool | str, suspect: bool):
    """A fill that writes the true line where the bug is (``right``; a string: that), else
    keeps what was there; a scorer that finds the buggy line least likely (``suspect``) or the
    line above."""

    def fill(engine, pieces, budgets, settings, cancel=None):
        bug = next(b for b in bugs if pieces[0] in b.text)
        line = bug.text[bug.text.index(pieces[0]) + len(pieces[0]):].split("\n")[0]
        truth = bug.task["canonical_solution"].split("\n")[0].strip()
        text = (truth if right is True else right) if right and line == bug.line.strip() else line
        return SimpleNamespace(texts=[text], cancelled=False, forward_passes=1, elapsed_ms=3.0)

    def scores(engine, text):
        bug = next(b for b in bugs if b.line in text)
        target = bug.line if suspect else text.split("\n")[text.split("\n").index(bug.line) - 1]
        at = text.index(target)
        return [(0, at, -1.0), (at, at + len(target), -9.0),
                (at + len(target), len(text), -1.0)]

    monkeypatch.setattr(model, "infill_spans", fill)
    monkeypatch.setattr(model, "token_logprobs", scores)


@pytest.mark.parametrize("right", [True, False])
def test_a_flagged_fix_is_scored_by_the_tests(engine, bugs, monkeypatch, right):
    bugs = bugs[:4]
    _fake_model(monkeypatch, bugs, right, suspect=True)
    with ThreadPoolExecutor(2) as pool:
        got = bench_fix.score(engine, bugs, {"f": bench_fix.server_fix(CFG, True)}, pool)["f"]
    s = bench_fix.summary(got)
    assert s["n"] == 4 and s["located"] == 1.0  # the flagged row is the row rewritten
    if right:
        assert s["repaired"] == s["restored"] == s["offered"] == 1.0
    else:  # the same line again: no edit, nothing offered
        assert s["repaired"] == s["restored"] == s["offered"] == 0.0


@pytest.mark.parametrize("suspect", [True, False])
def test_located_counts_whether_the_model_picked_the_buggy_line(engine, bugs, monkeypatch,
                                                                suspect):
    bugs = [b for b in bugs if b.text.split("\n")[b.row - 1].strip()[:4] not in ("", "def ")][:3]
    _fake_model(monkeypatch, bugs, True, suspect)
    with ThreadPoolExecutor(2) as pool:
        got = bench_fix.score(engine, bugs, {"f": bench_fix.server_fix(CFG, False)}, pool)["f"]
    s = bench_fix.summary(got)
    assert s["located"] == float(suspect)
    assert s["repaired"] == float(suspect)  # the line above, rewritten, leaves the bug
    assert 0 < s["chance"] < 1


def test_smoke_run_writes_json_and_samples(tiny_checkpoint, tmp_path, capsys):
    out, samples = tmp_path / "fix.json", tmp_path / "fix.jsonl"
    assert bench.main(["fix", "--checkpoint", str(tiny_checkpoint), "--limit", "4",
                       "--json", str(out), "--samples", str(samples),
                       "--versus", '{"threshold": 0.9}']) == 0
    metrics = json.loads(out.read_text())
    assert 1 <= metrics["n"] <= metrics["tasks"] == 4
    assert set(metrics["variants"]) == {"located", "flagged", "versus_located", "versus_flagged"}
    assert metrics["variants"]["flagged"]["located"] == 1.0
    assert metrics["repaired"] == metrics["variants"]["located"]["repaired"]
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(rows) == metrics["n"] and all(r["buggy"] != r["canonical"] for r in rows)
    assert samples.with_suffix(".versus_flagged.jsonl").is_file()
    assert "fix on planted bugs" in capsys.readouterr().out


def test_locate_only_scores_the_choice_and_offers_nothing(tiny_checkpoint, tmp_path):
    metrics = bench_fix.main(str(tiny_checkpoint), limit=4, locate_only=True,
                             versus={"threshold": 0.9})
    assert set(metrics["variants"]) == {"located"}
    got = metrics["variants"]["located"]
    assert got["offered"] == 0.0 and got["repaired"] == 0.0 and 0 < got["chance"] < 1


def test_a_fix_that_removes_the_line_is_recorded_without_crashing(engine, bugs, monkeypatch):
    bugs = bugs[:2]
    _fake_model(monkeypatch, bugs, " ", suspect=True)  # a blank fill removes the line
    with ThreadPoolExecutor(2) as pool:
        unchecked = bench_fix.server_fix(ServerConfig(syntax_attempts=0), True)
        got = bench_fix.score(engine, bugs, {"f": unchecked}, pool)["f"]
    records = bench_fix.rows(got)
    assert [r["lines_added"] for r in records] == [-1, -1]
    assert [r["fixed"] for r in records] == [None, None] and all(r["offered"] for r in records)
