"""Candidates tried in turn: keep the first that leaves the syntax intact.

Used by inline completion, "Fix this function" and the HumanEval benchmark (which so measures
what the user gets). Attempt 1 is the plan's greedy decode; an inline block plan then tries one
line; the rest sample (temperature, new seed). A candidate that adds no syntax error is returned
at once; when none does, the one adding the fewest (the earliest among equals) is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SAMPLE_TEMPERATURE = 0.8


@dataclass
class Attempted:
    """The chosen candidate (None: nothing usable, or cancelled) and what it cost."""

    text: Any = None
    attempts: int = 0
    added_errors: int | None = None  # None: a lone try, returned unchecked
    forward_passes: int = 0
    elapsed_ms: float = 0.0
    cancelled: bool = False


def schedule(first, count: int, line_tokens: int | None = None) -> list:
    """``count`` DecodeSettings to try in order, from the plan's ``first``.

    With ``line_tokens``, a multi-line ``first`` is followed by a one-line attempt of that budget.
    """
    tries = [first]
    if line_tokens and not first.single_line:
        tries.append(dataclasses.replace(first, max_tokens=line_tokens, single_line=True))
    seed = first.seed
    while len(tries) < count:
        seed += 1
        tries.append(dataclasses.replace(first, temperature=SAMPLE_TEMPERATURE, seed=seed))
    return tries[:count]


def best_of(
    tries: list,
    generate: Callable[[Any], Any],
    finish: Callable[[Any], Any],
    added_errors: Callable[[Any], int],
) -> Attempted:
    """Run ``generate(settings)`` for each of ``tries`` until a ``finish``-ed candidate adds no
    syntax error. ``generate`` returns a sampler result (``cancelled``, ``forward_passes``,
    ``elapsed_ms``); ``finish`` turns it into a candidate, or None when it has nothing to offer.
    A lone try has nothing to be compared with, so it is never checked (no parse on that path).
    """
    out, best, alone = Attempted(), None, len(tries) == 1
    for settings in tries:
        result = generate(settings)
        out.attempts += 1
        out.forward_passes += result.forward_passes
        out.elapsed_ms += result.elapsed_ms
        if result.cancelled:
            return dataclasses.replace(out, text=None, cancelled=True)
        candidate = finish(result)
        if candidate is None:
            continue
        errors = None if alone else added_errors(candidate)
        if best is None or errors < best[0]:
            best = (errors, candidate)
        if not errors:
            break
    if best is not None:
        out.added_errors, out.text = best
    return out
