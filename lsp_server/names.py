"""Names a Python suggestion uses that neither its file nor Python has.

A small model misspells names (``planetet_names``), glues a keyword to one (``returnans``) or
calls a helper nobody wrote (``_is_prime(n)``). Such a suggestion fails with a NameError, so it
is not offered. A name counts as known when Python has it (a builtin, a keyword, a module
global, a standard-library module) or when it is a word anywhere in the file (or the
notebook's other cells), and the suggestion may bind new names itself (an assignment, a
``for`` or ``as`` target, a parameter, an import). Attributes and keyword arguments are not
checked: the file cannot tell what an object or a callee has. A file with a ``*`` import
knows every name. Only Python's tokens are read (``tokenize``); nothing is run.
"""

from __future__ import annotations

import builtins
import functools
import io
import keyword
import re
import sys
import tokenize
from collections import Counter
from collections.abc import Callable, Iterator

from lsp_server.regions import keywords

WORD = re.compile(r"[^\W\d]\w*")
PYTHON_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


def language_words(language: str | None) -> frozenset[str]:
    """The words a language knows without a file: Python's builtins and keywords, another
    grammar's keywords."""
    return PYTHON_NAMES if language == "python" else keywords(language)


def known_words(text: str, language: str | None) -> set[str]:
    """The words a fix may write in a document: its own and its language's."""
    return set(WORD.findall(text)) | language_words(language)


_MODULE_GLOBALS = frozenset(("__file__", "__name__", "__doc__", "__path__", "__all__",
                             "__annotations__", "__builtins__", "__dict__", "__class__"))
_KNOWN = PYTHON_NAMES | _MODULE_GLOBALS | frozenset(sys.stdlib_module_names)
_STAR_IMPORT = re.compile(r"^\s*from\s+[\w.]+\s+import\s+\*", re.MULTILINE)
# Every name of a statement opening so is bound (a ``def``'s parameters, an import's names).
_BINDS_ALL = ("import", "from", "global", "nonlocal", "def", "class", "async")
_TARGETS = (("for", "in"), ("lambda", ":"))  # every name between each pair is bound
# Keywords an expression follows (none starts another): ``returnans`` is ``return ans`` glued.
_GLUED = ("return", "assert", "elif", "while", "yield", "raise", "await", "not", "del", "if")
IMPORTS = ("import_statement", "import_from_statement", "future_import_statement")  # tree-sitter
Position = tuple[int, int]  # (row, column)


def known_in(*texts: str) -> Callable[[str], bool]:
    """Whether a name is known in a file whose text is ``texts`` (with any cells around it).
    Each name is looked for as a word in the text when asked (a few per candidate): reading
    every word of a 2,000-line file into a set cost about 3 ms per request."""

    @functools.cache
    def star() -> bool:  # a ``*`` import: any name may be known
        return any("import" in text and _STAR_IMPORT.search(text) for text in texts)

    @functools.cache
    def known(name: str) -> bool:
        return name in _KNOWN or star() or any(_has_word(text, name) for text in texts)

    return known


def _has_word(text: str, word: str) -> bool:
    """Whether ``word`` stands in ``text`` as a whole word."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        starts = at == 0 or not _is_word_char(text[at - 1])
        if starts and (end == len(text) or not _is_word_char(text[end])):
            return True
        at = text.find(word, at + 1)
    return False


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def unknown_names(lines: list[str], start: Position, end: Position,
                  known: Callable[[str], bool]) -> list[str]:
    """The names used between ``start`` and ``end`` of ``lines`` (the suggestion inside the
    lines it completes) that are neither ``known`` nor bound anywhere in ``lines``."""
    if _STAR_IMPORT.search("\n".join(lines)):
        return []
    names = list(_names(lines))
    bound = _bound(names)
    return sorted({tok.string for tok, used in names
                   if used and start < tok.end and tok.start < end
                   and tok.string not in bound and not known(tok.string)})


def unbound_uses(lines: list[str], file_words: Counter, *texts: str
                 ) -> tuple[list[tokenize.TokenInfo], list[tokenize.TokenInfo]]:
    """(uses, lone bindings) of ``lines`` (a function) in a file whose text is ``texts`` (with
    its cells around it; ``file_words``: their words). Uses: the names it uses that neither
    Python nor ``lines`` binds; those standing nowhere else in the file raise NameError (the
    others, unless ``file_binds`` them). Lone bindings: the names it binds that stand nowhere
    else, never read (``resultt = []``, then ``result.append``). Neither in a file with a ``*``
    import, which may bind any name."""
    if any("import" in text and _STAR_IMPORT.search(text) for text in texts):
        return [], []
    found = list(_names(lines))
    bound = _bound(found)
    uses = [tok for tok, used in found if used and tok.string not in bound
            and tok.string not in _KNOWN]
    return uses, [tok for tok, _ in found if tok.string in bound and file_words[tok.string] == 1]


def file_binds(name: str, *texts: str) -> bool:
    """Whether a file whose text is ``texts`` binds ``name`` anywhere (any scope)."""
    return any(name in _bound(list(_names(text.split("\n")))) for text in texts if name in text)


def unglued(text: str, unknown: list[str]) -> str:
    """``text`` with each ``unknown`` name that is a keyword glued to a name split again
    (``returnans`` -> ``return ans``): the model left out the space. Whether the rest is known
    is for the caller to check again."""
    for name in unknown:
        keyword_ = next((k for k in _GLUED if name.startswith(k)), None)
        if keyword_ and WORD.fullmatch(rest := name[len(keyword_):]):
            text = re.sub(rf"(?<!\w){name}(?!\w)", f"{keyword_} {rest}", text)
    return text


def tokens(lines: list[str]) -> Iterator[tokenize.TokenInfo]:
    """Python's tokens of ``lines``, each line's indentation left out (a suggestion's lines need
    not indent consistently) but counted in the (0-based) positions; those read before an
    error (an unclosed bracket or string)."""
    indents = [len(line) - len(line.lstrip()) for line in lines]

    def placed(row: int, column: int) -> Position:
        return row - 1, column + (indents[row - 1] if row <= len(indents) else 0)

    source = io.StringIO("\n".join(line.lstrip() for line in lines) + "\n")
    try:
        for tok in tokenize.generate_tokens(source.readline):
            yield tok._replace(start=placed(*tok.start), end=placed(*tok.end))
    except (tokenize.TokenError, SyntaxError):
        return


def _names(lines: list[str]) -> Iterator[tuple[tokenize.TokenInfo, bool]]:
    """Each name and operator token, and whether it is a name used as a value (not an
    attribute, not a keyword argument's name); the statement ends at NEWLINE tokens."""
    toks = [t for t in tokens(lines)
            if t.type in (tokenize.NAME, tokenize.OP, tokenize.NEWLINE)]
    depth = 0
    for i, tok in enumerate(toks):
        if tok.type == tokenize.OP:
            depth = max(0, depth + (tok.string in "([{") - (tok.string in ")]}"))
        before = toks[i - 1].string if i else ""
        after = toks[i + 1].string if i + 1 < len(toks) else ""
        used = (tok.type == tokenize.NAME and before != "."
                and not (depth and after == "="))
        yield tok, used


def _bound(names: list[tuple[tokenize.TokenInfo, bool]]) -> set[str]:
    """The names ``names`` (one suggestion's tokens) binds: assignment, walrus and annotation
    targets, ``for``/``lambda`` targets, ``as`` names, and every name of an import, ``global``,
    ``def`` or ``class`` statement (parameters too)."""
    bound: set[str] = set()
    for statement in _statements([tok for tok, _ in names]):
        words = [tok.string for tok in statement]
        is_name = [tok.type == tokenize.NAME for tok in statement]
        if words[0] in _BINDS_ALL:
            bound.update(w for w, n in zip(words, is_name, strict=True) if n)
            continue
        if len(words) > 1 and is_name[0] and words[1] == ":" and words[0] not in PYTHON_NAMES:
            bound.add(words[0])  # an annotation: ``count: int = 0``
        depth, last_assign = 0, -1
        for i, word in enumerate(words):
            depth = max(0, depth + (word in "([{") - (word in ")]}")) if not is_name[i] else depth
            if not is_name[i] and word == "=" and depth == 0:
                last_assign = i
            if word == ":=" and i and is_name[i - 1]:
                bound.add(words[i - 1])
            if word == "as" and i + 1 < len(words) and is_name[i + 1]:
                bound.add(words[i + 1])
        bound.update(w for w, n in zip(words[: max(last_assign, 0)], is_name, strict=False) if n)
        for opener, closer in _TARGETS:
            for i, word in enumerate(words):
                if word == opener:
                    j = i + 1
                    while j < len(words) and words[j] != closer:
                        if is_name[j]:
                            bound.add(words[j])
                        j += 1
    return bound


def _statements(toks: list[tokenize.TokenInfo]) -> Iterator[list[tokenize.TokenInfo]]:
    """``toks`` split at NEWLINE tokens (logical lines), none empty."""
    statement: list[tokenize.TokenInfo] = []
    for tok in toks:
        if tok.type == tokenize.NEWLINE:
            if statement:
                yield statement
            statement = []
        else:
            statement.append(tok)
    if statement:
        yield statement
