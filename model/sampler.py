"""Masked-span infill: denoise holes in place against the code on both sides.

The language server needs only::

    engine = model.load(path, device)
    result = model.infill(engine, prefix, suffix, DecodeSettings(max_tokens=24), cancel=flag)

How a hole is filled:

* the document is laid out as ``piece0 <mask * budget0> piece1 ...``; only the
  hole positions are ever written (everything else is copied through);
* each step scores every open position; every position whose confidence exceeds
  ``threshold`` is committed, and at least ``ceil(open / steps_left)`` are, so a
  span of B tokens costs at most ``ceil(B * steps_per_token)`` forward passes;
  decoding stops as soon as all positions are committed;
* the budget is larger than the answer: the unused tail is denoised to the pad
  (or EOS) token and dropped, which gives variable length;
* whitespace-only tokens (newlines, indentation, pad) rank lower when choosing
  what to commit first (content-first ordering), and an output that collapses to
  whitespace is retried once with blanks banned at the hole's first position;
* a cursor inside a word is healed: the prefix's last token is removed and the
  hole's first token must start with its text, which is then cut from the output;
* ``cancel()`` is checked before every forward pass;
* context cache: the first pass computes the context's keys/values, later passes
  run only the span's tokens against them. With span-isolated attention this is
  exact; with bidirectional (Dream-style) attention it is Fast-dLLM's
  approximation, refreshed every ``refresh_every`` steps (0 = never);
* shared first pass: inside ``with shared_first_pass(engine):`` (a request's
  several attempts at one span) and for the blank-guarded retry, a canvas laid out
  exactly as before reuses that first pass (its logits and context cache) instead
  of running it again. Same input, same output: the texts do not change.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import torch
from transformers import PreTrainedTokenizerFast

from model.checkpoint import Engine
from model.network import context_cache

if TYPE_CHECKING:
    from model.gemma_backend import GemmaEngine


@dataclass(frozen=True)
class DecodeSettings:
    max_tokens: int = 32
    threshold: float = 0.5
    max_steps: int | None = None
    steps_per_token: float = 0.125
    seed: int = 0
    temperature: float = 0.0
    use_cache: bool = True
    cuda_graphs: bool = True  # replay cached steps as one CUDA graph (CUDA only)
    refresh_every: int = 0
    context_tokens: int = 384
    single_line: bool = False
    allow_empty: bool = True
    blank_penalty: float = 0.5
    fixed_length: bool = False  # no pad tail: every budget position gets content


@dataclass
class SpansResult:
    texts: list[str]
    token_ids: list[list[int]] = field(default_factory=list)
    cancelled: bool = False
    forward_passes: int = 0
    elapsed_ms: float = 0.0


@dataclass
class InfillResult:
    text: str
    token_ids: list[int]
    cancelled: bool
    forward_passes: int
    elapsed_ms: float


# A control character other than tab, newline and carriage return: never code or prose.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _Vocab:
    """Per-tokenizer token tables: decoded strings, newline, blank and control-character ids."""

    def __init__(self, engine: Engine):
        tok = engine.tokenizer  # None for random-weight speed benchmarks
        n = len(tok) if tok is not None else 0
        size = max(engine.config.vocab_size, n)
        self.strings = [decode(tok, [i]) if tok is not None and i < n else ""
                        for i in range(size)]
        dev = engine.device
        newline = [i for i, s in enumerate(self.strings) if "\n" in s]
        self.newline = torch.tensor(newline, dtype=torch.long, device=dev)
        blank = [i for i, s in enumerate(self.strings) if s.strip() == ""]
        self.blank = torch.zeros(size, dtype=torch.bool, device=dev)
        self.blank[blank + [engine.pad_id, engine.eos_id]] = True
        control = [i for i, s in enumerate(self.strings) if CONTROL.search(s)]
        self.control = torch.tensor(control, dtype=torch.long, device=dev)
        self._heal: dict[str, torch.Tensor] = {}
        self.device = dev

    def starting_with(self, text: str) -> torch.Tensor:
        """Boolean mask of tokens whose text starts with ``text``."""
        if text not in self._heal:
            if len(self._heal) >= 512:  # one entry per distinct heal token: keep it bounded
                self._heal.clear()
            allowed = torch.tensor([s.startswith(text) for s in self.strings], device=self.device)
            self._heal[text] = allowed
        return self._heal[text]


_VOCABS: dict[tuple, _Vocab] = {}


def vocab_tables(engine: Engine) -> _Vocab:
    key = (id(engine.tokenizer), str(engine.device))
    if key not in _VOCABS:
        _VOCABS[key] = _Vocab(engine)
    return _VOCABS[key]


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def tokenizable(text: str) -> str:
    """``text`` with each lone UTF-16 surrogate (half of a pair an editor split) replaced by
    U+FFFD, one character for one, so that character offsets still match the document."""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def tokenizer_of(engine: Engine) -> PreTrainedTokenizerFast:
    """The engine's tokenizer (only random-weight speed benchmarks have none)."""
    assert engine.tokenizer is not None, "engine without a tokenizer"
    return engine.tokenizer


def decode(tok: PreTrainedTokenizerFast, ids: list[int]) -> str:
    """The text of ``ids`` (one string: ``decode`` is typed to return a list for batches)."""
    return cast(str, tok.decode(ids))


def encode(engine: Engine, text: str) -> list[int]:
    """The token ids of ``text`` (no special tokens)."""
    if not text:
        return []
    return tokenizer_of(engine)(tokenizable(text), add_special_tokens=False)["input_ids"]


def _heal(engine: Engine, text: str, ids: list[int]) -> str:
    """Pop the last token if the piece ends mid-word; return its text (the heal)."""
    if not ids or not text or text[-1].isspace():
        return ""
    last = decode(tokenizer_of(engine), [ids[-1]])
    if not last or not text.endswith(last):
        return ""
    ids.pop()
    return last


@dataclass
class _Canvas:
    seq: torch.Tensor  # (L,) token ids, mask tokens in the holes
    holes: list[torch.Tensor]  # positions of each hole
    heals: list[str]


def _layout(engine: Engine, pieces: list[str], budgets: list[int], s: DecodeSettings) -> _Canvas:
    ids = [encode(engine, p) for p in pieces]
    heals = [_heal(engine, pieces[i], ids[i]) for i in range(len(budgets))]
    budgets = [b + (1 if h else 0) for b, h in zip(budgets, heals)]
    room = max(s.context_tokens - sum(len(x) for x in ids[1:-1]), 16)
    if len(ids) > 1 and len(ids[0]) + len(ids[-1]) > room:
        keep_suffix = min(len(ids[-1]), max(room // 4, room - len(ids[0])))
        ids[-1] = ids[-1][:keep_suffix]
        ids[0] = ids[0][max(0, len(ids[0]) - (room - keep_suffix)):]
    if engine.config.logits_shift and not ids[0]:
        ids[0] = [engine.eos_id]  # position i-1 must exist to predict token i
    seq, holes = [], []
    for i, piece in enumerate(ids):
        seq += piece
        if i < len(budgets):
            holes.append(torch.arange(len(seq), len(seq) + budgets[i]))
            seq += [engine.mask_id] * budgets[i]
    return _Canvas(torch.tensor(seq), holes, heals)


def _constrain(logits, engine, vocab, canvas, s: DecodeSettings, guard: bool):
    """Ban the mask token and control characters (and newlines / pads / blanks where settings
    ask); heal starts."""
    logits[:, engine.mask_id] = -math.inf
    if len(vocab.control):
        logits[:, vocab.control] = -math.inf
    if s.single_line and len(vocab.newline):
        logits[:, vocab.newline] = -math.inf
    if s.fixed_length:
        logits[:, [engine.pad_id, engine.eos_id]] = -math.inf
    offset = 0
    for hole, heal in zip(canvas.holes, canvas.heals):
        if heal:
            logits[offset, ~vocab.starting_with(heal)] = -math.inf
        elif guard:
            logits[offset, vocab.blank] = -math.inf
        offset += len(hole)
    return logits


def _choose(logits, open_mask, steps_left, vocab, s: DecodeSettings, gen):
    """Pick (positions, tokens) to commit this step among open span positions."""
    probs = torch.softmax(logits.float(), dim=-1)
    if s.temperature > 0:
        tokens = torch.multinomial(torch.softmax(logits.float() / s.temperature, -1).cpu(), 1,
                                   generator=gen)[:, 0].to(logits.device)
    else:
        tokens = probs.argmax(-1)
    conf = probs.gather(1, tokens[:, None])[:, 0]
    rank = torch.where(vocab.blank[tokens], conf * s.blank_penalty, conf)
    open_mask = open_mask.to(logits.device)
    rank = torch.where(open_mask, rank, -1.0)
    n_open = int(open_mask.sum())
    n_min = math.ceil(n_open / max(steps_left, 1))
    chosen = open_mask & (conf > s.threshold)
    if int(chosen.sum()) < n_min:
        chosen[rank.topk(n_min).indices] = True
    return chosen.cpu(), tokens.cpu()


class _StepGraph:
    """A cached step captured once as a CUDA graph and replayed (no per-kernel launch cost)."""

    def __init__(self, net, ids: torch.Tensor, positions: torch.Tensor, cache: list):
        self.ids, self.positions = ids.clone(), positions.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            net.step(self.ids, self.positions, cache)  # warm-up outside the capture
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.logits = net.step(self.ids, self.positions, cache)

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        self.ids.copy_(ids)
        self.graph.replay()
        return self.logits


def _cached_step(net, ids, positions, cache, graph, use_graph: bool, rows):
    """Logits of one cached step at ``rows`` (1, S) of the pass, through a (lazily captured)
    CUDA graph when asked (a graph's shapes are fixed, so it computes every row)."""
    if not use_graph:
        return net.step(ids, positions, cache, logits_at=rows), None
    graph = graph or _StepGraph(net, ids, positions, cache)
    return graph(ids)[:, rows[0]], graph


class _FirstPass:
    """The first pass over one canvas (raw logits at the span, context cache), for reuse."""

    def __init__(self) -> None:
        self.key: tuple[torch.Tensor, torch.Tensor] | None = None
        self.logits: torch.Tensor | None = None
        self.cache: list | None = None

    def get(self, canvas: _Canvas) -> tuple[torch.Tensor, list | None] | None:
        """(logits, cache) when ``canvas`` (its tokens and holes) is the one stored, else None."""
        if self.key is None or not all(map(torch.equal, self.key, _key(canvas))):
            return None
        assert self.logits is not None  # stored with the key
        return self.logits.clone(), self.cache  # the sampler edits logits in place

    def put(self, canvas: _Canvas, logits: torch.Tensor, cache: list | None) -> None:
        self.key, self.logits, self.cache = _key(canvas), logits.clone(), cache


def _key(canvas: _Canvas) -> tuple[torch.Tensor, torch.Tensor]:
    return canvas.seq, torch.cat(canvas.holes)


_SHARED = threading.local()  # engine id -> _FirstPass, inside shared_first_pass()


@contextmanager
def shared_first_pass(engine: Engine | GemmaEngine) -> Iterator[None]:
    """Let the infill calls inside this block on the same span (same pieces, budgets and context
    cut) reuse one first pass: a request's second attempt then costs only its cached steps. The
    stored pass is dropped when the block ends, so nothing outlives the request."""
    memos = _SHARED.__dict__.setdefault("memos", {})
    outer = memos.get(id(engine))
    memos[id(engine)] = outer or _FirstPass()
    try:
        yield
    finally:
        if outer is None:
            memos.pop(id(engine), None)


def _memo(engine: Engine) -> _FirstPass:
    """The shared first pass of this engine in this thread, or a fresh one for one call."""
    return getattr(_SHARED, "memos", {}).get(id(engine)) or _FirstPass()


def _denoise(engine: Engine, canvas: _Canvas, s: DecodeSettings, cancel, guard: bool,
             memo: _FirstPass | None = None):
    """Run the denoising loop; returns (whole sequence | None if cancelled, forward passes run).

    With ``memo``, a first pass over the same canvas is taken from it (and the new one stored);
    the steps left are counted as if it had run, so the result is the same either way.
    """
    net, dev, vocab = engine.network, engine.device, vocab_tables(engine)
    seq = canvas.seq.clone()
    span = torch.cat(canvas.holes)
    logit_pos = span - 1 if engine.config.logits_shift else span
    query = torch.unique(torch.cat((span, logit_pos)))  # sorted
    rows = torch.searchsorted(query, logit_pos)  # logit rows inside a query-only pass
    region = torch.zeros(len(seq), dtype=torch.bool)
    region[query] = True
    ctx = (~region).nonzero()[:, 0]
    open_mask = torch.ones(len(span), dtype=torch.bool)
    budget = s.max_steps or max(1, math.ceil(len(span) * s.steps_per_token))
    gen = torch.Generator().manual_seed(s.seed)
    cache, graph, passes, steps = None, None, 0, 0
    use_graph = s.cuda_graphs and dev.type == "cuda"
    # Fixed for the whole request: moved to the device once, not on every step.
    region_d, logit_pos_d, ctx_d = region[None].to(dev), logit_pos[None].to(dev), ctx.to(dev)
    query_d, rows_d = query[None].to(dev), rows.to(dev)
    while bool(open_mask.any()):
        if cancel is not None and cancel():
            return None, passes
        ids = seq[None].to(dev)
        full = cache is None or (s.refresh_every and steps % s.refresh_every == 0)
        reused = memo.get(canvas) if memo is not None and steps == 0 else None
        if reused is not None:
            logits, cache = reused
        elif full or not s.use_cache:
            logits, kvs = net.run(ids, region=region_d, logits_at=logit_pos_d)
            cache = context_cache(kvs, ctx_d) if s.use_cache else None
            graph = None  # a new cache needs a new capture
            if memo is not None and steps == 0:
                memo.put(canvas, logits, cache)
        else:
            # Only open positions need logits: the output layer is a third of a step on a CPU.
            wanted = open_mask.to(dev)
            part, graph = _cached_step(net, ids[:, query_d[0]], query_d, cache, graph,
                                       use_graph, rows_d[wanted][None])
            logits = part.new_zeros(1, len(span), part.shape[-1])
            logits[:, wanted] = part
        passes += reused is None
        steps += 1
        logits = _constrain(logits[0].float(), engine, vocab, canvas, s, guard)
        chosen, tokens = _choose(logits, open_mask, budget - steps + 1, vocab, s, gen)
        seq[span[chosen]] = tokens[chosen]
        open_mask &= ~chosen
    return seq, passes


def _texts(engine: Engine, canvas: _Canvas, seq: torch.Tensor, s: DecodeSettings):
    """Decode each hole, dropping pad/EOS and the healed prefix."""
    texts, ids = [], []
    for hole, heal in zip(canvas.holes, canvas.heals):
        toks = [t for t in seq[hole].tolist() if t not in (engine.pad_id, engine.eos_id)]
        text = decode(tokenizer_of(engine), toks) if toks else ""
        text = text[len(heal):] if heal and text.startswith(heal) else text
        if s.single_line:
            text = text.split("\n", 1)[0]
        texts.append(text)
        ids.append(toks)
    return texts, ids


@torch.inference_mode()
def infill_spans(engine: Engine | GemmaEngine, pieces: list[str], budgets: list[int],
                 settings: DecodeSettings | None = None,
                 cancel: Callable[[], bool] | None = None) -> SpansResult:
    """Fill the holes between ``pieces`` (``len(pieces) - 1`` of them) jointly."""
    s = settings or DecodeSettings()
    assert len(pieces) == len(budgets) + 1 and all(b > 0 for b in budgets), "one budget per hole"
    if engine.backend == "diffusion_gemma":
        from model import gemma_backend

        pieces = [tokenizable(p) for p in pieces]
        r = gemma_backend.infill_spans(engine, pieces, budgets, s, cancel or (lambda: False))
        return SpansResult(r.texts, [], r.cancelled, r.forward_passes, r.elapsed_ms)
    t0 = time.perf_counter()
    canvas = _layout(engine, pieces, budgets, s)
    memo = _memo(engine)
    seq, passes = _denoise(engine, canvas, s, cancel, guard=False, memo=memo)
    texts, ids = _texts(engine, canvas, seq, s) if seq is not None else ([], [])
    if seq is not None and not s.allow_empty and all(not t.strip() for t in texts):
        seq, more = _denoise(engine, canvas, s, cancel, guard=True, memo=memo)
        passes += more
        if seq is not None:
            texts, ids = _texts(engine, canvas, seq, s)
    elapsed = (time.perf_counter() - t0) * 1000
    if seq is None:
        return SpansResult([""] * len(budgets), [], True, passes, elapsed)
    return SpansResult(texts, ids, False, passes, elapsed)


def infill(engine: Engine | GemmaEngine, prefix: str, suffix: str,
           settings: DecodeSettings | None = None,
           cancel: Callable[[], bool] | None = None) -> InfillResult:
    """Fill one span of at most ``settings.max_tokens`` tokens between prefix and suffix."""
    s = settings or DecodeSettings()
    r = infill_spans(engine, [prefix, suffix], [s.max_tokens], s, cancel)
    return InfillResult(r.texts[0] if r.texts else "", r.token_ids[0] if r.token_ids else [],
                        r.cancelled, r.forward_passes, r.elapsed_ms)
