"""Corpus collection, dedupe and HumanEval decontamination (model/corpus.py)."""

import gzip
import json
import os
from pathlib import Path

import pytest

from model.corpus import (
    benchmark_snippets,
    build_corpus,
    default_roots,
    find_python_files,
    is_contaminated,
    normalize,
    read_corpus,
)

REAL_BENCH = Path(
    "/work/shared/benchmarks/humaneval-infilling/HumanEval-SingleLineInfilling.jsonl.gz"
)

FAKE_PROMPT = 'def frobnicate(items: list) -> int:\n    """Count the frobs in items.\n    """\n'
FAKE_LINE = "    total = 0\n"
FAKE_SUFFIX = (
    "    for item in items:\n        total += item.frob_count()\n    return total * 2 + 1\n"
)
FAKE_SOURCE = FAKE_PROMPT + FAKE_LINE + FAKE_SUFFIX


def write_fake_bench(path: Path) -> Path:
    """A tiny HumanEval-infilling style file: two variants of one task plus a trivial one."""
    rows = [
        {"prompt": FAKE_PROMPT, "canonical_solution": FAKE_LINE, "suffix": FAKE_SUFFIX},
        {
            "prompt": FAKE_PROMPT + FAKE_LINE,
            "canonical_solution": FAKE_SUFFIX.splitlines(keepends=True)[0],
            "suffix": "".join(FAKE_SUFFIX.splitlines(keepends=True)[1:]),
        },
        {"prompt": "def f(x):\n", "canonical_solution": "    return x\n", "suffix": ""},
    ]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A source tree with unique, duplicate, contaminated, binary and oversized files."""
    root = tmp_path / "src"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("import os\n\n\ndef a():\n    return os.sep\n")
    (root / "pkg" / "b.py").write_text("X = 1\nY = 2\n")
    # Same as a.py after normalization (trailing spaces, blank lines, CRLF).
    (root / "pkg" / "sub" / "a_copy.py").write_bytes(
        b"import os   \r\n\r\n\r\ndef a():\r\n    return os.sep\r\n"
    )
    (root / "pkg" / "sub" / "leak.py").write_text("import re\n\n\n" + FAKE_SOURCE + "\nZ = 3\n")
    (root / "pkg" / "binary.py").write_bytes(b"x = 1\0\0")
    (root / "pkg" / "latin.py").write_bytes(b"s = '\xe9'\n")
    (root / "pkg" / "huge.py").write_text("# pad\n" * 200_000)
    (root / "pkg" / "notes.txt").write_text("not python\n")
    os.symlink(root / "pkg", root / "pkg" / "sub" / "loop")  # directory loop
    os.symlink(root / "pkg" / "b.py", root / "b_link.py")  # same real file twice
    return root


def test_normalize_strips_trailing_space_and_blank_lines():
    assert normalize("a = 1   \n\n\n  b\t\n\n") == "a = 1\n  b"


def test_default_roots_exist():
    roots = default_roots()
    assert roots and all(root.is_dir() for root in roots)
    assert len({root.resolve() for root in roots}) == len(roots)


def test_find_python_files_skips_bad_files_and_links(tree: Path):
    names = sorted(path.name for path in find_python_files([tree, tree / "pkg"]))
    assert names == ["a.py", "a_copy.py", "b.py", "leak.py"]


def test_benchmark_snippets_split_header_and_body(tmp_path: Path):
    snippets = benchmark_snippets([write_fake_bench(tmp_path / "bench.jsonl.gz")])
    header = normalize(FAKE_PROMPT)
    body = normalize(FAKE_LINE + FAKE_SUFFIX)
    assert snippets == [header, body]  # variants collapse, trivial task dropped


def test_is_contaminated_requires_whole_snippet(tmp_path: Path):
    snippets = benchmark_snippets([write_fake_bench(tmp_path / "bench.jsonl.gz")])
    assert is_contaminated(normalize("x = 1\n" + FAKE_SOURCE), snippets)
    assert is_contaminated(normalize("class K:\n" + FAKE_LINE + FAKE_SUFFIX), snippets)
    partial = FAKE_LINE + FAKE_SUFFIX.replace("* 2", "* 3")
    assert not is_contaminated(normalize(partial), snippets)
    assert not is_contaminated("", snippets)


def test_build_corpus_dedupes_and_decontaminates(tree: Path, tmp_path: Path):
    bench = write_fake_bench(tmp_path / "bench.jsonl.gz")
    out = tmp_path / "out"
    stats = build_corpus([tree], [bench], out, workers=2)
    texts = list(read_corpus(out / "corpus.jsonl"))
    assert stats == {
        "files_seen": 4,
        "duplicates": 1,
        "contaminated": 1,
        "kept": 2,
        "chars": sum(map(len, texts)),
    }
    assert json.loads((out / "stats.json").read_text()) == stats
    assert sorted(texts) == ["X = 1\nY = 2\n", "import os\n\n\ndef a():\n    return os.sep\n"]
    assert list(read_corpus(out)) == texts


@pytest.mark.skipif(not REAL_BENCH.exists(), reason="HumanEval infilling data not present")
def test_real_benchmark_flags_canonical_function():
    snippets = benchmark_snippets([REAL_BENCH])
    assert len(snippets) > 100
    row = json.loads(gzip.open(REAL_BENCH, "rt").readline())
    source = row["prompt"] + row["canonical_solution"] + row["suffix"]
    leaked = "import math\n\n" + source + "\n\nif __name__ == '__main__':\n    main()\n"
    assert is_contaminated(normalize(leaked), snippets)
    clean = Path(json.__file__).read_text()
    assert not is_contaminated(normalize(clean), snippets)
