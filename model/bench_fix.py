""""Fix this function" on planted bugs: `python -m model.bench fix`.

Each HumanEval single-line infilling task's missing line gets one small bug, the kind a person
makes (a flipped comparison or operator, an off-by-one number, ``and``/``or``, a dropped
``not``, ``min``/``max``, one variable for another), kept only when the task's tests then
fail. The server's fix (``lsp_server.actions.fix.run_fix``) is asked on that function, and its
edits applied:

* ``located``: no diagnostic, so the model picks what to change (the fix as the user gets it
  on code that parses); ``located`` is how often it changed the buggy line, ``chance`` what
  changing as many body lines at random would hit;
* ``flagged``: a diagnostic on the buggy line (what a type checker or a failing test's
  traceback would point at);
* ``clean``: the fix asked on the same function without the bug, where the right answer is
  no change.

``repaired`` is how often the tests pass after the fix (before it, never); ``restored`` how
often the original text comes back exactly; ``broke`` how often a fix was offered and the tests
fail after it (on ``clean``: correct code broken).

``--syntax`` plants slips that break the syntax instead (a header's colon or a closing bracket
dropped, ``==`` written ``=``, a comma between items dropped, a keyword misspelt), kept only
where the file then does not parse: ``located`` is the fix as the user gets it there (no
diagnostic: the server finds the broken lines itself), ``flagged`` a diagnostic on the line.
``--kinds`` plants only the slips of the kinds named, among them three ``--syntax`` leaves out
(its figures stay comparable): a closing bracket typed twice (``stray``), an opening bracket
dropped where its closer is on the row (``opener``), a string's closing quote dropped
(``quote``), the line indented 4 spaces deeper or 2 shallower (``indent``).

``--typos`` plants a misspelt variable instead (a letter dropped, two swapped, one doubled:
``reslt``), which parses and fails with a NameError; ``clean`` is left out as for ``--syntax``.
"""

from __future__ import annotations

import builtins
import dataclasses
import io
import keyword
import random
import time
import tokenize
from collections import Counter
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
    with_tests,
)
from model.execution import run_program

# token -> its buggy twin
SWAPS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==", "+": "-",
         "-": "+", "*": "+", "//": "%", "%": "//", "+=": "-=", "-=": "+=", "and": "or",
         "or": "and", "True": "False", "False": "True", "min": "max", "max": "min"}
KINDS = {"<": "comparison", "<=": "comparison", ">": "comparison", ">=": "comparison",
         "==": "comparison", "!=": "comparison", "and": "boolean", "or": "boolean",
         "True": "boolean", "False": "boolean", "min": "builtin", "max": "builtin"}
TRIES = 3  # mutants executed per task before giving it up
TYPOS = {"return": "retrun", "for": "fro", "in": "ni", "if": "fi", "while": "whiel",
         "else": "esle", "elif": "elfi", "not": "nto", "and": "adn", "lambda": "lamda"}
CLOSING = (")", "]", "}")
OPENING = ("(", "[", "{")
SYNTAX_KINDS = ("assign", "bracket", "colon", "comma", "keyword")  # what --syntax plants
MORE_SYNTAX_KINDS = ("indent", "opener", "quote", "stray")  # only where --kinds names them


@dataclasses.dataclass(frozen=True)
class Bug:
    """One task with a planted bug: the buggy file, where the bug is and what it was."""

    task: dict
    text: str  # the file with the bug: prompt + buggy line + suffix
    row: int
    kind: str
    line: str  # the buggy line


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    """Python tokens of ``text``; for a piece of a longer statement, those before the break."""
    tokens = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            tokens.append(tok)
    except (tokenize.TokenError, SyntaxError):
        pass
    return tokens


def variables(text: str) -> list[str]:
    """The lower-case names ``text`` binds or uses, sorted: no keyword, builtin, attribute or
    module (nor a type, such as ``List``)."""
    tokens = _tokens(text)
    pairs = list(zip([None, *tokens], tokens))
    modules = {tok.string for prev, tok in pairs if prev and prev.string in ("import", "from")}
    return sorted({tok.string for prev, tok in pairs
                   if tok.type == tokenize.NAME and tok.string[:1].islower()
                   and not keyword.iskeyword(tok.string) and not hasattr(builtins, tok.string)
                   and tok.string not in modules and not (prev and prev.string == ".")})


def mutants(line: str, names: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(kind, buggy line) for each one-token bug the line admits, in line order; a variable
    among ``names`` becomes the next of them."""
    body = line.lstrip()
    indent = len(line) - len(body)
    tokens = _tokens(body)
    out = []
    for prev, tok in zip([None, *tokens], tokens):
        if tok.start[0] != 1:
            continue
        at, end = indent + tok.start[1], indent + tok.end[1]
        if tok.string in SWAPS and tok.type in (tokenize.OP, tokenize.NAME):
            out.append((KINDS.get(tok.string, "arithmetic"),
                        line[:at] + SWAPS[tok.string] + line[end:]))
        elif tok.type == tokenize.NUMBER and tok.string.isdigit():
            out.append(("number", line[:at] + str(int(tok.string) + 1) + line[end:]))
        elif tok.string == "not" and line[end : end + 1] == " ":
            out.append(("negation", line[:at] + line[end + 1 :]))
        elif tok.string in names and len(names) > 1 and not (prev and prev.string == "."):
            other = names[(names.index(tok.string) + 1) % len(names)]
            out.append(("name", line[:at] + other + line[end:]))
    return out


def typo_mutants(line: str, names: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(``"typo"``, line) for each way to misspell a variable among ``names`` (3 letters or
    more) that the line uses: its middle letter dropped, its second and third swapped, its last
    doubled; none that spells a name of ``names``, a keyword or a builtin."""
    body = line.lstrip()
    indent = len(line) - len(body)
    out = []
    tokens = _tokens(body)
    for prev, tok in zip([None, *tokens], tokens):
        name = tok.string
        if tok.start[0] != 1 or name not in names or len(name) < 3 or (
                prev and prev.string == "."):
            continue
        at, end = indent + tok.start[1], indent + tok.end[1]
        half = len(name) // 2
        for typo in (name[:half] + name[half + 1 :], name[0] + name[2] + name[1] + name[3:],
                     name + name[-1]):
            if typo not in names and not keyword.iskeyword(typo) and not hasattr(builtins, typo):
                out.append(("typo", line[:at] + typo + line[end:]))
    return list(dict.fromkeys(out))


def syntax_mutants(line: str, names: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(kind, broken line) for each one-token slip of the line that may break the syntax, in
    line order (``names``: unused, as ``mutants`` takes them)."""
    body = line.lstrip()
    indent = len(line) - len(body)
    out = []
    tokens = _tokens(body)
    for i, tok in enumerate(tokens):
        if tok.start[0] != 1:
            continue
        at, end = indent + tok.start[1], indent + tok.end[1]
        if tok.string in OPENING and _closed_on_row(tokens, i):
            out.append(("opener", line[:at] + line[end:]))
        elif tok.string == ":" and not line[end:].strip():
            out.append(("colon", line[:at] + line[end:]))
        elif tok.string == "==":
            out.append(("assign", line[:at] + "=" + line[end:]))
        elif tok.string in CLOSING:
            out.append(("bracket", line[:at] + line[end:]))
            out.append(("stray", line[:end] + tok.string + line[end:]))
        elif tok.type == tokenize.STRING and tok.string[-1] in "'\"" and tok.string[-3:] not in (
                "'\'\'", '"""'):
            out.append(("quote", line[: end - 1] + line[end:]))
        elif tok.string == "," and line[end : end + 1] == " ":
            out.append(("comma", line[:at] + line[end:]))
        elif tok.type == tokenize.NAME and tok.string in TYPOS:
            out.append(("keyword", line[:at] + TYPOS[tok.string] + line[end:]))
    out.append(("indent", "    " + line))
    if indent >= 4:
        out.append(("indent", line[2:]))
    return out


def _closed_on_row(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """Whether the opening bracket ``tokens[i]`` is closed on the first row."""
    depth = 0
    for tok in tokens[i:]:
        if tok.start[0] != 1:
            return False
        depth += (tok.string in OPENING) - (tok.string in CLOSING)
        if not depth:
            return True
    return False


def plant(tasks: Sequence[dict], pool: ThreadPoolExecutor, syntax: bool = False,
          kinds: Sequence[str] = SYNTAX_KINDS, typos: bool = False) -> list[Bug]:
    """A bug for each task that admits one the tests catch (seeded by the task id); ``syntax``:
    one of ``kinds`` that leaves the file unparsed; ``typos``: a misspelt variable."""
    from lsp_server.syntax_check import python_parses

    bugs = []
    for task in tasks:
        line = task["canonical_solution"].split("\n")[0]
        names = [n for n in variables(task["prompt"] + line + "\n" + task["suffix"])
                 if n != task["entry_point"]]
        options = (syntax_mutants if syntax else typo_mutants if typos else mutants)(line, names)
        options = [option for option in options if not syntax or option[0] in kinds]
        random.Random(task["task_id"]).shuffle(options)
        if syntax:
            options = [(kind, buggy) for kind, buggy in options
                       if not python_parses(task["prompt"] + buggy + "\n" + task["suffix"])]
        texts = [task["prompt"] + buggy + "\n" + task["suffix"] for _, buggy in options[:TRIES]]
        results = list(pool.map(run_program, [with_tests(task, t) for t in texts]))
        for (kind, buggy), text, result in zip(options, texts, results):
            if not result.passed:
                bugs.append(Bug(task, text, task["prompt"].count("\n"), kind, buggy))
                break
    return bugs


@dataclasses.dataclass
class Outcome:
    """What one fix did to one bug."""

    bug: Bug
    fixed: str | None  # the file after the fix; None: no fix offered
    rows: list[int]  # the rows it rewrote
    candidates: int  # body rows it could pick from
    latency_ms: float
    passed: bool = False


Variant = Callable[[object, Bug], Outcome]


def original(bug: Bug) -> str:
    """The task's file without the bug (its true line)."""
    task = bug.task
    return task["prompt"] + task["canonical_solution"].split("\n")[0] + "\n" + task["suffix"]


def server_fix(cfg, flagged: bool, clean: bool = False) -> Variant:
    """The server's fix under ``cfg``; ``flagged``: a diagnostic points at the buggy line;
    ``clean``: asked on the file without the bug (what a fix does to code that is right)."""
    from lsp_server.actions.fix import fix_request, run_fix
    from lsp_server.documents import DocumentStore
    from lsp_server.edits import apply

    def run(engine, bug):
        doc = DocumentStore().open("file:///humaneval.py", "python", 1,
                                   original(bug) if clean else bug.text)
        indent = len(bug.line) - len(bug.line.lstrip())
        req = fix_request(doc, bug.row, indent, [bug.row] if flagged else None)
        if req is None:
            return Outcome(bug, None, [], 0, 0.0)
        start = time.perf_counter()
        edits = run_fix(engine, req, cfg, lambda: False)
        elapsed = (time.perf_counter() - start) * 1000
        rows = sorted({row for e in edits or [] for row in edited_rows(e.range)})
        return Outcome(bug, apply(doc, edits) if edits else None, rows,
                       len(req.candidates), elapsed)

    return run


def edited_rows(span) -> range:
    """The rows an edit's LSP range replaces (not the row it ends at, at column 0)."""
    last = span.end.line - (span.end.character == 0 and span.end.line > span.start.line)
    return range(span.start.line, last + 1)


def score(engine, bugs: Sequence[Bug], variants: dict[str, Variant],
          pool: ThreadPoolExecutor) -> dict[str, list[Outcome]]:
    """Each variant's outcome on each bug; the tests of a fix run while the next is computed."""
    return tested_in_turn(engine, bugs, variants, pool, lambda outcome: outcome.fixed)


def summary(outcomes: Sequence[Outcome]) -> dict:
    """repaired, restored, located (and its chance level), offered, broke (offered, and the
    tests fail after it), latency, repaired by kind."""
    n = len(outcomes)
    if not n:
        return {"n": 0}
    kinds = Counter(o.bug.kind for o in outcomes)
    return {
        "repaired": sum(o.passed for o in outcomes) / n,
        "restored": sum(o.fixed == original(o.bug) for o in outcomes) / n,
        "located": sum(o.bug.row in o.rows for o in outcomes) / n,
        "chance": sum(len(o.rows) / o.candidates for o in outcomes if o.candidates) / n,
        "offered": sum(o.fixed is not None for o in outcomes) / n,
        "broke": sum(o.fixed is not None and not o.passed for o in outcomes) / n,
        "n": n,
        "mean_latency_ms": sum(o.latency_ms for o in outcomes) / n,
        "repaired_by_kind": {k: sum(o.passed for o in outcomes if o.bug.kind == k) / kinds[k]
                             for k in sorted(kinds)},
        "bugs_by_kind": dict(sorted(kinds.items())),
    }


def _fixed_line(o: Outcome) -> str | None:
    """What the fix left on the buggy line (None: no fix, or it removed or added lines)."""
    if o.fixed is None or o.fixed.count("\n") != o.bug.text.count("\n"):
        return None
    return o.fixed.split("\n")[o.bug.row]


def rows(outcomes: Sequence[Outcome]) -> list[dict]:
    """One record per bug: the bug, the rows chosen, and what the fix left on the buggy line."""
    return [{"task_id": o.bug.task["task_id"], "kind": o.bug.kind, "buggy": o.bug.line,
             "canonical": o.bug.task["canonical_solution"].split("\n")[0],
             "fixed": _fixed_line(o), "offered": o.fixed is not None,
             "lines_added": None if o.fixed is None
             else o.fixed.count("\n") - o.bug.text.count("\n"),
             "rows": [r - o.bug.row for r in o.rows], "passed": o.passed,
             "latency_ms": round(o.latency_ms, 1)} for o in outcomes]


def format_table(metrics: dict) -> str:
    """One line per variant."""
    kind = "syntax bugs" if metrics.get("syntax") else "bugs"
    head = (f"fix on planted {kind}  n={metrics['n']} of {metrics['tasks']} tasks  "
            f"checkpoint={metrics['checkpoint']}  dtype={metrics['dtype']}")
    columns = [("repaired", "repaired", 9, 3), ("restored", "restored", 9, 3),
               ("located", "located", 9, 3), ("chance", "chance", 8, 3),
               ("offered", "offered", 9, 3), ("broke", "broke", 7, 3),
               ("ms/bug", "mean_latency_ms", 9, 1)]
    return variant_table(head, metrics["variants"], columns, 18)


def main(checkpoint: str = "model/weights", data: Path | None = None, limit: int | None = None,
         device: str = "cpu", json_out: Path | None = None, samples: Path | None = None,
         settings: dict | None = None, versus: dict | None = None, syntax: bool = False,
         kinds: str | None = None, typos: bool = False) -> dict:
    """Plant the bugs (``syntax``: ones that break the syntax, of ``kinds`` (comma-separated)
    when given; no ``clean`` variant then), run the fixes (``versus``: a second setting side by
    side), report."""
    from lsp_server.config import decode

    path = Path(data) if data else DATA_DIR / SPLIT_FILES["single"]
    planted = tuple(kinds.split(",")) if kinds else SYNTAX_KINDS
    unknown = set(planted) - {*SYNTAX_KINDS, *MORE_SYNTAX_KINDS}
    if unknown:
        raise SystemExit(f"unknown slip kinds: {', '.join(sorted(unknown))}")
    syntax = syntax or bool(kinds)
    tasks = load_tasks(path, limit)
    cfg, engine = served_engine(checkpoint, device, settings)
    variants = {"located": server_fix(cfg, False), "flagged": server_fix(cfg, True),
                "clean": server_fix(cfg, False, clean=True)}
    if versus:
        other = decode(settings, versus)
        variants |= {"versus_located": server_fix(other, False),
                     "versus_flagged": server_fix(other, True),
                     "versus_clean": server_fix(other, False, clean=True)}
    if syntax or typos:  # without the bug the file is the plain benchmark's clean case
        variants = {name: run for name, run in variants.items() if not name.endswith("clean")}
    with ThreadPoolExecutor(max_workers=EXEC_WORKERS) as pool:
        bugs = plant(tasks, pool, syntax, planted, typos)
        outcomes = score(engine, bugs, variants, pool)
    found = {name: summary(each) for name, each in outcomes.items()}
    metrics = {"repaired": found["located"]["repaired"], "n": len(bugs), "tasks": len(tasks),
               "data": path.name, "syntax": syntax, **({"kinds": list(planted)} if kinds else {}),
               **({"typos": True} if typos else {}),
               **run_facts(checkpoint, engine, settings, versus),
               "variants": found}
    report(metrics, format_table(metrics), json_out, samples,
           {name: rows(each) for name, each in outcomes.items()})
    return metrics


def cli(argv: Sequence[str] | None = None) -> int:
    """Parse `fix` arguments and run `main`."""
    ap = arguments("fix", __doc__, "task")
    ap.add_argument("--syntax", action="store_true", help="plant slips that break the syntax")
    ap.add_argument("--kinds", help="plant only these syntax slips (comma-separated), e.g. "
                    "stray,quote,indent")
    ap.add_argument("--typos", action="store_true", help="plant misspelt variables")
    main(**vars(ap.parse_args(argv)))
    return 0
