""""Fix this function" on a Python name that nothing binds: ``return reslt`` beside ``result``.

Such a name raises NameError when its row runs, so in code that parses it is a bug that needs
no diagnostic to be found (``names.unbound_uses``: a name neither Python nor the function binds,
which stands nowhere else in the file, or which the file binds nowhere). Standing nowhere
else, it is replaced by one of the ``SPELLINGS`` names the file or Python has that are spelt
most like it (``difflib``), or split at a dropped dot after a module of
``slips.module_names`` (``mathceil`` -> ``math.ceil``): the row the model finds likeliest of
those the fewest edits away. Used more than once, the slip is where it was bound: a name the
function binds and never reads, spelt like it (``resultt = []``), takes its spelling. A name
with nothing spelt like it is left alone.
"""

from __future__ import annotations

import builtins
import functools
from collections import Counter
from collections.abc import Callable
from difflib import SequenceMatcher, get_close_matches

from lsprotocol import types

from lsp_server import names, slips
from lsp_server.actions.common import line_end, line_start
from lsp_server.edits import replace_span

SPELLINGS = 3  # the names spelt most like a slip that the model chooses among
CUTOFF = 0.75  # how alike (difflib's ratio) a name must be spelt to stand for a slip
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
Score = Callable[[tuple[int, int], list[str]], "list[float] | None"]  # None: cancelled


def respell(req, score: Score) -> list[types.TextEdit] | None:
    """The edit of the first unbound name on ``req``'s flagged rows (else its candidate rows)
    that has a respelling, the row ``score`` (log-probabilities of rows in place of a char
    span) likes best; None when there is none, or when cancelled."""
    doc = req.doc
    if doc.language != "python":
        return None
    texts = (req.around[0], doc.text, req.around[1])
    words = Counter(names.WORD.findall("\n".join(texts)))
    rows = set(req.flagged or req.candidates)
    lines = [doc.line_text(row) for row in range(req.first_row, req.last_row + 1)]
    uses, lone = names.unbound_uses(lines, words, *texts)
    file_binds = functools.cache(lambda name: names.file_binds(name, *texts))  # once a name
    for tok in uses:
        row = req.first_row + tok.start[0]
        if words[tok.string] > 1:  # used more than once: its binding is the slip
            alike, binding = max(((SequenceMatcher(None, tok.string, other.string).ratio(),
                                   other) for other in lone), key=lambda pair: pair[0],
                                 default=(0.0, None))
            if binding is not None and alike >= CUTOFF and {
                    row, req.first_row + binding.start[0]} & rows and not file_binds(tok.string):
                return _replaced(doc, req.first_row, binding, [tok.string], score)
            continue
        options = respellings(tok.string, words) if row in rows else []
        if options:
            return _replaced(doc, req.first_row, tok, options, score)
    return None


def _replaced(doc, first: int, tok, options: list[str], score: Score
              ) -> list[types.TextEdit] | None:
    """The edit of the row of ``tok`` (a token of the rows from ``first``) with ``tok`` replaced
    by whichever of ``options`` ``score`` likes best there; None when cancelled."""
    row = first + tok.start[0]
    text = doc.line_text(row)
    fixed = [text[: tok.start[1]] + option + text[tok.end[1] :] for option in options]
    span = (line_start(doc, row), line_end(doc, row))
    scores = score(span, fixed) if len(fixed) > 1 else [0.0]
    if scores is None:
        return None
    return replace_span(doc, *span, max(zip(scores, fixed), key=lambda pair: pair[0])[1],
                        by_lines=True)


def respellings(slip: str, words: Counter) -> list[str]:
    """The names ``words`` (a file's) or Python's builtins hold that are spelt most like
    ``slip`` (of those, the fewest edits from it: a slip is small), then ``slip`` split at a
    dropped dot: a module's name the file has, then one of that module's names."""
    vocabulary = {word for word in words if word != slip} | _BUILTINS
    dotted = [f"{slip[:at]}.{slip[at:]}" for at in range(1, len(slip))
              if words[slip[:at]] and slip[at:] in slips.module_names(slip[:at])]
    close = get_close_matches(slip, vocabulary, SPELLINGS, CUTOFF)
    edits = [edit_distance(slip, name) for name in close]
    return [name for name, edit in zip(close, edits) if edit == min(edits)] + dotted


def edit_distance(a: str, b: str) -> int:
    """How many letters must be dropped, added, changed or swapped with the next to turn ``a``
    into ``b`` (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y)))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
