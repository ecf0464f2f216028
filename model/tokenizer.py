"""Byte-level BPE tokenizer for Python source, trained on the corpus.

The pre-tokenizer is shaped by what the product rewrites: whole lines and indented blocks.

* Every ``\\n`` is its own pre-token, so no token ever straddles a line boundary: a line-aligned
  span is always a whole number of tokens, and ``single_line`` decoding can ban newlines by id.
* Leading indentation is cut into runs of four spaces (one ``"    "`` token per level) plus a
  1-3 space remainder; leading tabs are single ``"\\t"`` pre-tokens. Indentation therefore never
  merges with the word that follows it, so the model sees ``return`` the same at every depth.
  The regex uses ``\\G`` (anchored at the end of the previous match), so it only consumes
  whitespace at the start of each line; runs of spaces inside a line keep GPT-2 behaviour.
* Then ``ByteLevel(add_prefix_space=False)`` with its GPT-2 regex: any byte sequence encodes, and
  with no normalizer, ``decode(encode(text)) == text`` for every string.

Specials have fixed ids: ``<|pad|>`` = 0, ``<|endoftext|>`` = 1, ``<|mask|>`` = 2.

    python -m model.tokenizer --corpus DIR/corpus.jsonl --out DIR [--vocab 8192] [--max-chars N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from model.corpus import read_corpus

SPECIAL_TOKENS = {"pad": "<|pad|>", "eos": "<|endoftext|>", "mask": "<|mask|>"}
NEWLINE = r"\n"
LEADING_INDENT = r"\G(?: {1,4}|\t)"  # consecutive matches from the line start only
MAX_TOKEN_CHARS = 16  # no vocab spent on long runs ("-" * 72, emoji banners); same tokens/char


def pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    """Newlines isolated, leading indentation in 4-space/tab units, then GPT-2 byte-level."""
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(NEWLINE), behavior="isolated"),
            pre_tokenizers.Split(Regex(LEADING_INDENT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )


def train_tokenizer(texts: Iterable[str], vocab_size: int = 8192) -> Tokenizer:
    """Train a byte-level BPE with the specials at ids 0, 1, 2."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        max_token_length=MAX_TOKEN_CHARS,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    for i, token in enumerate(SPECIAL_TOKENS.values()):
        assert tok.token_to_id(token) == i, (token, tok.token_to_id(token))
    return tok


def save(tok: Tokenizer, directory: Path) -> Path:
    """Write tokenizer.json + tokenizer_config.json (loadable offline by AutoTokenizer)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tok.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "pad_token": SPECIAL_TOKENS["pad"],
        "eos_token": SPECIAL_TOKENS["eos"],
        "mask_token": SPECIAL_TOKENS["mask"],
        "clean_up_tokenization_spaces": False,  # would rewrite " ." etc. and break round-trips
        "model_max_length": 1 << 30,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return directory


def load(directory: Path) -> PreTrainedTokenizerFast:
    """The saved tokenizer as a PreTrainedTokenizerFast with pad/eos/mask set (no network)."""
    return PreTrainedTokenizerFast(
        tokenizer_file=str(Path(directory) / "tokenizer.json"),
        pad_token=SPECIAL_TOKENS["pad"],
        eos_token=SPECIAL_TOKENS["eos"],
        mask_token=SPECIAL_TOKENS["mask"],
        clean_up_tokenization_spaces=False,
    )


def sample_texts(texts: Iterable[str], max_chars: int | None, seed: int = 0) -> Iterator[str]:
    """A seeded random subset of texts totalling at most about max_chars (all if None)."""
    pool = list(texts)
    random.Random(seed).shuffle(pool)
    total = 0
    for text in pool:
        if max_chars is not None and total >= max_chars:
            return
        total += len(text)
        yield text


def main(corpus: Path, out: Path, vocab: int, max_chars: int | None) -> Tokenizer:
    """Train on (a sample of) the corpus, save it, and report chars/token on the sample."""
    texts = list(sample_texts(read_corpus(corpus), max_chars))
    chars = sum(map(len, texts))
    start = time.perf_counter()
    tok = train_tokenizer(texts, vocab)
    seconds = time.perf_counter() - start
    tokens = sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))
    save(tok, out)
    report = {
        "files": len(texts),
        "chars": chars,
        "train_s": round(seconds, 1),
        "tokens": tokens,
        "tokens_per_char": round(tokens / max(chars, 1), 4),
    }
    print(json.dumps(report), file=sys.stderr)
    return tok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--max-chars", type=int, default=None)
    args = parser.parse_args()
    main(args.corpus, args.out, args.vocab, args.max_chars)
