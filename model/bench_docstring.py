"""Insert docstring on HumanEval functions: `python -m model.bench docstring`.

Each HumanEval problem's function (its prompt and canonical solution, once per problem) loses
its docstring; the server's insert-docstring action
(``lsp_server.actions.docstring.run_docstring``) is asked on the function's ``def`` line and its
edit applied. Per variant:

* ``offered``: an edit came back;
* ``intact``: the file still passes the task's tests with the docstring in it (an insertion
  must never break the code);
* ``word_f1`` and ``rouge_l``: the inserted summary against the reference, the first sentence
  of the true docstring's description (lower-case words; a miss counts 0);
* ``garbled``: summaries that are not prose by the server's own rule (``lsp_server.prose``:
  text that repeats itself, ``product product``, the mark of positions committed in parallel
  that disagree; or a Python statement, ``result = []``);
* ``ms/doc``: the action's time.

``name`` is a baseline scored the same way: the function's name as a sentence (``Has close
elements.``). A summary that does not beat it tells the user nothing the name did not.
HumanEval's prompts (docstrings included) were removed from the training corpus.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from model.bench_humaneval import (
    DATA_DIR,
    EXEC_WORKERS,
    SPLIT_FILES,
    arguments,
    load_tasks,
    report,
    run_facts,
    served_engine,
    tested_in_turn,
    variant_table,
)

_EXAMPLES = re.compile(r"\s*(>>>|(for )?examples?\b|e\.g\.)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclasses.dataclass(frozen=True)
class Case:
    """One function without its docstring: the file, where its ``def`` is, what was there."""

    task: dict
    text: str  # the whole file, the entry point's docstring removed
    row: int  # the def line (0-based)
    column: int  # the function name's column on it
    reference: str  # the first sentence of the docstring's description


def _entry(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    return next((d for d in tree.body if isinstance(d, ast.FunctionDef) and d.name == name), None)


def summary_of(docstring: str) -> str:
    """The first sentence of a docstring's description (before any example), on one line."""
    description: list[str] = []
    for line in docstring.strip().split("\n"):
        if _EXAMPLES.match(line) or (description and not line.strip()):
            break
        description.append(line.strip())
    text = " ".join(part for part in description if part)
    return _SENTENCE_END.split(text, 1)[0].strip()


def cases(tasks: Sequence[dict]) -> list[Case]:
    """One case per HumanEval problem whose entry point has a docstring of its own lines."""
    out, seen = [], set()
    for task in tasks:
        problem = task["task_id"].rsplit("/", 1)[0]
        if problem in seen:
            continue
        seen.add(problem)
        source = task["prompt"] + task["canonical_solution"] + task["suffix"]
        func = _entry(ast.parse(source), task["entry_point"])
        docstring = ast.get_docstring(func) if func is not None else None
        if func is None or not docstring or func.body[0].lineno <= func.lineno:
            continue
        doc = func.body[0]
        lines = source.split("\n")
        text = "\n".join(lines[: doc.lineno - 1] + lines[doc.end_lineno :])
        column = lines[func.lineno - 1].index("def ") + 4
        out.append(Case(task, text, func.lineno - 1, column, summary_of(docstring)))
    return out


def inserted(case: Case, text: str | None) -> str:
    """The summary of the entry point's docstring in ``text`` ("" if none, or if it fails to
    parse)."""
    try:
        func = _entry(ast.parse(text or ""), case.task["entry_point"])
    except SyntaxError:
        return ""
    doc = ast.get_docstring(func) if func else None
    return " ".join((doc or "").split())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def word_f1(got: str, want: str) -> float:
    """F1 of the two texts' word multisets."""
    a, b = words(got), words(want)
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    return 2 * common / (len(a) + len(b)) if common else 0.0


def rouge_l(got: str, want: str) -> float:
    """ROUGE-L F1: the longest common word subsequence over both lengths."""
    a, b = words(got), words(want)
    if not a or not b:
        return 0.0
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], prev + 1 if x == y else max(row[j], row[j - 1])
    return 2 * row[-1] / (len(a) + len(b))


@dataclasses.dataclass
class Outcome:
    """What one variant inserted into one function."""

    case: Case
    text: str | None  # the file after the edit; None: nothing offered
    latency_ms: float
    passed: bool = False  # the tests still pass with it: intact

    @functools.cached_property
    def summary(self) -> str:
        """The inserted summary (parsed once: the metrics and the samples all read it)."""
        return inserted(self.case, self.text) if self.text is not None else ""


Variant = Callable[[object, Case], Outcome]


def _request(case: Case):
    from lsp_server.actions.docstring import docstring_request
    from lsp_server.documents import DocumentStore

    doc = DocumentStore().open("file:///humaneval.py", "python", 1, case.text)
    return doc, docstring_request(doc, case.row, case.column)


def server_docstring(cfg) -> Variant:
    """The server's insert-docstring action under ``cfg``."""
    from lsp_server.actions.docstring import run_docstring
    from lsp_server.edits import apply

    def run(engine, case):
        doc, req = _request(case)
        start = time.perf_counter()
        edits = run_docstring(engine, req, cfg, lambda: False) if req else None
        elapsed = (time.perf_counter() - start) * 1000
        return Outcome(case, apply(doc, edits) if edits else None, elapsed)

    return run


def name_baseline(engine, case: Case) -> Outcome:
    """The function's name as a sentence, in the server's own template."""
    doc, req = _request(case)
    if req is None:
        return Outcome(case, None, 0.0)
    sentence = case.task["entry_point"].replace("_", " ").strip().capitalize() + "."
    at = req.insert
    return Outcome(case, doc.text[:at] + req.opening + sentence + req.closing + doc.text[at:], 0.0)


def score(engine, items: Sequence[Case], variants: dict[str, Variant],
          pool: ThreadPoolExecutor) -> dict[str, list[Outcome]]:
    """Each variant's outcome on each case; the tests run while the next one is computed."""
    return tested_in_turn(engine, items, variants, pool, lambda outcome: outcome.text)


def summary(outcomes: Sequence[Outcome]) -> dict:
    """The means over all cases (a miss scores 0 and is not intact)."""
    n = len(outcomes)
    if not n:
        return {"n": 0}
    from lsp_server.prose import prose

    got = [o.summary for o in outcomes]
    return {
        "word_f1": sum(word_f1(g, o.case.reference) for g, o in zip(got, outcomes)) / n,
        "rouge_l": sum(rouge_l(g, o.case.reference) for g, o in zip(got, outcomes)) / n,
        "offered": sum(o.text is not None for o in outcomes) / n,
        "intact": sum(o.passed for o in outcomes) / n,
        "garbled": sum(bool(g) and not prose(g) for g in got) / n,
        "mean_words": sum(len(words(g)) for g in got) / n,
        "n": n,
        "mean_latency_ms": sum(o.latency_ms for o in outcomes) / n,
    }


def rows(outcomes: Sequence[Outcome]) -> list[dict]:
    """One record per function: the reference and what was inserted."""
    return [{"task_id": o.case.task["task_id"].rsplit("/", 1)[0], "reference": o.case.reference,
             "inserted": o.summary, "offered": o.text is not None, "intact": o.passed,
             "word_f1": round(word_f1(o.summary, o.case.reference), 3),
             "latency_ms": round(o.latency_ms, 1)} for o in outcomes]


def format_table(metrics: dict) -> str:
    """One line per variant."""
    head = (f"insert docstring  n={metrics['n']}  checkpoint={metrics['checkpoint']}  "
            f"dtype={metrics['dtype']}")
    columns = [("word_f1", "word_f1", 9, 3), ("rouge_l", "rouge_l", 9, 3),
               ("offered", "offered", 9, 3), ("intact", "intact", 8, 3),
               ("garbled", "garbled", 9, 3), ("words", "mean_words", 7, 1),
               ("ms/doc", "mean_latency_ms", 9, 1)]
    return variant_table(head, metrics["variants"], columns, 10)


def main(checkpoint: str = "model/weights", data: Path | None = None, limit: int | None = None,
         device: str = "cpu", json_out: Path | None = None, samples: Path | None = None,
         settings: dict | None = None, versus: dict | None = None) -> dict:
    """Strip the docstrings, insert them back with the server (``versus``: a second setting,
    side by side) and the name baseline, report."""
    from lsp_server.config import decode

    path = Path(data) if data else DATA_DIR / SPLIT_FILES["single"]
    items = cases(load_tasks(path))
    if limit and limit < len(items):
        items = items[:: len(items) // limit][:limit]
    cfg, engine = served_engine(checkpoint, device, settings)
    variants = {"server": server_docstring(cfg)}
    if versus:
        variants["versus"] = server_docstring(decode(settings, versus))
    variants["name"] = name_baseline
    with ThreadPoolExecutor(max_workers=EXEC_WORKERS) as pool:
        outcomes = score(engine, items, variants, pool)
    found = {name: summary(each) for name, each in outcomes.items()}
    metrics = {"word_f1": found["server"]["word_f1"], "n": len(items), "data": path.name,
               **run_facts(checkpoint, engine, settings, versus), "variants": found}
    report(metrics, format_table(metrics), json_out, samples,
           {name: rows(each) for name, each in outcomes.items()})
    return metrics


def cli(argv: Sequence[str] | None = None) -> int:
    """Parse `docstring` arguments and run `main`."""
    ap = arguments("docstring", __doc__, "function")
    main(**vars(ap.parse_args(argv)))
    return 0
