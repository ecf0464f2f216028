"""Byte-level BPE with newline isolation and indentation units (model/tokenizer.py)."""

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from model.tokenizer import SPECIAL_TOKENS, load, save, train_tokenizer

SAMPLE = '''class Stack:
    """A tiny stack."""

    def __init__(self):
        self.items = []

    def push(self, item):
        if item is None:
            raise ValueError("no None")
        self.items.append(item)

    def pop(self):
        return self.items.pop()


def total(values):
    result = 0
    for value in values:
        if value > 0:
            result += value
    return result
'''

ROUND_TRIP = [
    "",
    "def f():\n    return 1\n",
    "x = 'é 日本語 🐍'  \n\tif y:\r\n\t\tpass   \r\n",
    "   \n\n\n  \t  mixed\tindent  ",
    "<|mask|> literal specials <|endoftext|>",
    "a\u00a0b\u200bc\x00\x7f\ufeff",
]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer([SAMPLE] * 20, vocab_size=300)


@pytest.fixture(scope="module")
def hf(tok, tmp_path_factory):
    return load(save(tok, tmp_path_factory.mktemp("tok")))


def test_specials_have_fixed_ids(tok):
    ids = [tok.token_to_id(token) for token in SPECIAL_TOKENS.values()]
    assert ids == [0, 1, 2]
    assert tok.get_vocab_size() == 300


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip(tok, hf, text):
    assert tok.decode(tok.encode(text).ids, skip_special_tokens=False) == text
    assert hf.decode(hf.encode(text)) == text


def test_newline_is_always_its_own_token(tok):
    newline = tok.token_to_id("Ċ")
    for text in [SAMPLE, "a\n\nb\n", "x = 1\n    \ny\n"]:
        enc = tok.encode(text)
        newlines = [i for i, (start, end) in enumerate(enc.offsets) if "\n" in text[start:end]]
        assert newlines and all(enc.ids[i] == newline for i in newlines)
        assert len(newlines) == text.count("\n")


def test_indentation_is_split_in_four_space_units(tok):
    text = "def f():\n        return 1\n   x\n\t\ty\n"
    enc = tok.encode(text)
    pieces = [text[start:end] for start, end in enc.offsets]
    line = pieces[pieces.index("\n") + 1 :]
    assert line[:2] == ["    ", "    "] and line[2].startswith("r")
    tail = pieces[pieces.index("x") - 1 :]
    assert tail[0].strip() == "" and tail[1:] == ["x", "\n", "\t", "\t", "y", "\n"]


def test_indentation_never_merges_with_code(tok):
    enc = tok.encode(SAMPLE)
    for token, (start, end) in zip(enc.tokens, enc.offsets, strict=True):
        piece = SAMPLE[start:end]
        at_line_start = start == 0 or SAMPLE[start - 1] == "\n"
        if at_line_start and piece.startswith(" "):
            assert piece == "    ", token


def test_load_gives_working_fast_tokenizer(tok, hf, tmp_path: Path):
    assert (hf.mask_token_id, hf.pad_token_id, hf.eos_token_id) == (2, 0, 1)
    assert hf.encode("<|mask|>") == [2]
    assert hf.encode(SAMPLE) == tok.encode(SAMPLE).ids
    auto = AutoTokenizer.from_pretrained(save(tok, tmp_path / "auto"))
    assert (auto.mask_token_id, auto.pad_token_id, auto.eos_token_id) == (2, 0, 1)
    assert auto.decode(auto.encode(ROUND_TRIP[2])) == ROUND_TRIP[2]
