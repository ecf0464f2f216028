"""How likely the model finds the tokens already in a text: what "Fix this function" points at.

``masked_scores``: each scored token is masked and predicted from everything around it, the task
the model is trained on. Masking one token per pass would cost a pass per token, so the scored
tokens are masked in ``passes`` interleaved groups (every ``passes``-th token per pass; the rest
visible), as in the random-ratio masking of training. On planted one-token bugs in HumanEval
functions (model card), 6 passes found and repaired as many as 8 and more than 4.

``span_logprobs``: how likely each of several fillings of one span is, by the chain rule (the
span masked whole, then revealed left to right), which ranks edits of a row against each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from model.checkpoint import Engine
from model.network import context_cache
from model.sampler import (
           DecodeSettings,
           _Canvas,
           _layout,
           _memo,
           encode,
           tokenizable,
           tokenizer_of,
           vocab_tables,
)

PASSES = 6


@dataclass(frozen=True)
class TokenScore:
    """One token of the text: its char span, its log-probability where it stands (masked), and
    the token the model likes best there with that one's log-probability."""

    start: int
    end: int
    logprob: float
    best: str
    best_logprob: float

    @property
    def margin(self) -> float:
        """How much less likely the token is than the model's choice (0: it is the choice)."""
        return self.logprob - self.best_logprob


@torch.inference_mode()
def masked_scores(engine: Engine, text: str, spans: list[tuple[int, int]],
                  passes: int = PASSES, cancel: Callable[[], bool] | None = None,
                  max_tokens: int = 2048) -> list[TokenScore] | None:
    """Scores of the tokens of ``text`` that start inside one of the char ``spans``, in text
    order; None when cancelled (checked before each pass). The model's choice is never a
    special token. Only the engine's own denoiser scores (DiffusionGemma gets ``[]``)."""
    if engine.backend != "denoiser" or not text:
        return []
    enc = tokenizer_of(engine)(tokenizable(text), add_special_tokens=False,
                               return_offsets_mapping=True)
    ids = torch.tensor(enc["input_ids"][:max_tokens])
    offsets = enc["offset_mapping"][: len(ids)]
    shift = int(engine.config.logits_shift)  # position i - 1 predicts token i
    targets = torch.tensor([i for i, (start, _) in enumerate(offsets)
                            if i >= shift and any(a <= start < b for a, b in spans)],
                           dtype=torch.long)
    banned = [engine.mask_id, engine.pad_id, engine.eos_id]
    strings = vocab_tables(engine).strings
    logprob = torch.zeros(len(ids))
    best_logprob, best = torch.zeros(len(ids)), torch.zeros(len(ids), dtype=torch.long)
    for group in range(min(passes, len(targets))):
        if cancel is not None and cancel():
            return None
        at = targets[group::passes]
        masked = ids.clone()
        masked[at] = engine.mask_id
        region = torch.zeros(1, len(ids), dtype=torch.bool)
        region[0, at] = True
        logits = engine.network(masked[None].to(engine.device), region=region.to(engine.device),
                                logits_at=(at - shift)[None].to(engine.device))[0].float().cpu()
        logits[:, banned] = -torch.inf
        logp = torch.log_softmax(logits, -1)
        logprob[at] = logp.gather(1, ids[at, None])[:, 0]
        best_logprob[at], best[at] = logp.max(-1)
    return [TokenScore(offsets[i][0], offsets[i][1], float(logprob[i]), strings[int(best[i])],
                       float(best_logprob[i])) for i in targets.tolist()]


@torch.inference_mode()
def masked_choices(engine: Engine, text: str, spans: list[tuple[int, int]], k: int = 8,
                   max_tokens: int = 2048) -> list[list[tuple[str, float]]]:
    """For each char span of ``text`` (in order, not overlapping), the ``k`` tokens the model
    likes best in its place when the span is one mask token (all spans masked in one pass), with
    their log-probabilities, best first; never a special token. A misspelt word is often several
    tokens, the word meant one. Only the engine's own denoiser scores (else no choices)."""
    if engine.backend != "denoiser" or not spans:
        return [[] for _ in spans]
    bounds = [0, *(edge for span in spans for edge in span), len(text)]
    pieces = [encode(engine, text[bounds[i] : bounds[i + 1]]) for i in range(0, len(bounds), 2)]
    ids: list[int] = []
    holes: list[int] = []
    for piece in pieces[:-1]:
        ids += piece
        holes.append(len(ids))
        ids.append(engine.mask_id)
    ids += pieces[-1]
    shift = int(engine.config.logits_shift)  # position i - 1 predicts token i
    if shift and holes[0] == 0:
        ids, holes = [engine.eos_id, *ids], [i + 1 for i in holes]
    seq = torch.tensor(ids[:max_tokens])
    at = torch.tensor([i for i in holes if i < len(seq)], dtype=torch.long)
    if not len(at):  # every span past ``max_tokens``
        return [[] for _ in spans]
    region = torch.zeros(1, len(seq), dtype=torch.bool)
    region[0, at] = True
    logits = engine.network(seq[None].to(engine.device), region=region.to(engine.device),
                            logits_at=(at - shift)[None].to(engine.device))[0].float().cpu()
    logits[:, [engine.mask_id, engine.pad_id, engine.eos_id]] = -torch.inf
    top = torch.log_softmax(logits, -1).topk(k, -1)
    strings = vocab_tables(engine).strings
    found = [[(strings[int(i)], float(p)) for p, i in zip(ps, idx)]
             for ps, idx in zip(top.values, top.indices)]
    return found + [[] for _ in range(len(spans) - len(found))]


def context_kv(engine: Engine, canvas: _Canvas) -> tuple[list, int]:
    """The context keys/values of a one-hole canvas (span-isolated attention: the context never
    sees the span) and the passes that cost: from the request's shared first pass when it
    computed them (0), else from one context pass (1)."""
    stored = _memo(engine).get(canvas)
    if stored is not None and stored[1] is not None:
        return stored[1], 0
    span = canvas.holes[0]
    region = torch.zeros(1, len(canvas.seq), dtype=torch.bool)
    region[0, span] = True
    dev = engine.device
    _, kvs = engine.network.run(canvas.seq[None].to(dev), region=region.to(dev),
                                logits_at=span[None].to(dev))
    return context_cache(kvs, (~region[0]).nonzero()[:, 0].to(dev)), 1


def span_logits(engine: Engine, cache: list, span: torch.Tensor, ids: torch.Tensor,
                rows: torch.Tensor | None = None) -> torch.Tensor:
    """Float logits (n, S, V) of ``n`` span fillings against one context cache (only at span
    ``rows`` when given: (n, len(rows)))."""
    n = len(ids)
    dev = engine.device
    kv = [(k.expand(n, -1, -1, -1), v.expand(n, -1, -1, -1)) for k, v in cache]
    at = None if rows is None else rows[None].expand(n, -1).to(dev)
    return engine.network.step(ids.to(dev), span[None].expand(n, -1).to(dev), kv,
                               logits_at=at).float().cpu()


@torch.inference_mode()
def span_logprobs(engine: Engine, prefix: str, suffix: str, fills: list[str],
                  cancel: Callable[[], bool] | None = None,
                  context_tokens: int = 2048) -> list[float] | None:
    """Log-likelihood of each of ``fills`` between ``prefix`` and ``suffix``, by the chain rule:
    in a span as long as the longest fill plus one pad, all masked, each position is scored and
    then revealed, left to right, up to the pad that ends the fill. A pseudo-likelihood
    (``masked_scores``) lets tokens that predict each other vouch for each other (an added
    bracket pair); this does not, so fills of different lengths compare. One context pass and
    one pass per position over all fills; None when cancelled; all 0.0 for an engine that
    cannot score this way (DiffusionGemma, a checkpoint with a logits shift)."""
    if engine.backend != "denoiser" or engine.config.logits_shift or not fills:
        return [0.0] * len(fills)
    settings = DecodeSettings(max_tokens=1, context_tokens=context_tokens)
    heal = _layout(engine, [prefix, suffix], [1], settings).heals[0]  # a word cut at the span
    ids = [encode(engine, heal + fill) for fill in fills]
    budget = max(map(len, ids)) + 1
    canvas = _layout(engine, [prefix, suffix], [budget - bool(heal)], settings)
    assert len(canvas.holes[0]) == budget, (len(canvas.holes[0]), budget)
    seqs = torch.full((len(fills), budget), engine.pad_id)
    for row, fill_ids in zip(seqs, ids):
        row[: len(fill_ids)] = torch.tensor(fill_ids, dtype=torch.long)
    if cancel is not None and cancel():
        return None
    cache, _ = context_kv(engine, canvas)
    total = torch.zeros(len(fills))
    for at in range(budget):
        live = torch.tensor([k for k, fill_ids in enumerate(ids) if at <= len(fill_ids)])
        if cancel is not None and cancel():
            return None
        masked = seqs[live].clone()
        masked[:, at:] = engine.mask_id
        logits = span_logits(engine, cache, canvas.holes[0], masked, torch.tensor([at]))[:, 0]
        logits[:, engine.mask_id] = -torch.inf
        total[live] += torch.log_softmax(logits, -1).gather(1, seqs[live, at, None])[:, 0]
    return total.tolist()
