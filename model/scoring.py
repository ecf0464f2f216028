"""How likely the model finds the tokens already in a text: what "Fix this function" points at.

Each scored token is masked and predicted from everything around it, the task the model is
trained on. Masking one token per pass would cost a pass per token, so the scored tokens are
masked in ``passes`` interleaved groups (every ``passes``-th token per pass; the rest visible),
as in the random-ratio masking of training. On planted one-token bugs in HumanEval functions
(model card), 6 passes found and repaired as many as 8 and more than 4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from model.checkpoint import Engine
from model.sampler import encode, tokenizable, tokenizer_of, vocab_tables

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
