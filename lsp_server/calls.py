"""Calls a Python suggestion makes to the file's own functions with a number of arguments they
cannot take.

The model calls the function it is completing again with its arguments repeated
(``truncate_number(number, number)`` for a one-parameter function): a TypeError, so the
suggestion is not offered. Only plain calls of a name the file defines with ``def`` (outside a
class body, not decorated: a decorator may change the signature) are checked, and only when
every argument is positional and the call closes inside the lines read; a ``*`` or ``**``
argument, a keyword argument or a ``lambda`` leaves the call unchecked.
"""

from __future__ import annotations

import math
import tokenize
from collections.abc import Callable

from tree_sitter import Node, Tree

from lsp_server import regions
from lsp_server.names import Position, tokens

Arity = tuple[int, float]  # fewest and most positional arguments (math.inf: a ``*args``)
_OPTIONAL = ("default_parameter", "typed_default_parameter")
_LAYOUT = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
           tokenize.ENDMARKER)


def arities(tree: Tree) -> dict[str, Arity]:
    """The positional arities of the functions defined in a Python tree (a name defined more
    than once: the widest range), its methods and decorated functions left out."""
    found: dict[str, Arity] = {}
    for region in regions.captures("python", tree, {"function"}):
        node = tree.root_node.descendant_for_byte_range(region.start_byte, region.end_byte)
        if node is None or node.type != "function_definition" or _in_class(node):
            continue  # a decorated one is captured with its decorators
        name, params = node.child_by_field_name("name"), node.child_by_field_name("parameters")
        if name is None or params is None or name.text is None:
            continue
        least, most = _arity(params)
        key = name.text.decode("utf-8", "replace")
        if key in found:
            least, most = min(least, found[key][0]), max(most, found[key][1])
        found[key] = (least, most)
    return found


def misfits(lines: list[str], start: Position, end: Position,
            defined: Callable[[], dict[str, Arity]]) -> list[str]:
    """The calls opening between ``start`` and ``end`` of ``lines`` of a function ``defined()``
    (asked only when there is a call) with a number of positional arguments outside its arity,
    as ``name(n args)``."""
    toks = [t for t in tokens(lines) if t.type not in _LAYOUT]
    out = []
    for i, tok in enumerate(toks[:-1]):
        if (tok.type != tokenize.NAME or toks[i + 1].string != "(" or not start <= tok.start < end
                or (i and toks[i - 1].string in (".", "def")) or tok.string not in defined()):
            continue
        count = _positional(toks, i + 2)
        least, most = defined()[tok.string]
        if count is not None and not least <= count <= most:
            out.append(f"{tok.string}({count} args)")
    return out


def _in_class(node: Node) -> bool:
    """Whether ``node`` stands in a class body (a method)."""
    body = node.parent
    return body is not None and body.parent is not None and body.parent.type == "class_definition"


def _arity(params: Node) -> Arity:
    """(required, most) positional parameters of a ``parameters`` node."""
    least, most = 0, 0.0
    for param in params.named_children:
        kind = param.type
        if kind == "typed_parameter" and param.named_children:
            kind = param.named_children[0].type  # ``*args: int`` is a typed splat
        if kind == "keyword_separator" or kind == "dictionary_splat_pattern":
            break  # keyword-only from here
        if kind == "list_splat_pattern":
            return least, math.inf
        if kind in ("identifier", "typed_parameter"):
            least += 1
        elif kind not in _OPTIONAL:
            continue  # ``/``
        most += 1
    return least, most


def _positional(toks: list, at: int) -> int | None:
    """The arguments of the call whose ``(`` is right before ``toks[at]``; None when it does
    not close there or takes any but plain positional ones."""
    depth, count, empty = 0, 0, True
    for i in range(at, len(toks)):
        word = toks[i].string
        if word == "lambda" or (depth == 0 and (word in ("*", "**") and empty or word == "=")):
            return None
        if word in ("(", "[", "{"):
            depth += 1
        elif word in (")", "]", "}"):
            if depth == 0:
                return count + (not empty)
            depth -= 1
        elif word == "," and depth == 0:
            count, empty = count + (not empty), True
            continue
        empty = False
    return None
