"""The insert-docstring benchmark on HumanEval functions (model/bench_docstring.py)."""

import ast
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from model import bench, bench_docstring
from model.bench_humaneval import DATA_DIR, SPLIT_FILES, load_tasks, with_tests
from model.execution import run_program


@pytest.fixture(scope="module")
def cases():
    return bench_docstring.cases(load_tasks(DATA_DIR / SPLIT_FILES["single"]))


def test_one_case_per_problem_its_docstring_removed_and_its_tests_passing(cases):
    assert len(cases) == 163  # 164 problems, one of them without a docstring
    assert len({c.task["task_id"].rsplit("/", 1)[0] for c in cases}) == len(cases)
    for case in cases[::40]:
        func = next(d for d in ast.parse(case.text).body
                    if getattr(d, "name", "") == case.task["entry_point"])
        assert ast.get_docstring(func) is None
        assert case.text.split("\n")[case.row][case.column:].startswith(func.name + "(")
        assert case.reference and "\n" not in case.reference
        assert run_program(with_tests(case.task, case.text)).passed


@pytest.mark.parametrize(
    ("docstring", "expected"),
    [("Return the sum. Ignore None.\n>>> f([1])\n1", "Return the sum."),
     ("Check if in given list of numbers, are any two\nnumbers closer.\n>>> f()",
      "Check if in given list of numbers, are any two numbers closer."),
     ("Given a string s.\n\nMore text.", "Given a string s."),
     ("Sort it\nFor example:\nf([2, 1]) == [1, 2]", "Sort it"),
     ("Return n-th Fibonacci number.\n    >>> fib(10)", "Return n-th Fibonacci number.")],
)
def test_the_reference_is_the_descriptions_first_sentence(docstring, expected):
    assert bench_docstring.summary_of(docstring) == expected


def test_word_f1_and_rouge_l():
    assert bench_docstring.word_f1("Return the sum.", "return THE sum") == 1.0
    assert bench_docstring.word_f1("sum a list", "return the sum") == pytest.approx(2 / 6)
    assert bench_docstring.word_f1("", "x") == 0.0
    assert bench_docstring.rouge_l("the sum of a list", "a list of the sum") == pytest.approx(
        2 * 2 / 10)  # longest common subsequence: 2 words ("the sum" or "a list")
    assert bench_docstring.rouge_l("a b c", "a b c") == 1.0


def _inserting(summary_for):
    """A variant that inserts ``summary_for(case)`` as the server's template would."""

    def run(engine, case):
        doc, req = bench_docstring._request(case)
        text = doc.text[: req.insert] + req.opening + summary_for(case) + req.closing
        return bench_docstring.Outcome(case, text + doc.text[req.insert :], 1.0)

    return run


def test_scores_can_fail(cases):
    chosen = cases[:6]
    variants = {
        "truth": _inserting(lambda case: case.reference),
        "garbled": _inserting(lambda case: "Sum product product."),
        "broken": _inserting(lambda case: 'x"""\n  y'),  # closes the string early: bad indent
        "name": bench_docstring.name_baseline,
    }
    with ThreadPoolExecutor(2) as pool:
        got = bench_docstring.score(None, chosen, variants, pool)
    s = {name: bench_docstring.summary(each) for name, each in got.items()}
    assert s["truth"]["word_f1"] == s["truth"]["rouge_l"] == 1.0
    assert s["truth"]["intact"] == s["truth"]["offered"] == 1.0 and s["truth"]["garbled"] == 0
    assert s["garbled"]["garbled"] == 1.0 and s["garbled"]["intact"] == 1.0
    assert s["broken"]["intact"] == 0.0 and s["broken"]["word_f1"] == 0.0
    assert 0 < s["name"]["word_f1"] < 1 and s["name"]["intact"] == 1.0
    rows = bench_docstring.rows(got["name"])
    assert rows[0]["inserted"] == "Has close elements." and rows[0]["intact"]


def test_smoke_run_writes_json_and_samples(tiny_checkpoint, tmp_path, capsys):
    out, samples = tmp_path / "doc.json", tmp_path / "doc.jsonl"
    assert bench.main(["docstring", "--checkpoint", str(tiny_checkpoint), "--limit", "3",
                       "--json", str(out), "--samples", str(samples),
                       "--versus", '{"threshold": 0.5, "stepsPerToken": 0.125}']) == 0
    metrics = json.loads(out.read_text())
    assert metrics["n"] == 3 and set(metrics["variants"]) == {"server", "versus", "name"}
    assert metrics["word_f1"] == metrics["variants"]["server"]["word_f1"]
    assert metrics["variants"]["server"]["garbled"] == 0.0  # the server offers no garbled text
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(rows) == 3 and all(r["reference"] for r in rows)
    assert samples.with_suffix(".name.jsonl").is_file()
    assert "insert docstring" in capsys.readouterr().out
