"""What reads as prose: the gate for text the model writes in docstrings and comments.

The model commits several positions per denoising step; when they disagree, the text repeats
itself (``product product``, ``parenrenren``, ``of a list of a list``). Such text is never
offered, like code that adds a syntax error.
"""

from __future__ import annotations

import ast
import re

_GARBLE = [
    re.compile(r"\b([^\W\d_]+)\s+\1\b", re.IGNORECASE),  # a word twice in a row
    re.compile(r"([^\W\d_]{3,})\1", re.IGNORECASE),  # a piece of a word twice: parenrenren
    re.compile(r"(\w)\1{3}"),  # a character four times: xxxx, 1111
    re.compile(r",\s*,|;\s*;|(?<!\.)\.\.(?!\.)|\.{4}"),  # ,, ;; .. ....
    re.compile(r"([()\[\]{}`~])\1\1"),  # a bracket three times: )))
]
_WORD = re.compile(r"[^\W\d_]{3}")


def garbled(text: str) -> bool:
    """Whether ``text`` repeats itself the way disagreeing parallel commits do: a word, a piece
    of one, a character, a punctuation mark or bracket, or a phrase of two to four words
    (``of a list of a list``) right again."""
    if any(pattern.search(text) for pattern in _GARBLE):
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    return any(words[i : i + k] == words[i + k : i + 2 * k]
               for k in (2, 3, 4) for i in range(len(words) - 2 * k + 1))


def prose(text: str) -> bool:
    """Whether a summary reads as a sentence: a word of three letters or more (not ``( b;``),
    not ``garbled`` and not a Python statement other than a lone name (``result = []``). Of
    HumanEval's 163 docstrings' first sentences, one has a word twice (``the the``) and none
    parses as code."""
    if not _WORD.search(text) or garbled(text):
        return False
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        return True
    lone = len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(
        body[0].value, (ast.Name, ast.Constant, ast.Attribute))
    return lone or not body
