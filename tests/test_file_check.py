"""The whole-file check: CPython's parser and where return/yield/break/continue may stand."""

import pytest

from lsp_server.file_check import MAX_CHARS, FileCheck, first_error
from model.bench_humaneval import DATA_DIR, SPLIT_FILES, load_tasks


def worse(text: str, candidate: str) -> bool:
    """Whether ``candidate`` at the first ``|`` of ``text`` makes the file compile worse."""
    offset = text.index("|")
    text = text.replace("|", "", 1)
    return FileCheck(text, offset).worse(text[:offset] + candidate + text[offset:])


@pytest.mark.parametrize("source, row, message", [
    ("return 1\n", 0, "'return' outside function"),
    ("x = 1\nyield x\n", 1, "'yield' outside function"),
    ("if x:\n    break\n", 1, "'break' outside loop"),
    ("for x in y:\n    pass\nelse:\n    continue\n", 3, "'continue' outside loop"),
    ("while x:\n    def f():\n        break\n", 2, "'break' outside loop"),
    ("def f():\n    class C:\n        return 1\n", 2, "'return' outside function"),
    ("try:\n    pass\nexcept E:\n    return 2\n", 3, "'return' outside function"),
    ("match x:\n    case 1:\n        return 3\n", 2, "'return' outside function"),
    ("def f(:\n", 0, None),
])
def test_first_error(source, row, message):
    error = first_error(source, range(0, source.count("\n")))
    assert error is not None and error.row == row
    assert message is None or error.message == message


@pytest.mark.parametrize("source", [
    "def f():\n    return 1\n",
    "def f():\n    yield 1\n",
    "for x in y:\n    if x:\n        break\nelse:\n    pass\n",
    "while x:\n    try:\n        continue\n    finally:\n        pass\n",
    "f = lambda: (yield)\n",
    "async def f():\n    async for x in y:\n        break\n",
])
def test_code_that_compiles_has_no_error(source):
    assert first_error(source, range(0, source.count("\n"))) is None


def test_only_the_given_rows_are_walked():
    source = "return 1\nx = 2\nreturn 3\n"
    assert first_error(source, range(1, 2)) is None
    assert first_error(source, range(2, 3)).row == 2


FUNCTION = "def f(xs):\n    total = 0\n|\n    return total\n"


@pytest.mark.parametrize("candidate, bad", [
    ("    total += 1", False),
    ("return total", True),  # at column 0: outside the function
    ("    break", True),  # not in a loop
    ("        total += 1", True),  # indented deeper than its block: unexpected indent
    ("  total += 1", True),  # matches no outer indentation
    ("    for x in xs:\n        total += x", False),
    ("    for x in xs:\n        break", False),
])
def test_a_candidate_may_not_break_a_file_that_compiles(candidate, bad):
    assert worse(FUNCTION, candidate) is bad


def test_the_empty_lines_own_error_must_be_filled():
    """The line below is indented for a header the hole lacks: only a header fills it."""
    text = "def f(xs):\n    total = 0\n|\n        total += 1\n    return total\n"
    assert worse(text, "    total = 1")
    assert not worse(text, "    for x in xs:")
    body = "def f(xs):\n    if xs:\n|\n    return 0\n"  # the header above lacks its body
    assert worse(body, "    return 1") and not worse(body, "        return 1")


def test_what_the_hole_hid_counts():
    """A candidate that fills the hole but breaks the code below it (``try:`` with no
    ``except``) is worse than a neutral header there; an error below that any header
    leaves is the file's own."""
    text = "def f(xs):\n    total = 0\n|\n        total += 1\n    return total\n"
    assert worse(text, "    try:")
    assert not worse(text, "    if xs:") and not worse(text, "    with open(xs):")
    broken = "def f(xs):\n    total = 0\n|\n        total += 1\n    return (total\n"
    assert not worse(broken, "    try:")  # the same error as a neutral header leaves
    body = "def f(xs):\n    if xs:\n|\n    return 0\n"
    assert worse(body, "        try:\n            xs = 1")
    broken_further = "def f(xs):\n    if xs:\n|\n    return 0\n    x = (\n"
    assert not worse(broken_further, "        xs = 1") and worse(broken_further, "        try:")
    else_below = "def f(xs):\n    y = 0\n|\n        else:\n            y = 1\n"
    assert worse(else_below, "    try:")  # ``if True:`` does not mend this hole either


def test_a_candidate_may_not_change_what_a_later_line_belongs_to():
    """An ``else`` at column 0 joins the loop, and the ``break`` below it leaves the loop."""
    text = "for x in xs:\n    if x:\n        pass\n|\n        break\n"
    assert worse(text, "else:")
    assert not worse(text, "    else:")
    misplaced = "def f():\n    pass\n|\nreturn 1\n"  # the file's own error below
    assert not worse(misplaced, "x = 1") and worse(misplaced, "break")


def test_errors_the_file_has_anyway_do_not_count():
    broken_below = "def f(xs):\n    total = 0\n|\n    return (total\n"
    assert not worse(broken_below, "    total += 1")
    assert worse(broken_below, "    total +=")  # an error before the file's own
    broken_above = "def f(xs:\n    total = 0\n|\n    return total\n"
    assert not worse(broken_above, "return total")  # CPython stops above: nothing to compare
    top_down = "def f(values):\n    table = {\n        'zero|\n"
    assert not worse(top_down, "': 0,")  # the dict opened above is not closed yet


def test_a_large_file_is_not_checked():
    text = "x = 1\n" * (MAX_CHARS // 6 + 1) + "|\n"
    assert not worse(text, "return 1")
    assert worse(text[-2000:], "return 1")


@pytest.mark.parametrize("split", sorted(SPLIT_FILES))
def test_no_humaneval_truth_makes_its_file_compile_worse(split):
    """Every truth, at the empty line the server sees, passes the check."""
    refused = []
    for task in load_tasks(DATA_DIR / SPLIT_FILES[split]):
        text = task["prompt"] + "\n" + task["suffix"]
        check = FileCheck(text, len(task["prompt"]))
        truth = task["canonical_solution"].removesuffix("\n")
        if check.worse(task["prompt"] + truth + "\n" + task["suffix"]):
            refused.append(task["task_id"])
    assert refused == []


@pytest.mark.parametrize("text, good, bad", [
    ("def f(xs):\r\n    total = 0\r\n|\r\n    return total\r\n", "    total += 1", "return total"),
    ("def f(xs):\n\ttotal = 0\n|\n\treturn total\n", "\ttotal += 1", "\tbreak"),
])
def test_line_breaks_and_tabs_are_read_as_cpython_reads_them(text, good, bad):
    assert not worse(text, good) and worse(text, bad)


def test_null_bytes_leave_the_code_unjudged():
    text = "def f(xs):\n    total = 0\x00\n|\n    return total\n"
    assert not worse(text, "return total")
