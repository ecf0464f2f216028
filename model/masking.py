"""Training masks shaped like the product's work.

A file is tokenized once (:func:`tokenize_file`): token ids, the token index of every line and
the token spans of its tree-sitter regions. :class:`ExampleMaker` then cuts one training window
of ``seq_len`` tokens out of it, drawing the kind of corruption from a configurable mix:

* ``mdlm``: every token masked with probability t ~ U(eps, 1) (plain masked diffusion);
* ``lines``: 1-20 whole lines, the last one's newline left in the suffix as the server leaves
  the cursor line's (multi-line inline completion on an empty line);
* ``block``: a function body, block or statement ("fix this function");
* ``docstring``: a docstring ("insert docstring");
* ``cursor``: from a token inside a line to the end of that line (single-line completion);
* ``inside``: a span inside a line that stops before its end, the rest of the line in the suffix
  (an edit inside a line, an argument between brackets the editor closed);
* ``noise``: 5-20% of the tokens replaced, half by random ones and half by tokens of the same
  window (a plausible wrong name or operator); every position must name its original token,
  so the model can score existing code.

Span kinds get a mask *budget* B >= T for the T true tokens, as the server does: the input is
``prefix + B masks + suffix`` and the targets are the T tokens then B - T pads. A random share
of the span is revealed to mimic an intermediate denoising step. Spans that do not fit fall back
to ``mdlm``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("mdlm", "lines", "block", "docstring", "cursor", "inside", "noise")
DEFAULT_MIX = {
    "mdlm": 0.3,
    "lines": 0.2,
    "block": 0.2,
    "docstring": 0.05,
    "cursor": 0.1,
    "inside": 0.05,
    "noise": 0.1,
}
SPAN_CAPTURES = {"block": ("function.body", "block", "statement"), "docstring": ("docstring",)}
CAPTURE_KINDS = ("function.body", "block", "statement", "docstring")
# Mask budgets the server uses per kind: the span is sometimes given exactly this many masks.
SERVER_BUDGETS = {"lines": (24, 64), "cursor": (24,), "inside": (24,), "block": (64,),
                  "docstring": (64,)}
NUM_SPECIAL = 3  # pad, eos, mask: never drawn as noise
# Share of noise tokens drawn from the same window rather than the whole vocabulary: real bugs
# are a wrong name or operator that occurs nearby (model card, variants I and J: on the CPU this
# moved the fix benchmark's located figure (its visible-token score then) from 36.9% to 41.5%;
# uniform noise moved nothing).
IN_FILE_NOISE = 0.5


@dataclass
class TokenizedFile:
    """One file: token ids, lines as (start, content_end) token indices, region token spans."""

    ids: np.ndarray  # (n,) token ids
    lines: np.ndarray  # (num_lines, 2): first token, index of the newline (or n)
    spans: dict[str, np.ndarray]  # capture kind -> (m, 2) token [start, end)


@dataclass
class Example:
    """One training window; all arrays have length seq_len."""

    input_ids: np.ndarray  # int32
    targets: np.ndarray  # int32, pad (0) after a span's true tokens
    loss_mask: np.ndarray  # bool, the positions the loss is taken on
    region: np.ndarray  # bool, the positions being denoised (span-isolated attention)
    kind: str


def codepoints(text: str) -> np.ndarray:
    """The text as an array of code points."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def byte_to_char(text: str) -> np.ndarray | None:
    """Byte offset of every char (plus the end), for searchsorted; None for ASCII (identity)."""
    if text.isascii():
        return None
    cps = codepoints(text)
    widths = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
    return np.concatenate(([0], np.cumsum(widths)))  # byte offset of char i


def token_spans(starts: np.ndarray, ends: np.ndarray, char_spans: np.ndarray) -> np.ndarray:
    """Token [start, end) covering each char [start, end) span; empty ones dropped."""
    if len(char_spans) == 0:
        return np.zeros((0, 2), np.int32)
    first = np.searchsorted(ends, char_spans[:, 0], side="right")  # first token ending after
    stop = np.searchsorted(starts, char_spans[:, 1], side="left")  # first token at/after end
    out = np.stack([first, stop], axis=1).astype(np.int32)
    return np.unique(out[out[:, 1] > out[:, 0]], axis=0)


def region_char_spans(text: str, lang: str) -> dict[str, np.ndarray]:
    """Char spans of the tree-sitter regions of ``text``, by capture kind."""
    from lsp_server import regions  # tree-sitter only, no pygls

    data = text.encode("utf-8", "surrogatepass")
    found = regions.captures(lang, regions.parse(lang, data), set(CAPTURE_KINDS))
    to_char = byte_to_char(text)
    out = {}
    for kind in CAPTURE_KINDS:
        spans = np.array(
            [(r.start_byte, r.end_byte) for r in found if r.kind == kind], dtype=np.int64
        ).reshape(-1, 2)
        if to_char is not None:
            spans = np.searchsorted(to_char, spans, side="left")
        out[kind] = spans
    return out


def index_file(text: str, ids, offsets, lang: str = "python") -> TokenizedFile:
    """Lines and region spans of already-tokenized text (``offsets``: char (start, end))."""
    ids = np.asarray(ids, dtype=np.int32)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    starts, ends = offsets[:, 0], offsets[:, 1]
    # Newlines are their own tokens, so a line starts right after a token that ends in "\n".
    last_char = codepoints(text)[np.maximum(ends - 1, 0)] if len(ids) else ends
    nl_index = np.flatnonzero((ends > 0) & (last_char == ord("\n")))
    line_starts = np.concatenate(([0], nl_index + 1))
    line_ends = np.concatenate((nl_index, [len(ids)]))
    lines = np.stack([line_starts, line_ends], axis=1).astype(np.int32)
    lines = lines[lines[:, 0] < max(len(ids), 1)]  # no empty line after a final newline
    spans = {k: token_spans(starts, ends, v) for k, v in region_char_spans(text, lang).items()}
    return TokenizedFile(ids, lines, spans)


def tokenize_file(text: str, tokenizer, lang: str = "python") -> TokenizedFile:
    """Tokenize one file (tokenizers.Tokenizer or a fast transformers tokenizer) and index it."""
    tok = getattr(tokenizer, "backend_tokenizer", tokenizer)
    enc = tok.encode(text, add_special_tokens=False)
    return index_file(text, enc.ids, enc.offsets, lang)


class ExampleMaker:
    """Draws training windows from tokenized files with a seeded RNG."""

    def __init__(
        self,
        seq_len: int,
        mix: dict[str, float] | None = None,
        vocab_size: int = 8192,
        mask_id: int = 2,
        pad_id: int = 0,
        seed=0,
        eps: float = 1e-3,
        round_prob: float = 0.3,
    ):
        mix = dict(DEFAULT_MIX if mix is None else mix)
        unknown = set(mix) - set(KINDS)
        if unknown or not any(w > 0 for w in mix.values()):
            raise ValueError(f"bad mix {mix}: kinds are {KINDS}")
        self.kinds = [k for k in KINDS if mix.get(k, 0) > 0]
        weights = np.array([mix[k] for k in self.kinds], dtype=np.float64)
        self.probs = weights / weights.sum()
        self.seq_len, self.vocab_size = seq_len, vocab_size
        self.mask_id, self.pad_id = mask_id, pad_id
        self.eps, self.round_prob = eps, round_prob
        self.min_context = seq_len // 8
        self.rng = np.random.default_rng(seed)

    def make(self, file: TokenizedFile) -> Example:
        """One example of a kind drawn from the mix."""
        return self.make_kind(file, self.kinds[self.rng.choice(len(self.kinds), p=self.probs)])

    def make_kind(self, file: TokenizedFile, kind: str) -> Example:
        """One example of the given kind (span kinds fall back to mdlm when nothing fits)."""
        if kind == "noise":
            return self._noise(file)
        span = None
        if kind in ("lines", "cursor", "inside"):
            pick = {"lines": self._pick_lines, "cursor": self._pick_cursor,
                    "inside": self._pick_inside}[kind]
            span = pick(file)
        elif kind in SPAN_CAPTURES:
            span = self._pick_region(file, SPAN_CAPTURES[kind])
        if span is None:
            return self._mdlm(file)
        return self._span(file, *span, kind)

    # ------------------------------------------------------------ picking spans

    @property
    def max_span(self) -> int:
        return self.seq_len - self.min_context

    def _pick_lines(self, file) -> tuple[int, int] | None:
        lines = file.lines
        filled = np.flatnonzero(lines[:, 1] > lines[:, 0])  # the server never asks for blanks
        if len(filled) == 0:
            return None
        first = int(filled[self.rng.integers(len(filled))])
        count = int(self.rng.integers(1, 21))
        stop = min(first + count, len(lines))
        start = int(lines[first, 0])
        while stop > first + 1 and (lines[stop - 1, 1] - start > self.max_span  # shrink to fit
                                    or lines[stop - 1, 1] == lines[stop - 1, 0]):  # no blank end
            stop -= 1
        end = int(lines[stop - 1, 1])  # the last line's newline stays in the suffix
        return (start, end) if 0 < end - start <= self.max_span else None

    def _pick_cursor(self, file) -> tuple[int, int] | None:
        lines = file.lines[file.lines[:, 1] - file.lines[:, 0] >= 2]  # at least 2 tokens
        if len(lines) == 0:
            return None
        start, end = (int(v) for v in lines[self.rng.integers(len(lines))])
        if end - start > self.max_span:
            return None
        cursor = int(self.rng.integers(start, end + 1))  # == end: nothing left to type
        return cursor, end

    def _pick_inside(self, file) -> tuple[int, int] | None:
        lines = file.lines[file.lines[:, 1] - file.lines[:, 0] >= 3]  # room for a rest
        if len(lines) == 0:
            return None
        start, end = (int(v) for v in lines[self.rng.integers(len(lines))])
        if end - start > self.max_span:
            return None
        cursor = int(self.rng.integers(start, end - 1))
        return cursor, int(self.rng.integers(cursor + 1, end))  # at least a token stays

    def _pick_region(self, file, captures) -> tuple[int, int] | None:
        found = [file.spans[c] for c in captures if c in file.spans and len(file.spans[c])]
        if not found:
            return None
        spans = np.concatenate(found)
        spans = spans[spans[:, 1] - spans[:, 0] <= self.max_span]
        if len(spans) == 0:
            return None
        start, end = spans[self.rng.integers(len(spans))]
        return int(start), int(end)

    # ------------------------------------------------------------ building windows

    def _budget(self, truth: int, kind: str) -> int:
        """B >= T masks: T plus up to max(8, T) extra, or the server's fixed budget."""
        fixed = [b for b in SERVER_BUDGETS[kind] if b >= truth]
        if fixed and self.rng.random() < self.round_prob:
            budget = fixed[0]
        else:
            budget = truth + int(self.rng.integers(0, max(8, truth) + 1))
        return max(1, truth, min(budget, self.max_span))

    def _window(self, file):
        """A random seq_len window of the file's ids, pad-filled; returns (ids, real length)."""
        n = len(file.ids)
        start = int(self.rng.integers(0, n - self.seq_len + 1)) if n > self.seq_len else 0
        ids = np.full(self.seq_len, self.pad_id, dtype=np.int32)
        real = min(n, self.seq_len)
        ids[:real] = file.ids[start : start + real]
        return ids, real

    def _mdlm(self, file) -> Example:
        targets, real = self._window(file)
        t = self.rng.uniform(self.eps, 1.0)
        masked = np.zeros(self.seq_len, dtype=bool)
        masked[:real] = self.rng.random(real) < t
        if real and not masked.any():
            masked[self.rng.integers(real)] = True
        inputs = np.where(masked, self.mask_id, targets).astype(np.int32)
        return Example(inputs, targets, masked, masked.copy(), "mdlm")

    def _noise(self, file) -> Example:
        targets, real = self._window(file)
        share = self.rng.uniform(0.05, 0.2)
        draw = self.rng.random(self.seq_len)
        corrupt = np.zeros(self.seq_len, dtype=bool)
        corrupt[:real] = draw[:real] < share
        if real and not corrupt.any():
            corrupt[self.rng.integers(real)] = True
        noise = self.rng.integers(NUM_SPECIAL, self.vocab_size, self.seq_len, dtype=np.int32)
        if real:  # a share drawn from the window itself: a plausible bug, not gibberish
            own = targets[self.rng.integers(0, real, self.seq_len)]
            use_own = (self.rng.random(self.seq_len) < IN_FILE_NOISE) & (own >= NUM_SPECIAL)
            noise = np.where(use_own, own, noise)
        inputs = np.where(corrupt, noise, targets).astype(np.int32)
        region = np.arange(self.seq_len) < real
        clean_sample = region & ~corrupt & (draw > 1.0 - share)  # about as many clean as noisy
        return Example(inputs, targets, corrupt | clean_sample, region, "noise")

    def _span(self, file, start: int, end: int, kind: str) -> Example:
        """prefix + B span slots + suffix around the file's tokens [start, end)."""
        truth = end - start
        budget = self._budget(truth, kind)
        room = self.seq_len - budget
        n = len(file.ids)
        before = min(start, int(self.rng.integers(0, room + 1)))
        after = min(n - end, room - before)
        before = min(start, room - after)  # give the prefix what the suffix did not use
        span_ids = np.full(budget, self.pad_id, dtype=np.int32)
        span_ids[:truth] = file.ids[start:end]
        targets = np.full(self.seq_len, self.pad_id, dtype=np.int32)
        used = before + budget + after
        targets[:used] = np.concatenate(
            (file.ids[start - before : start], span_ids, file.ids[end : end + after])
        )
        region = np.zeros(self.seq_len, dtype=bool)
        region[before : before + budget] = True
        # Reveal a share r of the span, as after some denoising steps; no loss there.
        hidden = self.rng.random(budget) >= self.rng.random()
        if not hidden.any():
            hidden[self.rng.integers(budget)] = True
        loss_mask = np.zeros(self.seq_len, dtype=bool)
        loss_mask[before : before + budget] = hidden
        inputs = np.where(loss_mask, self.mask_id, targets).astype(np.int32)
        return Example(inputs, targets, loss_mask, region, kind)


class FileTable:
    """Many tokenized files packed into flat arrays; saved as .npy + json, never pickled."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.a = arrays  # ids, id_off, lines, line_off, spans, span_off, span_kind

    @classmethod
    def pack(cls, files: list[TokenizedFile]) -> FileTable:
        """Concatenate the files' arrays, with per-file offsets."""

        def offsets(sizes):
            return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)

        spans = [
            np.concatenate(
                [f.spans.get(k, np.zeros((0, 2), np.int32)) for k in CAPTURE_KINDS]
            ).reshape(-1, 2)
            for f in files
        ]
        kinds = [
            np.concatenate(
                [np.full(len(f.spans.get(k, ())), i, np.int8) for i, k in enumerate(CAPTURE_KINDS)]
            )
            for f in files
        ]
        ids = [f.ids for f in files]
        big = max((int(i.max()) for i in ids if len(i)), default=0) >= 1 << 16
        return cls(
            {
                "ids": np.concatenate(ids or [np.zeros(0)]).astype(np.int32 if big else np.uint16),
                "id_off": offsets([len(i) for i in ids]),
                "lines": np.concatenate([f.lines for f in files] or [np.zeros((0, 2))])
                .astype(np.int32)
                .reshape(-1, 2),
                "line_off": offsets([len(f.lines) for f in files]),
                "spans": np.concatenate(spans or [np.zeros((0, 2))])
                .astype(np.int32)
                .reshape(-1, 2),
                "span_kind": np.concatenate(kinds or [np.zeros(0)]).astype(np.int8),
                "span_off": offsets([len(s) for s in spans]),
            }
        )

    def __len__(self) -> int:
        return len(self.a["id_off"]) - 1

    def sizes(self) -> np.ndarray:
        """Token count of every file."""
        return np.diff(self.a["id_off"])

    def file(self, i: int) -> TokenizedFile:
        """The i-th file (views into the packed arrays)."""
        a = self.a
        lo, hi = a["span_off"][i], a["span_off"][i + 1]
        spans, kinds = a["spans"][lo:hi], a["span_kind"][lo:hi]
        return TokenizedFile(
            a["ids"][a["id_off"][i] : a["id_off"][i + 1]].astype(np.int32),
            a["lines"][a["line_off"][i] : a["line_off"][i + 1]],
            {k: spans[kinds == j] for j, k in enumerate(CAPTURE_KINDS)},
        )

    def save(self, directory) -> None:
        """One .npy per array under ``directory``."""
        for name, arr in self.a.items():
            np.save(f"{directory}/{name}.npy", arr, allow_pickle=False)

    @classmethod
    def load(cls, directory) -> FileTable:
        """Memory-mapped arrays written by :meth:`save`."""
        names = ("ids", "id_off", "lines", "line_off", "spans", "span_kind", "span_off")
        # Plain ndarray views of the memory maps: np.memmap slicing is slow in the loader.
        return cls(
            {
                n: np.asarray(np.load(f"{directory}/{n}.npy", mmap_mode="r", allow_pickle=False))
                for n in names
            }
        )


def stack(examples: list[Example]) -> dict[str, np.ndarray]:
    """Batch arrays (B, seq_len) keyed by Example field name."""
    return {
        f: np.stack([getattr(e, f) for e in examples])
        for f in ("input_ids", "targets", "loss_mask", "region")
    }
