"""HumanEval infilling harness (model/bench_humaneval.py)."""

import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import torch

import model
from lsp_server.config import ServerConfig
from model import bench, bench_humaneval
from model.bench_humaneval import DATA_DIR, SPLIT_FILES, exact_match, load_tasks, normalize, program
from model.execution import run_programs

REQUIRED_KEYS = {
    "pass@1",
    "exact_match",
    "n",
    "mean_latency_ms",
    "oracle",
    "split",
    "checkpoint",
    "settings",
}


@pytest.fixture(scope="module")
def single_tasks():
    return load_tasks(DATA_DIR / SPLIT_FILES["single"])


def test_dataset_is_read_from_shared(single_tasks):
    assert len(single_tasks) == 1033
    assert {"task_id", "prompt", "suffix", "canonical_solution", "test", "entry_point"} <= set(
        single_tasks[0]
    )


def test_canonical_passes_and_empty_fails(single_tasks):
    tasks = single_tasks[:5]
    canonical = run_programs([program(t, t["canonical_solution"]) for t in tasks])
    empty = run_programs([program(t, normalize("")) for t in tasks])
    assert [r.status for r in canonical] == ["passed"] * 5, [r.stderr for r in canonical]
    assert not any(r.passed for r in empty)


def test_limit_takes_every_kth_task(single_tasks):
    subset = load_tasks(DATA_DIR / SPLIT_FILES["single"], limit=10)
    assert len(subset) == 10
    step = len(single_tasks) // 10
    assert [t["task_id"] for t in subset] == [t["task_id"] for t in single_tasks[::step][:10]]


def test_exact_match_ignores_trailing_whitespace_only():
    assert exact_match("    return x  \n", "    return x\n")
    assert exact_match("    return x", "    return x\n")
    assert not exact_match("  return x\n", "    return x\n")
    assert not exact_match("    return x\n    pass\n", "    return x\n")


def test_normalize_ends_with_newline():
    assert normalize("    x = 1") == "    x = 1\n"
    assert normalize("    x = 1\n") == "    x = 1\n"


def test_smoke_run_writes_json_and_dial_plot(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "he.json"
    code = bench.main(
        [
            "humaneval",
            "--checkpoint",
            str(tiny_checkpoint),
            "--limit",
            "3",
            "--json",
            str(out),
            "--dial",
            "--explicit",
        ]
    )
    assert code == 0
    metrics = json.loads(out.read_text())
    assert REQUIRED_KEYS | {"dial"} <= set(metrics)
    assert metrics["n"] == 3 and 0.0 <= metrics["pass@1"] <= 1.0
    assert set(metrics["oracle"]) == {"pass@1", "exact_match"}
    explicit = metrics["explicit"]
    assert explicit["pass@1"] <= explicit["pass_any_suggestion"]
    # it tries what the automatic request tried first, so it offers at least as much
    assert metrics["offered"] <= explicit["suggestions_per_task"] <= 3.0
    assert len(metrics["dial"]) == len(bench_humaneval.DIAL)
    assert {"threshold", "steps_per_token", "pass@1", "mean_latency_ms"} == set(metrics["dial"][0])
    assert out.with_suffix(".png").stat().st_size > 0
    assert "pass@1" in capsys.readouterr().out


def test_main_in_process_without_oracle(tiny_checkpoint):
    metrics = bench_humaneval.main(checkpoint=str(tiny_checkpoint), limit=3, with_oracle=False)
    assert REQUIRED_KEYS <= set(metrics) and metrics["oracle"] is None
    assert metrics["mean_latency_ms"] > 0


def test_settings_and_a_versus_variant_run_side_by_side(tiny_checkpoint, tmp_path):
    """Server settings reach the headline; ``versus`` ones a second variant, task by task."""
    from model import load
    from model.sampler import encode

    out = tmp_path / "samples.jsonl"
    unchecked, one_token = {"syntaxAttempts": 0}, {"blockTokens": 1, "lineTokens": 1}
    metrics = bench_humaneval.main(checkpoint=str(tiny_checkpoint), limit=4, with_oracle=False,
                                   samples=out, settings=unchecked, versus=one_token)
    assert metrics["server_settings"] == unchecked and metrics["attempts"] == 0
    assert metrics["versus"]["server_settings"] == one_token and metrics["versus"]["n"] == 4
    plan = [json.loads(line) for line in out.read_text().splitlines()]
    versus = out.with_suffix(".versus.jsonl").read_text().splitlines()
    versus = [json.loads(line) for line in versus]
    assert [r["task_id"] for r in plan] == [r["task_id"] for r in versus]
    engine = load(str(tiny_checkpoint), "cpu")
    tokens = [len(encode(engine, r["completion"].strip())) for r in versus if r["completion"]]
    assert tokens and max(tokens) <= 1  # one mask each (their indentation aside)
    assert any(len(encode(engine, r["completion"].strip())) > 1 for r in plan)


def test_a_versus_precision_runs_on_its_own_engine(tiny_checkpoint, monkeypatch):
    """Another precision loads the checkpoint again in it; the headline keeps its own."""
    import model

    real, loaded = model.load, []

    def load(path, device="cpu", precision="auto"):
        engine = real(path, device, precision)
        loaded.append((precision, engine.dtype))
        return engine

    monkeypatch.setattr(model, "load", load)
    metrics = bench_humaneval.main(checkpoint=str(tiny_checkpoint), limit=3, with_oracle=False,
                                   settings={"precision": "float32"},
                                   versus={"precision": "bfloat16"})
    assert loaded == [("float32", torch.float32), ("bfloat16", torch.bfloat16)]
    assert metrics["dtype"] == "float32" and metrics["versus"]["n"] == 3


@pytest.mark.parametrize("attempts", [0, 2])
def test_samples_record_each_task_as_the_summary_counts_it(tiny_checkpoint, tmp_path, attempts):
    out = tmp_path / "samples.jsonl"
    metrics = bench_humaneval.main(checkpoint=str(tiny_checkpoint), limit=4, with_oracle=False,
                                   attempts=attempts, samples=out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    ids = [t["task_id"] for t in load_tasks(DATA_DIR / SPLIT_FILES["single"], 4)]
    assert [row["task_id"] for row in rows] == ids
    assert sum(row["passed"] for row in rows) / 4 == metrics["pass@1"]
    assert sum(row["completion"] is not None for row in rows) / 4 == metrics["offered"]
    assert sum(row["withheld"] for row in rows) / 4 == metrics["withheld"]
    assert all(row["completion"] is None for row in rows if row["withheld"])
    if attempts == 0:  # unchecked: the tiny model's text is always offered
        assert metrics["offered"] == 1.0 and all(row["completion"] for row in rows)


def test_unknown_subcommand_is_rejected():
    assert bench.main(["nope"]) == 2


def _solutions(tasks):
    """What the server's model input is for each task (the line's newline follows the span)."""
    return {t["prompt"] + "\n" + t["suffix"]: t["canonical_solution"] for t in tasks}


def test_run_tasks_scores_a_perfect_and_an_empty_model(single_tasks, monkeypatch):
    solutions = _solutions(single_tasks)

    def fake_infill(engine, prefix, suffix, settings, cancel=None):
        text = solutions[prefix + suffix].rstrip("\n") if engine == "perfect" else ""
        return SimpleNamespace(text=text, elapsed_ms=2.0, forward_passes=1, cancelled=False)

    monkeypatch.setattr(model, "infill", fake_infill, raising=False)
    tasks = single_tasks[:4]  # a scripted sampler has no lengths to search
    variants = {"plan": bench_humaneval.product(ServerConfig(length_search=False))}
    with ThreadPoolExecutor(2) as pool:
        perfect = bench_humaneval.run_tasks("perfect", tasks, variants, pool)["plan"]
        empty = bench_humaneval.run_tasks("empty", tasks, variants, pool)["plan"]
    assert perfect == {"pass@1": 1.0, "exact_match": 1.0, "n": 4, "mean_latency_ms": 2.0,
                       "offered": 1.0, "withheld": 0.0, "pass_when_offered": 1.0,
                       "pass_any_suggestion": 1.0, "suggestions_per_task": 1.0}
    assert empty["pass@1"] == 0.0 and empty["exact_match"] == 0.0
    assert empty["offered"] == 0.0 and empty["withheld"] == 0.0


def test_an_explicit_request_counts_a_pass_among_its_alternatives(single_tasks, monkeypatch):
    """Greedy wrong, sampled right: pass@1 stays 0, one of the suggestions passes."""
    solutions = _solutions(single_tasks)

    def fake_infill(engine, prefix, suffix, settings, cancel=None):
        good = solutions[prefix + suffix].rstrip("\n")
        text = good if settings.temperature > 0 else good.rstrip() + " + 0.5"
        return SimpleNamespace(text=text, elapsed_ms=2.0, forward_passes=1, cancelled=False)

    monkeypatch.setattr(model, "infill", fake_infill, raising=False)
    tasks = [t for t in single_tasks[:20] if "return" in t["canonical_solution"]][:3]
    no_search = ServerConfig(length_search=False)  # the fake sampler has no lengths to search
    variants = {"explicit": bench_humaneval.product(no_search, explicit=True)}
    with ThreadPoolExecutor(2) as pool:
        got = bench_humaneval.run_tasks("m", tasks, variants, pool)["explicit"]
    assert got["pass@1"] == 0.0 and got["pass_any_suggestion"] == 1.0
    assert got["suggestions_per_task"] == 2.0  # the one-line try repeats the block: two kept
    assert got["mean_latency_ms"] == 8.0  # 3 + 1 tries


def test_the_model_sees_the_task_as_the_server_does(single_tasks):
    """Cursor at the start of the empty line: the prompt before it, the newline and the suffix
    after it, and the product's block plan (the line is empty, inside a function body)."""
    task = single_tasks[0]
    req = bench_humaneval.task_request(task, ServerConfig())
    assert req.prefix == task["prompt"] and req.suffix == "\n" + task["suffix"]
    assert req.plan.mode == "block" and not req.plan.single_line


def test_the_headline_retries_a_candidate_that_breaks_the_syntax(single_tasks, monkeypatch):
    """First candidate unparsable, second correct: the product's attempts keep the second."""
    solutions = _solutions(single_tasks)
    calls = []

    def fake_infill(engine, prefix, suffix, settings, cancel=None):
        calls.append(settings)
        good = solutions[prefix + suffix].rstrip("\n")
        text = good if settings.single_line else good + " ) ) :"  # the 2nd attempt is one line
        return SimpleNamespace(text=text, elapsed_ms=2.0, forward_passes=1, cancelled=False)

    monkeypatch.setattr(model, "infill", fake_infill, raising=False)
    tasks = single_tasks[:3]

    def attempts(n):
        cfg = ServerConfig(syntax_attempts=n, length_search=False)  # nothing to search
        return {"plan": bench_humaneval.product(cfg)}

    with ThreadPoolExecutor(2) as pool:
        single = bench_humaneval.run_tasks("m", tasks, attempts(1), pool)["plan"]
        assert single["pass@1"] == 0.0 and single["withheld"] == 1.0 and single["offered"] == 0
        unchecked = bench_humaneval.run_tasks("m", tasks, attempts(0), pool)["plan"]
        assert unchecked["offered"] == 1.0 and unchecked["pass@1"] == 0.0
        calls.clear()
        scored = bench_humaneval.run_tasks("m", tasks, attempts(3), pool)["plan"]
    assert scored["pass@1"] == 1.0 and scored["withheld"] == 0.0
    assert scored["mean_latency_ms"] == 4.0  # both attempts are counted
    assert len(calls) == 6 and calls[1].single_line and not calls[0].single_line


@pytest.mark.parametrize("split", sorted(SPLIT_FILES))
def test_the_syntax_check_never_withholds_a_correct_answer(split):
    """Every canonical solution, checked as the server checks a candidate: none is flagged
    (measured: 0 of 1,033 single-line and 0 of 5,815 multi-line), so withholding costs no pass."""
    from lsp_server.actions.inline import syntax_check

    tasks = load_tasks(DATA_DIR / SPLIT_FILES[split], limit=300)
    cfg = ServerConfig()
    flagged = [t["task_id"] for t in tasks
               if syntax_check(bench_humaneval.task_request(t, cfg))
               .added_errors(t["canonical_solution"].rstrip("\n"))]
    assert flagged == []


def test_a_withheld_answer_is_a_miss_even_where_a_blank_line_passes(single_tasks, monkeypatch):
    from model.execution import run_program

    [task] = [t for t in single_tasks if t["task_id"] == "SingleLineInfilling/HumanEval/20/L0"]
    assert run_program(program(task, "\n")).passed  # 27 of the 1,033 tasks pass with nothing

    def broken(engine, prefix, suffix, settings, cancel=None):
        return SimpleNamespace(text="x = (", elapsed_ms=1.0, forward_passes=1, cancelled=False)

    monkeypatch.setattr(model, "infill", broken, raising=False)
    variants = {"plan": bench_humaneval.product(ServerConfig(length_search=False))}
    with ThreadPoolExecutor(2) as pool:
        got = bench_humaneval.run_tasks("m", [task], variants, pool)["plan"]
    assert got["withheld"] == 1.0 and got["pass@1"] == 0.0 and got["pass_when_offered"] == 0.0


def test_typed_head_keeps_the_indentation_and_never_cuts_a_word():
    task = {"canonical_solution": "        if len(word) == 1:\n"}
    assert bench_humaneval.typed_head(task, 0.0) == ""
    assert bench_humaneval.typed_head(task, 0.5) == "        if len("
    assert bench_humaneval.typed_head(task, 0.3) == "        if "  # not "        if le"
    assert bench_humaneval.typed_head(task, 1.0) == "        if len(word) == 1:"


def test_kept_tail_is_the_line_end_cut_between_words_never_into_the_head():
    task = {"canonical_solution": "        if len(word) == 1:\n"}
    assert bench_humaneval.kept_tail(task, 0.0) == ""
    assert bench_humaneval.kept_tail(task, 0.3) == "== 1:"
    assert bench_humaneval.kept_tail(task, 0.45, "        if ") == ") == 1:"  # not "rd) == 1:"
    assert bench_humaneval.kept_tail(task, 0.9, "        if len(") == "word) == 1:"


@pytest.mark.parametrize(("typed", "rest"), [(0.5, 0.0), (0.4, 0.3)])
def test_a_partly_typed_true_line_is_completed_by_its_truth(typed, rest):
    """The truth between what was typed and what stays after the cursor is neither withheld
    (the line rule of ``inline_errors``) nor cut (``clean_inline``), on 300 tasks."""
    from lsp_server.actions.inline import clean_inline, inline_errors

    cfg = ServerConfig()
    lost = []
    for task in load_tasks(DATA_DIR / SPLIT_FILES["single"], limit=300):
        line = task["canonical_solution"].split("\n")[0].rstrip()
        head = bench_humaneval.typed_head(task, typed)
        tail = bench_humaneval.kept_tail(task, rest, head)
        middle = line[len(head) : len(line) - len(tail)]
        req = bench_humaneval.task_request(task, cfg, head, tail)
        if middle.strip() and (inline_errors(req)(middle) or clean_inline(req, middle) is None):
            lost.append(task["task_id"])
    assert lost == []


def test_no_variant_always_runs_second():
    variants = {"a": 1, "b": 2, "c": 3}
    orders = [[name for name, _ in bench_humaneval.in_turn(variants, i)] for i in range(4)]
    assert orders == [["a", "b", "c"], ["c", "b", "a"], ["a", "b", "c"], ["c", "b", "a"]]
