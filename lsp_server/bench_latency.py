"""Server-side latency benchmark: p50/p95 per action on a ~2,000-line file, plus server RSS.

    python -m lsp_server.bench_latency [--model DIR] [--lines 2000] [--n 20] [--json OUT]
                                       [--settings '{"threshold": 0.5}'] [--versus '{...}']

A real client session (the demo's) drives the server subprocess with the default settings
(debounce off: that delay is the editor's, not the server's; inline requests are automatic,
as typing sends them, except ``inline_explicit``), or with
``--settings`` merged over them. The file is this repository's
own Python source, cut to ``--lines`` lines. With ``--versus``, a second server (those settings
over ``--settings``) gets each request right after the first: side by side, with the ratio of
the p50s. Timed per request, client side:

* ``inline_line``: inline completion mid-line, two thirds into a complete line (its rest stays);
* ``inline_typing``: the same cursor on a line typed that far (its rest removed);
* ``inline_block``: inline completion on a freshly opened empty line inside a function body;
* ``typed_through``: after each block suggestion, its first character typed and the
  completion asked again (answered with the rest of the suggestion, no model run);
* ``inline_explicit``: the same empty line asked for explicitly (a key: up to
  ``explicitCandidates`` different suggestions);
* ``docstring``: "Insert docstring" resolved on a function without one;
* ``fix_function``: "Fix this function" resolved on a function with no diagnostic (the
  lines the model scores least likely are rewritten).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_server import regions
from lsp_server.demo import Demo, locate
from lsp_server.syntax_check import indentation

ROOT = Path(__file__).resolve().parents[1]


def source_file(lines: int) -> str:
    """``lines`` lines of the repository's own Python code, its docstrings removed."""
    text = "".join(p.read_text() for p in sorted((ROOT / "lsp_server").rglob("*.py")))
    text += "".join(p.read_text() for p in sorted((ROOT / "model").glob("*.py")))
    return "\n".join(strip_docstrings(text).split("\n")[:lines]) + "\n"


def strip_docstrings(text: str) -> str:
    """The text without its docstring lines, so that "Insert docstring" has work to do."""
    source = text.encode()
    drop: set[int] = set()
    for doc in regions.captures("python", regions.parse("python", source), {"docstring"}):
        drop.update(range(doc.start_point[0], doc.end_point[0] + 1))
    return "\n".join(line for i, line in enumerate(text.split("\n")) if i not in drop)


def pick(text: str, pattern: str, n: int) -> list[int]:
    """Line numbers of up to ``n`` matches of ``pattern``, spread over the file."""
    rows = [i for i, line in enumerate(text.split("\n")) if re.match(pattern, line)]
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def summary(samples: list[float]) -> dict:
    """p50/p95/mean in milliseconds (just ``n`` when there are none)."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(samples), "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(p95, 1), "mean_ms": round(statistics.fmean(ordered), 1)}


class Bench(Demo):
    """The demo's client session with the document edits the benchmark needs."""

    uri = "file:///bench/big_module.py"
    version = 1
    def open(self, text: str) -> None:
        self.text = text
        self.answered: dict[str, int] = {}  # action -> requests that returned an edit
        self.typed_through: list[float] = []
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=self.uri, language_id="python",
                                                 version=self.version, text=text)))

    async def timed(self, name: str, request) -> tuple[float, list]:
        """Wall milliseconds of one request and its edits; counts it under ``name`` when it
        returned an edit."""
        t0 = time.perf_counter()
        edits = await request
        self.answered[name] = self.answered.get(name, 0) + bool(edits)
        return (time.perf_counter() - t0) * 1000, edits

    async def timed_edit(self, name: str, request) -> float:
        """Wall milliseconds of one request (``timed``)."""
        return (await self.timed(name, request))[0]

    async def inline_line(self, row: int) -> float:
        line = self.text.split("\n")[row]
        pos = types.Position(line=row, character=len(line.rstrip()) * 2 // 3)
        return await self.timed_edit("inline_line", self.inline(self.uri, pos, automatic=True))

    def edit(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """An incremental change from (row, column) to (row, column), as an editor sends it
        (the benchmark's text is ASCII, so columns are characters)."""
        self.version += 1
        lines = self.text.split("\n")
        at = [sum(len(line) + 1 for line in lines[:row]) + col for row, col in (start, end)]
        self.text = self.text[: at[0]] + text + self.text[at[1] :]
        rng = types.Range(start=types.Position(*start), end=types.Position(*end))
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri,
                                                                version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)]))

    async def inline_typing(self, row: int) -> float:
        line = self.text.split("\n")[row]
        col = len(line.rstrip()) * 2 // 3
        self.edit((row, col), (row, len(line)), "")  # the line as typed so far
        pos = types.Position(line=row, character=col)
        ms = await self.timed_edit("inline_typing", self.inline(self.uri, pos, automatic=True))
        self.edit((row, col), (row, col), line[col:])
        return ms

    async def inline_block(self, row: int, explicit: bool = False) -> float:
        lines = self.text.split("\n")
        indent = indentation(lines[row + 1])
        end = len(lines[row])
        self.edit((row, end), (row, end), "\n" + indent)  # Enter after the opener
        pos = types.Position(line=row + 1, character=len(indent))
        if explicit:
            name, request = "inline_explicit", self.inline(self.uri, pos)
        else:
            name, request = "inline_block", self.inline(self.uri, pos, automatic=True)
        ms, edits = await self.timed(name, request)
        if not explicit and edits and len(edits[0].new_text) > 1:  # type a character, ask again
            head = edits[0].new_text[0]
            self.edit((row + 1, len(indent)), (row + 1, len(indent)), head)
            after = types.Position(line=row + 1, character=len(indent) + 1)
            rest = self.inline(self.uri, after, automatic=True)
            self.typed_through.append(await self.timed_edit("typed_through", rest))
            self.edit((row + 1, len(indent)), (row + 1, len(indent) + 1), "")
        self.edit((row, end), (row + 1, len(indent)), "")
        return ms

    async def resolve(self, row: int, title: str, name: str) -> float:
        """The code action ``title`` resolved mid-line at ``row``, counted under ``name``."""
        pos = types.Position(line=row, character=len(self.text.split("\n")[row]) // 2)
        return await self.timed_edit(name, self.action(self.uri, pos, title))


def server_rss(bench: Bench) -> dict[str, int]:
    """The server process's resident and peak memory, MB (Linux)."""
    server = bench.client._server
    if server is None:
        return {}
    status = Path(f"/proc/{server.pid}/status").read_text()
    return {k: int(v.split()[0]) // 1024 for k, v in
            (line.split(":", 1) for line in status.splitlines()) if k in ("VmRSS", "VmHWM")}


async def run(model: str | None, lines: int, n: int, settings: dict | None = None,
              versus: dict | None = None) -> dict:
    """Open the file, warm up, time each action ``n`` times; read the server's RSS. With
    ``versus``, a second server answers each request right after the first."""
    layers = [settings or {}] + ([{**(settings or {}), **versus}] if versus else [])
    benches = [Bench() for _ in layers]
    text = source_file(lines)
    for bench, layer in zip(benches, layers):
        if not await bench.start(model, {"debounceMs": 0, **layer}):
            raise SystemExit("model failed to load")
        bench.open(text)
        await bench.inline(bench.uri, locate(text, "def "))  # warm-up, uncounted
    body = pick(text, r"^ {8}\S.*\S{8}", n)
    openers = pick(text, r"^ {4}(def|for|if|with) .*:$", n)
    defs = pick(text, r"^(    )?def \w+\(", n)
    plan = {
        "inline_line": (body, Bench.inline_line),
        "inline_typing": (body, Bench.inline_typing),
        "inline_block": (openers, Bench.inline_block),
        "inline_explicit": (openers, lambda b, r: b.inline_block(r, explicit=True)),
        "docstring": (defs, lambda b, r: b.resolve(r, "Insert docstring", "docstring")),
        "fix_function": (defs, lambda b, r: b.resolve(r, "Fix this function", "fix_function")),
    }
    times: list[dict[str, list[float]]] = [{name: [] for name in plan} for _ in benches]
    for name, (rows, action) in plan.items():
        for row in rows:
            for bench, timed in zip(benches, times):
                timed[name].append(await action(bench, row))
    results: list[dict[str, Any]] = []
    for bench, timed, layer in zip(benches, times, layers):
        actions = {name: summary(samples) for name, samples in timed.items()}
        actions["typed_through"] = summary(bench.typed_through)
        rss = server_rss(bench)
        await bench.stop()
        results.append({"file_lines": len(text.split("\n")), "settings": layer,
                        "actions": actions, "with_edit": bench.answered,
                        "server_rss_mb": rss.get("VmRSS"), "server_peak_rss_mb": rss.get("VmHWM")})
    result = {**results[0], "settings": settings or {}}
    if versus:
        result["versus"] = {**results[1], "settings": versus}
        result["p50_ratio"] = {name: round(row["p50_ms"] / other["p50_ms"], 2)
                               for (name, row), other in
                               zip(results[0]["actions"].items(), results[1]["actions"].values())
                               if row["n"] and other["n"]}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lsp_server.bench_latency")
    parser.add_argument("--model", default=None)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--settings", type=json.loads, default=None,
                        help="JSON object of server settings (camelCase) over the defaults")
    parser.add_argument("--versus", type=json.loads, default=None,
                        help="settings over --settings for a second server, side by side")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.model, args.lines, args.n, args.settings, args.versus))
    for run_result in [result] + ([result["versus"]] if args.versus else []):
        print(f"settings {json.dumps(run_result['settings'])}")
        for name, row in run_result["actions"].items():
            if row["n"]:
                print(f"{name:>15}  p50 {row['p50_ms']:>7.1f} ms  p95 {row['p95_ms']:>7.1f} ms  "
                      f"(n={row['n']}, {run_result['with_edit'].get(name, 0)} with an edit)")
        print(f"server RSS {run_result['server_rss_mb']} MB (peak "
              f"{run_result['server_peak_rss_mb']} MB), file {run_result['file_lines']} lines")
    if args.versus:
        print(f"p50 ratio (first / versus): {result['p50_ratio']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
