"""Inline completion attempts: keep the first candidate that leaves the syntax intact.

Shared by the server's inline completion and the HumanEval benchmark, so the benchmark measures
what the user gets. Attempt 1 is the plan's greedy decode; a block plan then tries one line; the
rest sample (temperature, new seed). A candidate that adds no syntax error is returned at once;
when none does, the one adding the fewest (the earliest among equals) is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

SAMPLE_TEMPERATURE = 0.8


@dataclass
class Attempted:
    """The chosen text (None: nothing usable or cancelled) and what it cost."""

    text: str | None
    attempts: int = 0
    added_errors: int = 0
    forward_passes: int = 0
    elapsed_ms: float = 0.0
    cancelled: bool = False


def schedule(first, count: int, line_tokens: int) -> list:
    """``count`` DecodeSettings to try, in order, starting from the plan's ``first``."""
    tries = [first]
    if not first.single_line and count > 1:
        tries.append(dataclasses.replace(first, max_tokens=line_tokens, single_line=True))
    seed = first.seed
    while len(tries) < count:
        seed += 1
        tries.append(dataclasses.replace(first, temperature=SAMPLE_TEMPERATURE, seed=seed))
    return tries[:count]


def complete(
    engine,
    prefix: str,
    suffix: str,
    tries: list,
    finish: Callable[[str], str | None],
    added_errors: Callable[[str], int],
    cancel: Callable[[], bool] = lambda: False,
) -> Attempted:
    """Infill with each settings in ``tries`` until ``finish``-ed text adds no syntax error."""
    from model import infill

    out, best = Attempted(None), None
    for settings in tries:
        result = infill(engine, prefix, suffix, settings, cancel=cancel)
        out.attempts += 1
        out.forward_passes += result.forward_passes
        out.elapsed_ms += result.elapsed_ms
        if result.cancelled:
            return dataclasses.replace(out, text=None, cancelled=True)
        text = finish(result.text)
        if text is None:
            continue
        errors = added_errors(text)
        if best is None or errors < best[0]:
            best = (errors, text)
        if errors == 0:
            break
    if best is not None:
        out.added_errors, out.text = best
    return out
