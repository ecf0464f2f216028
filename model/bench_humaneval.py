"""Execution-based HumanEval infilling benchmark: `python -m model.bench humaneval`."""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from model.execution import run_program

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "benchmarks" / "humaneval-infilling"
SPLIT_FILES = {
    "single": "HumanEval-SingleLineInfilling.jsonl.gz",
    "multi": "HumanEval-MultiLineInfilling.jsonl.gz",
}
# (threshold, steps_per_token), fast to slow.
DIAL = ((0.5, 0.125), (0.7, 0.25), (0.9, 0.5), (0.98, 1.0))
EXEC_WORKERS = 2


@dataclasses.dataclass
class Score:
    """Per-variant tallies: passes, exact matches and model time."""

    passed: list[Future | None] = dataclasses.field(default_factory=list)  # None: not offered
    exact: list[bool] = dataclasses.field(default_factory=list)
    latency_ms: list[float] = dataclasses.field(default_factory=list)
    withheld: list[bool] = dataclasses.field(default_factory=list)  # every candidate broke it
    task_ids: list[str] = dataclasses.field(default_factory=list)
    completions: list[str | None] = dataclasses.field(default_factory=list)  # None: not offered
    others: list[list[Future]] = dataclasses.field(default_factory=list)  # the alternatives

    def summary(self) -> dict:
        """pass@1, exact_match, n, mean model latency; how often a suggestion is offered, how
        often it is withheld for adding a syntax error, and pass@1 among the offered ones; with
        alternatives (an explicit request), how often one of the suggestions passes."""
        n, offered = len(self.exact), sum(c is not None for c in self.completions)
        passes = sum(f.result().passed for f in self.passed if f is not None)
        any_passes = sum((first is not None and first.result().passed)
                         or any(f.result().passed for f in others)
                         for first, others in zip(self.passed, self.others, strict=True))
        shown = offered + sum(len(others) for others in self.others)
        return {
            "pass@1": passes / n if n else 0.0,
            "exact_match": sum(self.exact) / n if n else 0.0,
            "n": n,
            "mean_latency_ms": sum(self.latency_ms) / n if n else 0.0,
            "offered": offered / n if n else 0.0,
            "withheld": sum(self.withheld) / n if n else 0.0,
            "pass_when_offered": passes / offered if offered else 0.0,
            "pass_any_suggestion": any_passes / n if n else 0.0,
            "suggestions_per_task": shown / n if n else 0.0,
        }

    def rows(self) -> list[dict]:
        """One record per task: what was offered (None: nothing) and how it fared."""
        return [
            {"task_id": task_id, "completion": completion,
             "passed": passed is not None and passed.result().passed, "exact_match": exact,
             "withheld": withheld, "latency_ms": round(ms, 1),
             "alternatives_passed": [f.result().passed for f in others]}
            for task_id, completion, passed, exact, withheld, ms, others in zip(
                self.task_ids, self.completions, self.passed, self.exact, self.withheld,
                self.latency_ms, self.others, strict=True)
        ]


def load_tasks(path: Path, limit: int | None = None) -> list[dict]:
    """Read a HumanEval-infilling .jsonl.gz; `limit` keeps every k-th task (deterministic)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        tasks = [json.loads(line) for line in f if line.strip()]
    if limit and limit < len(tasks):
        tasks = tasks[:: len(tasks) // limit][:limit]
    return tasks


def program(task: dict, completion: str) -> str:
    """The program whose clean exit means `completion` passes `task`."""
    return with_tests(task, task["prompt"] + completion + task["suffix"])


def with_tests(task: dict, source: str) -> str:
    """The program whose clean exit means the file `source` passes `task`'s tests."""
    return source + "\n" + task["test"] + "\ncheck(" + task["entry_point"] + ")\n"


def in_turn(variants: dict, i: int) -> list:
    """The variants' items for the i-th task, their order reversed every other task: the one
    run second shares the CPU with the tests of the one run first (on HumanEval's tasks under
    256 tokens, where two settings gave the same input, the second measured 7% slower), so no
    variant is always second."""
    items = list(variants.items())
    return items[::-1] if i % 2 else items


def tested_in_turn(engine, items: Sequence, variants: dict[str, Callable], pool: ThreadPoolExecutor,
                   source: Callable[[Any], str | None]) -> dict[str, list]:
    """Each variant's outcome on each item (its ``.task``), variants taking turns (``in_turn``).
    The file ``source(outcome)`` runs with the task's tests in ``pool`` while the next outcome
    is computed, and sets the outcome's ``passed`` (None: nothing to run, not passed)."""
    runs: dict[str, list] = {name: [] for name in variants}
    for i, item in enumerate(items):
        for name, variant in in_turn(variants, i):
            outcome = variant(engine, item)
            text = source(outcome)
            run = None if text is None else pool.submit(run_program, with_tests(item.task, text))
            runs[name].append((outcome, run))
    for each in runs.values():
        for outcome, run in each:
            outcome.passed = run is not None and run.result().passed
    return {name: [outcome for outcome, _ in each] for name, each in runs.items()}


def arguments(name: str, doc: str, unit: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: checkpoint, data, limit, device, json, samples,
    settings and versus (``unit``: what one sample line is about)."""
    ap = argparse.ArgumentParser(prog=f"python -m model.bench {name}", description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default="model/weights")
    ap.add_argument("--data", type=Path, help="a HumanEval-infilling .jsonl.gz")
    ap.add_argument("--limit", type=int, help=f"keep every k-th {unit}, N in all")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", dest="json_out", type=Path, help="write metrics here")
    ap.add_argument("--samples", type=Path, help=f"write one JSON line per {unit} here")
    ap.add_argument("--settings", type=json.loads,
                    help='server settings over the defaults, e.g. \'{"blockTokens": 32}\'')
    ap.add_argument("--versus", type=json.loads,
                    help="settings over --settings for a second variant, side by side")
    return ap


def report(metrics: dict, table: str, json_out: Path | None, samples: Path | None,
           rows: dict[str, list[dict]]) -> None:
    """Print the table; write the metrics and the samples where asked."""
    print(table)
    if json_out:
        write_json(json_out, metrics)
    if samples:
        write_samples(samples, rows)


def served_engine(checkpoint: str, device: str, settings: dict | None):
    """(server config from ``settings``, the checkpoint loaded in its precision, warmed up)."""
    from lsp_server.config import decode
    from model import load

    cfg = decode(settings)
    engine = load(checkpoint, device, cfg.precision)
    infill_warm_up(engine)
    return cfg, engine


def run_facts(checkpoint: str, engine, settings: dict | None, versus: dict | None) -> dict:
    """What a benchmark's metrics record about the run: checkpoint, dtype and settings."""
    return {"checkpoint": str(checkpoint), "dtype": str(engine.dtype).removeprefix("torch."),
            "server_settings": settings or {}, "versus": versus}


def variant_table(head: str, variants: dict[str, dict], columns: list[tuple[str, str, int, int]],
                  name_width: int) -> str:
    """``head``, then one line per variant; ``columns``: (label, metric, width, decimals)."""
    lines = [head, f"{'variant':<{name_width}}"
                   + "".join(f"{label:>{width}}" for label, _, width, _ in columns)]
    for name, s in variants.items():
        lines.append(f"{name:<{name_width}}" + "".join(
            f"{s[key]:{width}.{decimals}f}" for _, key, width, decimals in columns))
    return "\n".join(lines)


def write_json(path: Path, obj) -> None:
    """``obj`` as indented JSON at ``path`` (its folder made)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def write_samples(path: Path, rows: dict[str, list[dict]]) -> None:
    """One JSON line per row: the first variant's at ``path``, each other's beside it
    (``NAME.jsonl`` -> ``NAME.<variant>.jsonl``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for i, (name, each) in enumerate(rows.items()):
        out = path if i == 0 else path.with_suffix(f".{name}.jsonl")
        out.write_text("".join(json.dumps(r) + "\n" for r in each), encoding="utf-8")


def normalize(text: str) -> str:
    """The missing lines end with a newline; add it when the model stopped short."""
    return text if text.endswith("\n") else text + "\n"


def exact_match(completion: str, canonical: str) -> bool:
    """Same lines as the canonical solution, ignoring trailing whitespace."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.rstrip().splitlines()]

    return lines(completion) == lines(canonical)


Variant = Callable[[object, dict], Any]  # (engine, task) -> lsp_server.attempts.Attempted


def typed_head(task: dict, typed: float) -> str:
    """What the user typed of the missing line: its indentation, then the first ``typed`` of
    its content, cut at the last space or punctuation mark before that point."""
    line = task["canonical_solution"].split("\n")[0]
    indent = line[: len(line) - len(line.lstrip())]
    content = line[len(indent):]
    cut = int(len(content) * typed)
    while 0 < cut < len(content) and content[cut - 1].isalnum() and content[cut].isalnum():
        cut -= 1  # not inside a word
    return indent + content[:cut] if typed else ""


def kept_tail(task: dict, rest: float, head: str = "") -> str:
    """What stays after the cursor on the missing line: the last ``rest`` of its content, cut
    at a space or punctuation mark, never into ``head`` (an edit inside a line, such as an
    argument typed between the brackets an editor closed by itself)."""
    line = task["canonical_solution"].split("\n")[0].rstrip()
    cut = len(line) - int(len(line.strip()) * rest)
    while len(head) < cut < len(line) and line[cut - 1].isalnum() and line[cut].isalnum():
        cut += 1  # not inside a word
    return line[max(cut, len(head)):] if rest else ""


def task_request(task: dict, cfg, head: str = "", tail: str = ""):
    """The task as the server sees it: the missing line left empty in the document (or holding
    ``head``, what was typed of it, and ``tail``, what stays after it), the cursor after
    ``head`` (so the line's own newline follows the span, as in an editor)."""
    from lsp_server.actions.inline import inline_request
    from lsp_server.documents import DocumentStore

    text = task["prompt"] + head + tail + "\n" + task["suffix"]
    doc = DocumentStore().open("file:///humaneval.py", "python", 1, text)
    return inline_request(doc, task["prompt"].count("\n"), len(head.encode("utf-16-le")) // 2, cfg)


def product(cfg, explicit: bool = False, typed: float = 0.0, rest: float = 0.0) -> Variant:
    """The server's inline completion (``lsp_server.actions.inline.attempt_inline``) under ``cfg``:
    its length plan, context, attempts, syntax check and cleaning; ``explicit``: a request by
    key, with alternatives. With ``typed``, the user typed that much of the line first and
    the answer is what was typed plus the suggestion; with ``rest``, that share of the line's
    end stays after the cursor and ends the answer."""
    from lsp_server.actions.inline import attempt_inline

    def run(engine, task):
        head = typed_head(task, typed)
        tail = kept_tail(task, rest, head)
        chosen = attempt_inline(engine, task_request(task, cfg, head, tail), cfg, _never,
                                explicit)
        if (head or tail) and chosen.text is not None:
            chosen = dataclasses.replace(chosen, text=head + chosen.text + tail,
                                         texts=[head + t + tail for t in chosen.texts])
        return chosen

    return run


def oracle(cfg) -> Variant:
    """The canonical solution's exact token count as the budget, with no pad tail; one attempt."""
    from lsp_server.actions.common import decode_settings
    from lsp_server.actions.inline import clean_inline, inline_errors
    from lsp_server.attempts import best_of

    def run(engine, task):
        from model import infill
        from model.sampler import encode

        req = task_request(task, cfg)
        n = len(encode(engine, task["canonical_solution"].rstrip("\n")))
        fixed = dataclasses.replace(decode_settings(cfg, n, False, False, engine, block=True),
                                    fixed_length=True)
        return best_of([fixed], lambda s: infill(engine, req.prefix, req.suffix, s),
                       lambda result: clean_inline(req, result.text),
                       inline_errors(req) if cfg.syntax_attempts else None)

    return run


def on_engine(engine, variant: Variant) -> Variant:
    """``variant`` run on ``engine`` whatever engine it is given (another precision)."""
    infill_warm_up(engine)
    return lambda _engine, task: variant(engine, task)


def infill_warm_up(engine) -> None:
    """One small uncounted infill: first-call allocations happen before any timing."""
    from model import DecodeSettings, infill

    infill(engine, "def f(x):\n", "    return x\n", DecodeSettings(max_tokens=8))


def _never() -> bool:
    return False


def run_tasks(*args, **kwargs) -> dict[str, dict]:
    """Each variant's summary; the arguments are ``score_tasks``'s."""
    return {name: score.summary() for name, score in score_tasks(*args, **kwargs).items()}


def score_tasks(engine, tasks: Sequence[dict], variants: dict[str, Variant],
                pool: ThreadPoolExecutor) -> dict[str, Score]:
    """Complete each task once per variant; sandboxed execution overlaps the next inference.

    What a variant offers is inserted on the empty line (its newline kept); nothing offered
    is a miss.
    """
    scores = {name: Score() for name in variants}
    for i, task in enumerate(tasks):
        for name, variant in in_turn(variants, i):
            chosen = variant(engine, task)
            score = scores[name]
            if chosen.text is None:  # nothing offered: a miss, even where a blank line would pass
                score.passed.append(None)
                score.exact.append(False)
            else:
                completion = normalize(chosen.text)
                score.passed.append(pool.submit(run_program, program(task, completion)))
                score.exact.append(exact_match(completion, task["canonical_solution"]))
            score.others.append([pool.submit(run_program, program(task, normalize(text)))
                                 for text in chosen.texts[1:]])
            score.latency_ms.append(chosen.elapsed_ms)
            score.withheld.append(chosen.withheld)
            score.task_ids.append(task["task_id"])
            score.completions.append(chosen.text)
    return scores


def run_dial(engine, tasks: Sequence[dict], cfg, pool: ThreadPoolExecutor) -> list[dict]:
    """pass@1 and latency across a few (threshold, steps_per_token) settings, fast to slow."""
    points = []
    for threshold, spt in DIAL:
        dialed = msgspec.structs.replace(cfg, threshold=threshold, steps_per_token=spt)
        s = run_tasks(engine, tasks, {"dial": product(dialed)}, pool)["dial"]
        points.append(
            {
                "threshold": threshold,
                "steps_per_token": spt,
                "pass@1": s["pass@1"],
                "mean_latency_ms": s["mean_latency_ms"],
            }
        )
    return points


def plot_dial(points: Sequence[dict], title: str, path: Path) -> None:
    """pass@1 against mean model latency, one labelled point per dial setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [p["mean_latency_ms"] for p in points]
    ys = [p["pass@1"] for p in points]
    ax.plot(xs, ys, marker="o")
    for p, x, y in zip(points, xs, ys, strict=True):
        ax.annotate(
            f"t={p['threshold']} spt={p['steps_per_token']}",
            (x, y),
            fontsize=8,
            textcoords="offset points",
            xytext=(4, 4),
        )
    ax.set_ylim(0, max(ys) * 1.2 or 1.0)
    ax.set(xlabel="mean model latency per task (ms)", ylabel="pass@1", title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _explicit_rows(name: str, x: dict | None) -> list[tuple]:
    """Table rows for an explicit request's metrics (none when it was not run)."""
    if not x:
        return []
    return [(f"{name} ({x['suggestions_per_task']:.2f}/task)", x["pass@1"], None,
             x["mean_latency_ms"]),
            ("  any suggestion passes", x["pass_any_suggestion"], None, None)]


def format_table(metrics: dict) -> str:
    """A compact text table of the headline, the oracle line and the dial."""
    rows = [("inline_plan", metrics["pass@1"], metrics["exact_match"], metrics["mean_latency_ms"])]
    if metrics.get("oracle"):
        o = metrics["oracle"]
        rows.append(("oracle length", o["pass@1"], o["exact_match"], None))
    rows += _explicit_rows("explicit", metrics.get("explicit"))
    if metrics.get("versus"):
        v = metrics["versus"]
        rows.append(("versus", v["pass@1"], v["exact_match"], v["mean_latency_ms"]))
        rows.append((f"  offered {v['offered']:.3f}, pass@1 of those", v["pass_when_offered"],
                     None, None))
        rows += _explicit_rows("versus explicit", v.get("explicit"))
    for d in metrics.get("dial", []):
        rows.append(
            (
                f"t={d['threshold']} spt={d['steps_per_token']}",
                d["pass@1"],
                None,
                d["mean_latency_ms"],
            )
        )
    head = f"humaneval {metrics['split']}  n={metrics['n']}  checkpoint={metrics['checkpoint']}"
    head += f"  attempts={metrics.get('attempts')}  offered {metrics['offered']:.3f}"
    head += f"  withheld (syntax) {metrics['withheld']:.3f}"
    lines = [head, f"{'variant':<22}{'pass@1':>8}{'exact':>8}{'ms/task':>10}"]
    for name, p, e, ms in rows:
        e_s = f"{e:8.3f}" if e is not None else f"{'':>8}"
        ms_s = f"{ms:10.1f}" if ms is not None else f"{'':>10}"
        lines.append(f"{name:<22}{p:8.3f}{e_s}{ms_s}")
    return "\n".join(lines)


def main(
    checkpoint: str = "model/weights",
    split: str = "single",
    data: Path | None = None,
    limit: int | None = None,
    device: str = "cpu",
    json_out: Path | None = None,
    dial: bool = False,
    with_oracle: bool = True,
    attempts: int | None = None,
    samples: Path | None = None,
    explicit: bool = False,
    settings: dict | None = None,
    versus: dict | None = None,
    typed: float = 0.0,
    rest: float = 0.0,
) -> dict:
    """Run the benchmark, print a table, write JSON (and the dial plot) if asked; return metrics.

    ``settings`` (the server's, camelCase) go over its defaults; ``versus`` over those gives a
    second variant, run on each task right after the first (side by side). ``typed`` > 0
    measures the rest of a line: that share of the missing line is typed before asking;
    ``rest`` > 0 keeps that share of its end after the cursor (an edit inside a line).
    """
    from lsp_server.actions.common import decode_settings
    from lsp_server.config import decode
    from model import load

    path = Path(data) if data else DATA_DIR / SPLIT_FILES[split]
    tasks = load_tasks(path, limit)
    cfg, engine = served_engine(checkpoint, device, settings)  # model path aside
    if attempts is not None:
        cfg = msgspec.structs.replace(cfg, syntax_attempts=attempts)
    base = decode_settings(cfg, 8, False, False, engine, block=True)  # an empty line's
    variants = {"plan": product(cfg, typed=typed, rest=rest)}
    if with_oracle:
        variants["oracle"] = oracle(cfg)
    if explicit:
        variants["explicit"] = product(cfg, explicit=True)
    if versus:
        other = decode(settings, versus)
        variants["versus"] = product(other, typed=typed, rest=rest)
        if explicit:
            variants["versus_explicit"] = product(other, explicit=True)
        if other.precision != cfg.precision:  # the same checkpoint, loaded a second time
            second = load(checkpoint, device, other.precision)
            for name in ("versus", "versus_explicit")[: 1 + explicit]:
                variants[name] = on_engine(second, variants[name])
    with ThreadPoolExecutor(max_workers=EXEC_WORKERS) as pool:
        scores = score_tasks(engine, tasks, variants, pool)
        summary = {name: score.summary() for name, score in scores.items()}
        points = run_dial(engine, tasks, cfg, pool) if dial else None
    metrics = {
        **summary["plan"],
        "split": split if data is None else path.name,
        "checkpoint": str(checkpoint),
        "settings": {**dataclasses.asdict(base), "max_tokens": "inline_plan"},
        "attempts": cfg.syntax_attempts,
        "server_settings": settings or {},
        "dtype": str(engine.dtype).removeprefix("torch."),
        "typed": typed,
        "rest": rest,
    }
    metrics["oracle"] = (
        {k: summary["oracle"][k] for k in ("pass@1", "exact_match")} if with_oracle else None
    )
    keys = ("pass@1", "pass_any_suggestion", "suggestions_per_task", "mean_latency_ms")
    if explicit:
        metrics["explicit"] = {k: summary["explicit"][k] for k in keys}
    if versus:
        metrics["versus"] = {"server_settings": versus, **summary["versus"]}
        if explicit:
            metrics["versus"]["explicit"] = {k: summary["versus_explicit"][k] for k in keys}
    if points is not None:
        metrics["dial"] = points
    report(metrics, format_table(metrics), json_out, samples,  # the other variants beside
           {name: score.rows() for name, score in scores.items()})
    if json_out and points is not None:
        plot_dial(
            points,
            f"HumanEval {metrics['split']} (n={metrics['n']})",
            json_out.with_suffix(".png"),
        )
    return metrics


def cli(argv: Sequence[str] | None = None) -> int:
    """Parse `humaneval` arguments and run `main`."""
    ap = arguments("humaneval", __doc__, "task")
    ap.add_argument("--split", choices=sorted(SPLIT_FILES), default="single")
    ap.add_argument("--dial", action="store_true", help="sweep threshold/steps (plot next to JSON)")
    ap.add_argument("--no-oracle", dest="with_oracle", action="store_false")
    ap.add_argument("--attempts", type=int,
                    help="syntax-checked candidates (server default); 0: one, unchecked")
    ap.add_argument("--explicit", action="store_true",
                    help="also an explicit request: its alternatives, and how often one passes")
    ap.add_argument("--typed", type=float, default=0.0,
                    help="type this share of the missing line first: the rest of a line")
    ap.add_argument("--rest", type=float, default=0.0,
                    help="keep this share of the line's end after the cursor: inside a line")
    main(**vars(ap.parse_args(argv)))
    return 0
