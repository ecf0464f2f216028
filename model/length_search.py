"""Length search: one span decoded at several content lengths, ranked by the model's own score.

The span keeps its budget (say 24 positions). For each length L, its first L positions are
denoised with the rest forced to the pad token (the form training gives a short answer in a long
budget); the span's context cache is the one its first pass computed, reused (span-isolated
attention: the context never sees the span). Every candidate, the plan's own decode included,
is then scored by the pseudo-log-likelihood of its whole span, content and pad tail: each
position is masked in turn (in ``SCORE_PASSES`` interleaved groups) and predicted from the rest.
The budget is the same for every candidate, so the scores compare lengths. The server uses it
for the alternatives of an explicit request on an empty line, and when none of an automatic
request's own candidates is usable; as the first suggestion it was no better than the plan's own
decode (model card, "Length search").
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from model.checkpoint import Engine
from model.sampler import DecodeSettings, _choose, _constrain, _layout, _texts, vocab_tables
from model.scoring import context_kv, span_logits

LENGTHS = tuple(range(3, 13))  # content lengths tried; a line's truth is 3-12 tokens mostly
SCORE_PASSES = 6
BATCH_ROWS = 32  # span sequences per batched pass


@dataclass(frozen=True)
class Ranked:
    """One candidate of the span: its text (as the sampler returns it), token ids and score."""

    text: str
    token_ids: list[int]
    score: float
    length: int | None  # the content length it was decoded at; None: given


@dataclass(frozen=True)
class Searched:
    """The candidates, best score first, and what the search cost (None when cancelled)."""

    ranked: list[Ranked] | None
    forward_passes: int
    elapsed_ms: float = 0.0


def _decode_lengths(engine, canvas, cache, lengths, s: DecodeSettings, cancel):
    """The span filled at each length (rest pad), all lengths in one batch; None if cancelled."""
    budget = len(canvas.holes[0])
    vocab = vocab_tables(engine)
    fixed = dataclasses.replace(s, fixed_length=True)  # no pad inside the content
    ids = torch.full((len(lengths), budget), engine.mask_id)
    open_ = torch.zeros(len(lengths), budget, dtype=torch.bool)
    for k, n in enumerate(lengths):
        ids[k, n:] = engine.pad_id
        open_[k, :n] = True
    steps_of = [max(1, math.ceil(n * s.steps_per_token)) for n in lengths]
    gen = torch.Generator().manual_seed(s.seed)
    steps = passes = 0
    while bool(open_.any()):
        if cancel is not None and cancel():
            return None, passes
        live = open_.any(1).nonzero()[:, 0]
        logits = span_logits(engine, cache, canvas.holes[0], ids[live])
        passes += 1
        for row, k in zip(logits, live.tolist()):
            row = _constrain(row, engine, vocab, canvas, fixed, guard=False)
            chosen, tokens = _choose(row, open_[k], steps_of[k] - steps, vocab, fixed, gen)
            ids[k, chosen] = tokens[chosen]
            open_[k] &= ~chosen
        steps += 1
    return ids, passes


def _scores(engine, cache, span: torch.Tensor, fills: torch.Tensor, cancel):
    """Pseudo-log-likelihood of each filled span (n, S): every position masked once, in
    ``SCORE_PASSES`` interleaved groups, each group one pass over every filling."""
    groups = min(SCORE_PASSES, fills.shape[1])
    total = torch.zeros(len(fills))
    passes = 0
    for g in range(groups):
        at = torch.arange(g, fills.shape[1], groups)
        x = fills.clone()
        x[:, at] = engine.mask_id
        for start in range(0, len(fills), BATCH_ROWS):
            if cancel is not None and cancel():
                return None, passes
            logits = span_logits(engine, cache, span, x[start:start + BATCH_ROWS], at)
            logits[..., engine.mask_id] = -math.inf
            truth = fills[start:start + BATCH_ROWS, at]
            logp = torch.log_softmax(logits, -1).gather(2, truth[..., None])[..., 0]
            total[start:start + BATCH_ROWS] += logp.sum(1)
            passes += 1
    return total.tolist(), passes


@torch.inference_mode()
def search_lengths(engine: Engine, prefix: str, suffix: str, settings: DecodeSettings,
                   given: Sequence[Sequence[int]] = (), lengths: Sequence[int] = LENGTHS,
                   cancel: Callable[[], bool] | None = None) -> Searched:
    """Decode the span between ``prefix`` and ``suffix`` (``settings.max_tokens`` positions)
    at each of ``lengths`` that fits, add the ``given`` fillings (token ids, pads dropped, as
    ``infill`` returns them), and rank them all by score, duplicates dropped. Only this
    package's denoiser without a logits shift searches (the others rank nothing: ``[]``)."""
    if engine.backend != "denoiser" or engine.config.logits_shift:
        return Searched([], 0)
    t0 = time.perf_counter()
    s = settings
    canvas = _layout(engine, [prefix, suffix], [s.max_tokens], s)
    budget = len(canvas.holes[0])
    lengths = [n for n in lengths if 0 < n <= budget]
    cache, passes = context_kv(engine, canvas)
    fills, decoded_passes = (_decode_lengths(engine, canvas, cache, lengths, s, cancel)
                             if lengths else (torch.zeros(0, budget, dtype=torch.long), 0))
    passes += decoded_passes
    if fills is None:
        return Searched(None, passes)
    rows = [list(g)[:budget] + [engine.pad_id] * (budget - min(len(g), budget)) for g in given]
    every = torch.cat([torch.tensor(rows, dtype=torch.long).reshape(-1, budget), fills])
    origin = [None] * len(rows) + list(lengths)
    scores, scored_passes = _scores(engine, cache, canvas.holes[0], every, cancel)
    passes += scored_passes
    if scores is None:
        return Searched(None, passes)
    ranked, seen = [], set()
    for i in sorted(range(len(every)), key=lambda i: -scores[i]):
        seq = canvas.seq.clone()
        seq[canvas.holes[0]] = every[i]
        texts, ids = _texts(engine, canvas, seq, s)
        if texts[0] in seen:
            continue
        seen.add(texts[0])
        ranked.append(Ranked(texts[0], ids[0], scores[i], origin[i]))
    return Searched(ranked, passes, (time.perf_counter() - t0) * 1000)
