"""Names a Python suggestion uses that neither its file nor Python has (``lsp_server.names``)."""

import sys
from collections import Counter
from pathlib import Path

import pytest

from lsp_server import names
from lsp_server.actions import inline
from lsp_server.config import ServerConfig
from lsp_server.documents import DocumentStore
from lsp_server.names import known_in, unglued, unknown_names
from model.bench_humaneval import DATA_DIR, SPLIT_FILES, load_tasks, task_request
from tests.test_actions import NEVER, open_doc, scripted

FILE = "import os\n\ndef mean(values, weights=None):\n    total = sum(values)\n    \n"
REPO = Path(__file__).resolve().parents[1]


def unknown_in(line: str, text: str = FILE) -> list[str]:
    return unknown_names([line], (0, 0), (0, len(line)), known_in(text))


@pytest.mark.parametrize(
    ("line", "unknown"),
    [("    return totl", ["totl"]),  # misspelt
     ("    returntotal", ["returntotal"]),  # a keyword glued to a name
     ("    return _mean_of(values)", ["_mean_of"]),  # a helper nobody wrote
     ("    return total / len(values)", []),  # the file's names and builtins
     ("    return os.path.join(values.anything)", []),  # attributes are not checked
     ("    return sorted(values, key=abs, reverse=True)", []),  # nor keyword arguments
     ("    return math.fsum(values)", []),  # a standard-library module (the import may follow)
     ("    count = n = 0", []),  # assignment targets
     ("    first, *rest = values", []),
     ("    count: int = 0", []),  # an annotation
     ("    squares = [v * v for v in values if v]", []),  # a comprehension's target
     ("    key = lambda item, /, scale=2: item * scale", []),
     ("    with open(values) as handle: data = handle.read()", []),
     ("    if (n := len(values)) > 0: return n", []),
     ("    def helper(x, y: int = 3, *args, **kw): return x", []),
     ("    from collections import Counter, deque as dq", []),
     # an f-string's fields are code, tokens of their own from Python 3.12 on
     ("    return f'{total} {missing}'", ["missing"] if sys.version_info >= (3, 12) else []),
     ("    return 'spelt wrong: totl'  # and totl here", []),  # strings and comments are not
     ("    return (totl", ["totl"]),  # tokens up to an unclosed bracket still count
     ("    for i in range(totl):", ["totl"])],
)
def test_unknown_names(line, unknown):
    assert unknown_in(line) == unknown


def test_a_star_import_knows_every_name():
    assert unknown_in("    return totl", FILE + "from math import *\n") == []
    assert unknown_in("from math import *; x = tau") == []


@pytest.mark.parametrize(
    ("text", "unknown", "expected"),
    [("    returnans", ["returnans"], "    return ans"),
     ("    }\n    returnnums, k", ["returnnums"], "    }\n    return nums, k"),
     ("x = notvalid or returned", ["notvalid"], "x = not valid or returned"),
     ("    return2", ["return2"], "    return2"),  # not a name after the keyword
     ("    totl", ["totl"], "    totl")],
)
def test_a_keyword_glued_to_a_name_is_split_again(text, unknown, expected):
    assert unglued(text, unknown) == expected


def test_only_names_the_suggestion_writes_are_checked():
    """The text around the suggestion on its lines is the user's: a name there is not the
    suggestion's fault, unless the suggestion completes it."""
    line = "    result = totl + av"
    known = known_in(FILE)
    assert unknown_names([line], (0, 17), (0, len(line)), known) == ["av"]
    assert unknown_names([line], (0, 20), (0, len(line)), known) == ["av"]  # "a" was typed
    block = ["    for v in values:", "        total += v * wieght"]
    assert unknown_names(block, (0, 4), (1, len(block[1])), known) == ["wieght"]


def test_inline_drops_a_candidate_with_an_unknown_name_and_takes_the_next(monkeypatch):
    outputs = ["return totl", "return total"]
    seen = scripted(monkeypatch, "infill", "text", outputs)
    req = inline.inline_request(open_doc(FILE), 4, 4, ServerConfig())
    cfg = ServerConfig(length_search=False)
    assert inline.run_inline(None, req, cfg, NEVER) == ["return total"] and len(seen) == 2
    outputs.append("return totl")
    off = ServerConfig(length_search=False, known_names=False)
    assert inline.run_inline(None, req, off, NEVER) == ["return totl"]
    typed = inline.inline_request(open_doc(FILE.replace("    \n", "    return to\n")), 4, 13,
                                  ServerConfig())
    assert typed.plan.single_line
    outputs.extend(["tl", "tal"])  # the word typed so far, completed to a name the file lacks
    assert inline.run_inline(None, typed, cfg, NEVER) == []
    assert inline.run_inline(None, typed, cfg, NEVER) == ["tal"]
    outputs.extend(["returntotal", "return None"])  # the space the model left out, put back
    assert inline.run_inline(None, req, cfg, NEVER) == ["return total"]
    assert outputs == ["return None"]


def test_names_are_not_checked_in_prose_nor_imports_and_cells_are_known():
    doc = open_doc("def f(x):\n    \n")
    cells = inline.inline_request(doc, 1, 4, ServerConfig(), ("scale = 3\n\n", ""))
    assert inline.unresolved(cells)("return x * scale") == []
    alone = inline.inline_request(doc, 1, 4, ServerConfig())
    assert inline.unresolved(alone)("return x * scale") == ["scale"]
    imports = open_doc("from os.path import (\n    join,\n    \n)\n")
    assert inline.unresolved(inline.inline_request(imports, 2, 4, ServerConfig())) is None
    unclosed = open_doc('def f(x):\n    """Scale x by\n    \n')  # a docstring being written
    assert inline.unresolved(inline.inline_request(unclosed, 2, 4, ServerConfig())) is None
    other = open_doc("function f(x) {\n  \n}\n", "file:///t.js", "javascript")
    assert inline.unresolved(inline.inline_request(other, 1, 2, ServerConfig())) is None


@pytest.mark.parametrize("split", sorted(SPLIT_FILES))
def test_no_humaneval_truth_is_dropped(split):
    """Every true line or block of HumanEval infilling (1,033 single-line, 5,815 multi-line
    tasks) uses only names its file or Python has."""
    cfg = ServerConfig()
    dropped = [task["task_id"] for task in load_tasks(DATA_DIR / SPLIT_FILES[split])
               if inline.unresolved(task_request(task, cfg))(
                   task["canonical_solution"].rstrip("\n"))]
    assert dropped == []


def test_no_line_of_this_repository_is_dropped():
    """Each code line of the server's and the model's modules, suggested on its own line left
    empty, uses only names the rest of its file or Python has (multi-line imports included)."""
    cfg, dropped, checked = ServerConfig(), [], 0
    for path in sorted([*REPO.glob("lsp_server/*.py"), *REPO.glob("model/*.py")]):
        lines = path.read_text().split("\n")
        for row, line in enumerate(lines):
            if not line.strip():
                continue
            emptied = "\n".join(lines[:row] + [""] + lines[row + 1:])
            doc = DocumentStore().open(path.as_uri(), "python", 1, emptied)
            unknown = inline.unresolved(inline.inline_request(doc, row, 0, cfg))
            checked += unknown is not None
            if unknown is not None and unknown(line):
                dropped.append(f"{path.name}:{row + 1}: {line.strip()}")
    assert checked > 3000 and dropped == []


@pytest.mark.parametrize(("lines", "unbound"), [
    (["def f(xs):", "    result = 0", "    return reslt + len(xs)"], ["reslt"]),
    (["def f(xs):", "    return xs.totl + g(xs)"], ["g"]),  # an attribute is no use
    (["def f(xs):", "    for reslt in xs:", "        print(reslt)"], []),  # bound here
    (["def f(xs):", "    return f(key=reslt)"], ["reslt"]),  # a keyword argument's value
])
def test_a_name_nothing_binds_is_unbound(lines, unbound):
    text = "\n".join(lines) + "\ndef g(x):\n    return x\n"
    found, _ = names.unbound_uses(lines, Counter(names.WORD.findall(text)), text)
    assert [tok.string for tok in found] == unbound


def test_a_star_import_may_bind_any_name():
    lines = ["def f(xs):", "    return reslt"]
    text = "from os import *\n" + "\n".join(lines)
    assert names.unbound_uses(lines, Counter(names.WORD.findall(text)), text) == ([], [])


def test_a_binding_nothing_reads_is_lone_and_its_uses_unbound():
    """``resultt`` is bound and never read; ``result`` is read, bound nowhere in the file; ``n``
    is bound in another function, so it is no slip here."""
    lines = ["def f(xs):", "    resultt = []", "    result.append(n + xs)", "    return result"]
    text = "\n".join(lines) + "\ndef g():\n    n = 1\n    return f(n)\n"
    uses, lone = names.unbound_uses(lines, Counter(names.WORD.findall(text)), text)
    assert [tok.string for tok in uses] == ["result", "n", "result"]
    assert [tok.string for tok in lone] == ["resultt"]
    assert not names.file_binds("result", text) and names.file_binds("n", text)
