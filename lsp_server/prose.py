"""What reads as text: the gates for what the model writes in docstrings, comments and code.

The model commits several positions per denoising step; when they disagree, the text repeats
itself (``product product``, ``parenrenren``, ``of a list of a list``). Such text is never
offered, like code that adds a syntax error. Nor is text with bytes that are no character.
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
# U+FFFD, or a control character other than tab, newline and carriage return (the sampler bans
# the tokens of those: ``model.sampler.CONTROL``; a DiffusionGemma checkpoint's does not).
_ODD = re.compile("[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def unreadable(text: str, around: str = "") -> bool:
    """Whether ``text`` holds a character no editor should insert that ``around`` (the file)
    does not hold: U+FFFD (the bytes of a character the model did not finish) or a control
    character other than tab, newline and carriage return. A model with untrained or
    mismatched weights writes both."""
    odd = set(_ODD.findall(text))
    return any(c not in around for c in odd)


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
    parses as code. Nor does one with a character that is no text (``unreadable``)."""
    if not _WORD.search(text) or garbled(text) or unreadable(text):
        return False
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        return True
    lone = len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(
        body[0].value, (ast.Name, ast.Constant, ast.Attribute))
    return lone or not body
