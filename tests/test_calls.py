"""Calls of the file's own functions with a number of arguments they cannot take
(``lsp_server.calls``)."""

import math

import pytest

from lsp_server.actions import inline
from lsp_server.calls import arities, misfits
from lsp_server.config import ServerConfig
from tests.test_actions import NEVER, open_doc, scripted

FILE = """\
def clamp(value, low=0, high=1):
    return max(low, min(value, high))


def joined(*parts, sep=" "):
    return sep.join(parts)


def scaled(x, /, factor, *, offset=0):
    def inner(y):
        return y * factor
    return inner(x) + offset


class Box:
    def clamp(self):
        return self


@staticmethod
def wrapped(a):
    return a


def mean(values):
    total = sum(values)
""" + "    \n"  # the empty line being completed


def test_arities_of_plain_functions_only():
    found = arities(open_doc(FILE).tree)
    assert found == {"clamp": (1, 3), "joined": (0, math.inf), "scaled": (2, 2),
                     "inner": (1, 1), "mean": (1, 1)}  # no method, nothing decorated


@pytest.mark.parametrize(
    ("line", "wrong"),
    [("return mean(values, values)", ["mean(2 args)"]),  # the model's favourite slip
     ("return clamp()", ["clamp(0 args)"]),
     ("return scaled(1)", ["scaled(1 args)"]),
     ("return mean(clamp(1, 2, 3, 4))", ["clamp(4 args)"]),  # nested
     ("return mean(values)", []),
     ("return clamp(total, 0)", []),  # a default left out
     ("return clamp('a,b', (1, 2), [3, 4])", []),  # commas inside arguments
     ("return joined(1, 2, 3, 4, 5)", []),  # *args
     ("return mean(*values, 1)", []),  # a splat: not checked
     ("return clamp(value=1, low=2)", []),  # keyword arguments: not checked
     ("return mean(lambda a, b: a)", []),
     ("return mean(v for v in values)", []),  # a generator expression is one argument
     ("return self.clamp(1, 2, 3, 4)", []),  # a method
     ("return wrapped(1, 2)", []),  # decorated: the decorator may change the signature
     ("return mean(values,", [])],  # not closed
)
def test_misfits(line, wrong):
    known = arities(open_doc(FILE).tree)
    assert misfits(["    " + line], (0, 4), (0, 4 + len(line)), lambda: known) == wrong


def test_only_calls_the_suggestion_opens_are_checked():
    known = arities(open_doc(FILE).tree)
    line = "    return mean(values, values)"
    assert misfits([line], (0, 20), (0, len(line)), lambda: known) == []  # "mean(" was typed


def test_inline_drops_a_call_the_function_cannot_take_and_takes_the_next(monkeypatch):
    outputs = ["return mean(values, total)", "return total / len(values)"]
    seen = scripted(monkeypatch, "infill", "text", outputs)
    row = FILE.split("\n").index("    total = sum(values)") + 1
    req = inline.inline_request(open_doc(FILE), row, 4, ServerConfig())
    assert inline.unresolved(req)(outputs[0]) == ["mean(2 args)"]
    cfg = ServerConfig(length_search=False)
    assert inline.run_inline(None, req, cfg, NEVER) == ["return total / len(values)"]
    assert len(seen) == 2
