"""Where a slip may hide on a broken row (``lsp_server.slips``)."""

from collections import Counter

import pytest

from lsp_server import slips
from lsp_server.names import WORD

FILE = "def f(string, strings, l, s, xs):\n    x = 1\n"


def _opened(row: str) -> list[str]:
    """The row with its stray closer's opener put at each of ``slips.opener_spots``."""
    [at] = slips.stray_closers(row, "python")
    opener = {")": "(", "]": "[", "}": "{"}[row[at]]
    spots = slips.opener_spots(row, "python", at, Counter(WORD.findall(FILE + row)))
    return [row[:spot] + opener + row[spot:] for spot, _ in spots]


@pytest.mark.parametrize(("row", "wanted", "unwanted"), [
    ("    if lenstring) == 0:", "    if len(string) == 0:", "    if le(nstring) == 0:"),
    ("    return sortedlist(set(l)))", "    return sorted(list(set(l)))",
     "    return sor(tedlist(set(l)))"),
    ("    return x for x in strings if x]", "    return [x for x in strings if x]",
     "    return x[ for x in strings if x]"),  # before a token, not before a space
    ('    print"a b")', '    print("a b")', '    print"a (b")'),  # not inside a string
    # a module's name after its name, but no module the file names is imported to know it
    ("    y = math.ceilx)**2", "    y = math.ceil(x)**2", "    y = math.cei(lx)**2"),
    ("    y = os.ceilx)**2", "    y = os.ceilx()**2", "    y = os.ceil(x)**2"),
])
def test_a_dropped_opener_goes_before_a_token_or_between_two_known_words(row, wanted,
                                                                         unwanted):
    opened = _opened(row)
    assert wanted in opened
    assert unwanted not in opened
    assert not any(option.startswith("(    ") for option in opened)  # not in the indentation


def test_a_word_the_file_has_elsewhere_is_not_split():
    """``strings`` is a parameter, not ``string`` and ``s`` run together; ``fstrings`` is
    nowhere else."""
    assert "    return string(s)" not in _opened("    return strings)")
    assert "    return f(strings)" in _opened("    return fstrings)")


@pytest.mark.parametrize(("row", "unwanted"), [
    ("    y = s - x) * 2", "    y = s - (x) * 2"),  # a lone operand
    ("    if lenstring) == 0:", "    if (lenstring) == 0:"),
    ("    r = str(x % l)) + s", "    r = str(x % l)() + s"),  # what a bracket closed, called
    ("    r = abs(x % 10)) + s", "    r = abs(x % 1(0)) + s"),  # a number is no word
    ("    return []]", "    return [[]]"),
    ("    if s[-1]] == 1:", "    if [s[-1]] == 1:"),
])
def test_a_bracket_that_would_wrap_a_lone_operand_is_not_offered(row, unwanted):
    assert unwanted not in _opened(row)


def test_a_split_is_told_from_a_token_start():
    """``xs.pop0)``: ``pop`` is a method of a builtin type, after a dot."""
    row = "    xs.pop0)"
    spots = slips.opener_spots(row, "python", 11, Counter(WORD.findall(FILE + row)))
    assert (10, "split") in spots
    assert (11, "open") in spots
    assert (7, "split") not in spots  # ``po`` is no word


def test_a_bracket_may_index_or_open_an_empty_list():
    assert "    y = xs[-1]" in _opened("    y = xs-1]")
    assert "    y = []" in _opened("    y = ]")


@pytest.mark.parametrize(("rows", "steps"), [
    (["def f(xs):", "    for x in xs:", "            t = x", "", "    return t"], [4, 8]),
    (["def f(xs):", "", "\tif xs:  # a comment", "\t\treturn 1"], [1, 1]),
    (["x = [", "      1]", "y = 2"], []),  # no header: a bracket's rows are no block
])
def test_a_block_steps_in_from_its_header(rows, steps):
    assert slips.block_steps(rows) == steps
    assert slips.odd_steps(rows, 4) == sum(step != 4 for step in steps)
