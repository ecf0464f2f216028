"""Candidates tried in turn: keep the first that leaves the syntax intact, offer no broken one.

Used by inline completion, "Fix this function" and the HumanEval benchmark (which so measures
what the user gets). Attempt 1 is the plan's greedy decode; an inline block plan then tries one
line; the rest sample (temperature, new seed). A candidate that adds no syntax error is returned
at once (or, when several different ones are wanted, collected until there are enough); when
every one adds some, nothing is offered: such a suggestion can never be right.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SAMPLE_TEMPERATURE = 0.8


@dataclass
class Attempted:
    """The chosen candidate (None: nothing usable, all broken, or cancelled), every different
    one kept (``texts``, the chosen first) and what they cost."""

    text: Any = None
    texts: list = field(default_factory=list)
    attempts: int = 0
    added_errors: int | None = None  # fewest errors a candidate added; None: none was checked
    forward_passes: int = 0
    elapsed_ms: float = 0.0
    cancelled: bool = False

    @property
    def withheld(self) -> bool:
        """Candidates came, but every one added a syntax error (and none was cancelled)."""
        return self.text is None and not self.cancelled and bool(self.added_errors)


def schedule(first, count: int, line_tokens: int | None = None, sampled=None) -> list:
    """``count`` DecodeSettings (at least one) to try in order, from the plan's ``first``.

    With ``line_tokens``, a multi-line ``first`` is followed by a one-line attempt of that budget.
    The rest sample, from ``sampled`` (default ``first``; its span and length as ``first``'s).
    """
    tries = [first]
    if line_tokens and not first.single_line:
        tries.append(dataclasses.replace(first, max_tokens=line_tokens, single_line=True))
    base = first if sampled is None else sampled
    seed = first.seed
    while len(tries) < count:
        seed += 1
        tries.append(dataclasses.replace(base, temperature=SAMPLE_TEMPERATURE, seed=seed))
    return tries[: max(1, count)]


def best_of(
    tries: list,
    generate: Callable[[Any], Any],
    finish: Callable[[Any], Any],
    added_errors: Callable[[Any], int] | None,
    keep: int = 1,
) -> Attempted:
    """Run ``generate(settings)`` for each of ``tries`` until ``keep`` different ``finish``-ed
    candidates add no syntax error. ``generate`` returns a sampler result (``cancelled``,
    ``forward_passes``, ``elapsed_ms``); ``finish`` turns it into a candidate, or None when it
    has nothing to offer. ``added_errors=None`` turns the check off: candidates are taken as
    they are.
    """
    out = Attempted()
    for settings in tries:
        result = generate(settings)
        out.attempts += 1
        out.forward_passes += result.forward_passes
        out.elapsed_ms += result.elapsed_ms
        if result.cancelled:
            return dataclasses.replace(out, text=None, texts=[], cancelled=True)
        candidate = finish(result)
        if candidate is None:
            continue
        if added_errors is not None:
            errors = added_errors(candidate)
            out.added_errors = errors if out.added_errors is None else min(out.added_errors, errors)
            if errors:
                continue
        if candidate not in out.texts:
            out.texts.append(candidate)
        if len(out.texts) >= keep:
            break
    out.text = out.texts[0] if out.texts else None
    return out


def merged(earlier: Attempted, later: Attempted) -> Attempted:
    """``later``'s candidates after ``earlier``'s, with what both cost."""
    errors = [e for e in (earlier.added_errors, later.added_errors) if e is not None]
    texts = earlier.texts + [t for t in later.texts if t not in earlier.texts]
    return Attempted(
        text=texts[0] if texts else None,
        texts=texts,
        attempts=earlier.attempts + later.attempts,
        added_errors=min(errors) if errors else None,
        forward_passes=earlier.forward_passes + later.forward_passes,
        elapsed_ms=earlier.elapsed_ms + later.elapsed_ms,
        cancelled=later.cancelled,
    )
