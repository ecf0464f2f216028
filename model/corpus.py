"""Training corpus: the Python source already installed on the machine.

Collects every ``*.py`` under the stdlib and site-packages, drops exact duplicates (after
whitespace normalization) and any file that contains a HumanEval-infilling snippet, and writes
``corpus.jsonl`` (one ``{"path", "text"}`` per file) plus ``stats.json``.

Runs on the training machine too: stdlib only (no msgspec, no pygls).

    python -m model.corpus --out DIR [--roots ...] [--bench FILE ...]
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import os
import site
import sys
import sysconfig
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

MAX_FILE_BYTES = 1 << 20
MIN_SNIPPET_CHARS = 40
MIN_SNIPPET_LINES = 2
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH_DIR = REPO_ROOT.parent / "shared" / "benchmarks" / "humaneval-infilling"
_BARE_STATEMENTS = {"return", "pass", "break", "continue", "else", "try", "finally", "raise"}


# ---------------------------------------------------------------- discovery


def default_roots() -> list[Path]:
    """Existing stdlib, purelib/platlib and site-packages directories, each once."""
    paths = sysconfig.get_paths()
    candidates = [paths["stdlib"], paths["purelib"], paths["platlib"], *site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        candidates.append(site.getusersitepackages())
    roots, seen = [], set()
    for candidate in map(Path, candidates):
        real = candidate.resolve()
        if candidate.is_dir() and real not in seen:
            seen.add(real)
            roots.append(candidate)
    return roots


def _candidate_files(roots: Iterable[Path]) -> Iterator[Path]:
    """``*.py`` regular files up to MAX_FILE_BYTES, each real path once, in sorted order."""
    seen: set[str] = set()
    for root in roots:
        # followlinks=False: symlinked directories are never entered, so no loops.
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(".py"):
                    continue
                real = os.path.realpath(os.path.join(dirpath, name))
                if real in seen:
                    continue
                seen.add(real)
                try:
                    if os.path.isfile(real) and os.path.getsize(real) <= MAX_FILE_BYTES:
                        yield Path(real)
                except OSError:
                    continue


def read_source(path: Path) -> str | None:
    """UTF-8 text of a source file with CRLF folded to LF, or None if unreadable/binary."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        return None


def find_python_files(roots: Iterable[Path]) -> Iterator[Path]:
    """Readable, decodable, non-binary ``*.py`` files under roots, each real path once."""
    return (path for path in _candidate_files(roots) if read_source(path) is not None)


def normalize(text: str) -> str:
    """Strip trailing whitespace per line and drop blank lines (the dedupe/contamination view)."""
    return "\n".join(line for line in (raw.rstrip() for raw in text.splitlines()) if line)


# ---------------------------------------------------------------- decontamination


def _function_snippets(source: str) -> Iterator[str]:
    """For each top-level function: its signature+docstring text and its remaining body text."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        first = node.body[0]
        has_doc = ast.get_docstring(node, clean=False) is not None
        split = first.end_lineno if has_doc else first.lineno - 1
        yield "\n".join(lines[start:split])
        yield "\n".join(lines[split : node.end_lineno])


def _meaningful(snippet: str) -> bool:
    """At least MIN_SNIPPET_CHARS and MIN_SNIPPET_LINES lines that are more than a keyword."""
    nontrivial = 0
    for line in snippet.splitlines():
        stripped = line.strip().rstrip(":")
        if sum(c.isalnum() for c in stripped) >= 4 and stripped not in _BARE_STATEMENTS:
            nontrivial += 1
    return len(snippet) >= MIN_SNIPPET_CHARS and nontrivial >= MIN_SNIPPET_LINES


def benchmark_snippets(paths: Sequence[Path]) -> list[str]:
    """Normalized signature+docstring and body snippets of every HumanEval-infilling task."""
    sources: dict[str, None] = {}  # ordered set: the infilling variants share one source
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                sources[row["prompt"] + row["canonical_solution"] + row["suffix"]] = None
    snippets: dict[str, None] = {}
    for source in sources:
        for snippet in map(normalize, _function_snippets(source)):
            if _meaningful(snippet):
                snippets[snippet] = None
    return list(snippets)


@dataclass(frozen=True)
class SnippetIndex:
    """Snippets keyed for a fast pre-check: a full inner line looked up in the text's line set."""

    keyed: tuple[tuple[str, str], ...]  # (key line, snippet): key is a complete line of the match
    unkeyed: tuple[tuple[str, str], ...]  # (longest line, snippet): <= 2 lines, substring pre-check

    @classmethod
    def build(cls, snippets: Iterable[str]) -> SnippetIndex:
        """Pick each snippet's longest inner line (first/last may match partial lines)."""
        keyed, unkeyed = [], []
        for snippet in snippets:
            lines = snippet.split("\n")
            if len(lines) >= 3:
                keyed.append((max(lines[1:-1], key=len), snippet))
            else:
                unkeyed.append((max(lines, key=len), snippet))
        return cls(tuple(keyed), tuple(unkeyed))


def is_contaminated(normalized_text: str, snippets: Iterable[str] | SnippetIndex) -> bool:
    """True if any (normalized) benchmark snippet occurs in the normalized text."""
    index = snippets if isinstance(snippets, SnippetIndex) else SnippetIndex.build(snippets)
    line_set = set(normalized_text.split("\n")) if index.keyed else set()
    for key, snippet in index.keyed:
        if key in line_set and snippet in normalized_text:
            return True
    return any(key in normalized_text and s in normalized_text for key, s in index.unkeyed)


# ---------------------------------------------------------------- build


_WORKER_INDEX = SnippetIndex((), ())


def _init_worker(index: SnippetIndex) -> None:
    global _WORKER_INDEX
    _WORKER_INDEX = index


def _examine(path: Path) -> tuple[str, str, bytes, bool] | None:
    """(path, text, normalized-text digest, contaminated) for one file, None if unreadable."""
    text = read_source(path)
    if text is None:
        return None
    normalized = normalize(text)
    digest = hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).digest()
    return str(path), text, digest, is_contaminated(normalized, _WORKER_INDEX)


def _examined(paths: Iterable[Path], index: SnippetIndex, workers: int) -> Iterator[tuple]:
    """_examine over paths, in order, in a process pool when workers > 1."""
    if workers <= 1:
        _init_worker(index)
        yield from filter(None, map(_examine, paths))
        return
    with Pool(workers, initializer=_init_worker, initargs=(index,)) as pool:
        yield from filter(None, pool.imap(_examine, paths, chunksize=64))


def build_corpus(
    roots: Iterable[Path], benchmark_paths: Sequence[Path], out: Path, workers: int = 8
) -> dict:
    """Write out/corpus.jsonl (deduped, decontaminated) and out/stats.json; return the stats."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index = SnippetIndex.build(benchmark_snippets(benchmark_paths))
    stats = dict.fromkeys(("files_seen", "duplicates", "contaminated", "kept", "chars"), 0)
    digests: set[bytes] = set()
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
        for path, text, digest, contaminated in _examined(_candidate_files(roots), index, workers):
            stats["files_seen"] += 1
            if digest in digests:
                stats["duplicates"] += 1
                continue
            digests.add(digest)
            if contaminated:
                stats["contaminated"] += 1
                continue
            f.write(json.dumps({"path": path, "text": text}, ensure_ascii=False) + "\n")
            stats["kept"] += 1
            stats["chars"] += len(text)
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


def read_corpus(path: Path) -> Iterator[str]:
    """Texts of a corpus.jsonl (or of DIR/corpus.jsonl)."""
    path = Path(path)
    if path.is_dir():
        path = path / "corpus.jsonl"
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)["text"]


def main(out: Path, roots: list[Path], bench: list[Path], workers: int) -> dict:
    """Build the corpus and print its stats."""
    stats = build_corpus(roots, bench, out, workers)
    print(json.dumps(stats), file=sys.stderr)
    return stats


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--roots", type=Path, nargs="*", default=None)
    parser.add_argument("--bench", type=Path, nargs="*", default=None)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    args = parser.parse_args()
    bench = sorted(DEFAULT_BENCH_DIR.glob("*.jsonl.gz")) if args.bench is None else args.bench
    main(args.out, args.roots or default_roots(), bench, args.workers)
