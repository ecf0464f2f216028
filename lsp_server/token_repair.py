"""One-token repairs for "Fix this function": a token the model finds unlikely where it stands,
replaced by the token it likes best there (``model.scoring``).

Most slips are one token: a wrong name, operator or constant. On planted bugs of that kind
(model card) this repairs many more than rewriting whole lines, which also rewrote lines that
were right. Without a diagnostic, a repair is offered only where the model prefers its own token
by a margin (``fixMargin``) plus ``RUNNER_UP`` times what it prefers at the function's least
likely other token: the repair must stand out, since code the model finds odd all over is
mostly right; and only a word for a word. Never one that names something the file does not
have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from lsp_server.documents import Document
from lsp_server.names import WORD, known_words

RUNNER_UP = 0.5  # share of the least likely other token's margin added to the one asked
TRIES = 8  # the least likely tokens tried in turn


@dataclass(frozen=True)
class Repair:
    """Replace the document's chars ``start``..``end`` (one token) by ``text``."""

    start: int
    end: int
    text: str
    margin: float


def suspects(engine, doc: Document, rows: tuple[int, ...], first: int, last: int,
             cancel: Callable[[], bool]) -> list | None:
    """The scores (``model.scoring.TokenScore``, document offsets) of the tokens on ``rows``
    with content, least likely first; the model reads the chars ``first``..``last`` (the
    function). None when cancelled."""
    from model.scoring import masked_scores

    text = doc.text[first:last]
    spans = [(doc.offset_at(r, 0) - first, doc.offset_at(r, 0) - first + len(doc.line_text(r)))
             for r in rows]
    scores = masked_scores(engine, text, spans, cancel=cancel)
    if scores is None:
        return None
    found = [s for s in scores if text[s.start : s.end].strip()]
    return sorted((replace(s, start=s.start + first, end=s.end + first) for s in found),
                  key=lambda s: s.margin)


def repairs(doc: Document, scores: list, margin: float, unprompted: bool = False
            ) -> Iterator[Repair]:
    """One-token repairs from the least likely token on (``scores`` sorted so), at most
    ``TRIES`` of them, while the model prefers its token by more than ``margin`` in
    log-probability: not blank, on one line, and naming nothing the document does not (a
    builtin or keyword aside, in Python). ``unprompted`` (no diagnostic points at the code): the
    margin grows by ``RUNNER_UP`` times the model's preference at the least likely of the other
    tokens, and only a word (name, keyword, number) replaces a word; the model's operators
    and brackets there were right 14 times in 547 (model card)."""
    known = known_words(doc.text, doc.language)
    for i, score in enumerate(scores[:TRIES]):
        other = scores[1 if i == 0 else 0].margin if len(scores) > 1 else 0.0
        if -score.margin <= margin - (RUNNER_UP * other if unprompted else 0.0):
            return
        new = score.best
        if not new.strip() or "\n" in new:
            continue
        if unprompted and not (_has_word(new) and _has_word(doc.text[score.start : score.end])):
            continue
        before, after = _word_edges(doc.text, score.start, score.end)
        word = before + new + after
        if any(name not in known for name in WORD.findall(word)):
            continue
        yield Repair(score.start, score.end, new, score.margin)


def _has_word(text: str) -> bool:
    """Whether ``text`` holds a word character (a name, keyword or number)."""
    return any(c.isalnum() or c == "_" for c in text)


def _word_edges(text: str, start: int, end: int) -> tuple[str, str]:
    """The word characters right before ``start`` and right after ``end`` (a token inside a
    name makes a new name with them)."""
    lo, hi = start, end
    while lo > 0 and (text[lo - 1].isalnum() or text[lo - 1] == "_"):
        lo -= 1
    while hi < len(text) and (text[hi].isalnum() or text[hi] == "_"):
        hi += 1
    return text[lo:start], text[end:hi]
