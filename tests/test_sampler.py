"""Sampler properties on a tiny random checkpoint saved in the real format."""

import dataclasses
import math

import pytest
import torch

from model import DecodeSettings, infill, infill_spans, load, shared_first_pass
from model.sampler import CONTROL, _denoise, _layout, encode, tokenizable, vocab_tables
from tests.conftest import build_tiny_checkpoint

PREFIX = "def area(width, height):\n    result = width * height\n"
SUFFIX = "\n    return result\n\n\nprint(area(2, 3))\n"


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    return load(tiny_checkpoint)


class Biased(torch.nn.Module):
    """The real network with a fixed bias added to its logits (steers a random model)."""

    def __init__(self, net, bias):
        super().__init__()
        self.net, self.bias, self.config = net, bias, net.config

    def run(self, *args, **kwargs):
        logits, kvs = self.net.run(*args, **kwargs)
        return logits + self.bias, kvs

    def step(self, *args, **kwargs):
        return self.net.step(*args, **kwargs) + self.bias

    def forward(self, *args, **kwargs):
        return self.net(*args, **kwargs) + self.bias


def biased(engine, **token_bias):
    bias = torch.zeros(engine.config.vocab_size)
    for token_id, value in token_bias.values():
        bias[token_id] = value
    return dataclasses.replace(engine, network=Biased(engine.network, bias))


def test_only_masked_positions_change(engine):
    s = DecodeSettings(max_tokens=12)
    canvas = _layout(engine, [PREFIX, SUFFIX], [12], s)
    seq, passes = _denoise(engine, canvas, s, None, guard=False)
    outside = torch.ones(len(seq), dtype=torch.bool)
    outside[canvas.holes[0]] = False
    assert torch.equal(seq[outside], canvas.seq[outside])
    assert not (seq[canvas.holes[0]] == engine.mask_id).any()
    assert passes <= math.ceil(12 * s.steps_per_token)


def test_parallel_decoding_pass_budget(engine):
    for budget in (8, 32, 64):
        s = DecodeSettings(max_tokens=budget, threshold=1.1)
        r = infill(engine, PREFIX, SUFFIX, s)
        assert r.forward_passes == math.ceil(budget * s.steps_per_token) <= budget * 0.25


def test_cancel_stops_within_one_step(engine):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    r = infill(engine, PREFIX, SUFFIX, DecodeSettings(max_tokens=64, threshold=1.1), cancel)
    assert r.cancelled and r.text == ""
    assert r.forward_passes == 2


def test_same_seed_same_output(engine):
    s = DecodeSettings(max_tokens=16, temperature=1.0, seed=7)
    a, b = infill(engine, PREFIX, SUFFIX, s), infill(engine, PREFIX, SUFFIX, s)
    assert a.token_ids == b.token_ids
    others = {tuple(infill(engine, PREFIX, SUFFIX, dataclasses.replace(s, seed=k)).token_ids)
              for k in range(4)}
    assert len(others) > 1  # the seed really drives sampling


def test_cache_is_exact_for_span_isolated(engine):
    s = DecodeSettings(max_tokens=24)
    cached = infill(engine, PREFIX, SUFFIX, s)
    plain = infill(engine, PREFIX, SUFFIX, dataclasses.replace(s, use_cache=False))
    assert cached.token_ids == plain.token_ids and cached.text == plain.text


def test_bidirectional_cache_refreshed_every_step_equals_uncached(tmp_path):
    eng = load(build_tiny_checkpoint(tmp_path, attention="bidirectional", logits_shift=True))
    s = DecodeSettings(max_tokens=16, refresh_every=1)
    assert infill(eng, PREFIX, SUFFIX, s).token_ids == \
        infill(eng, PREFIX, SUFFIX, dataclasses.replace(s, use_cache=False)).token_ids
    approx = infill(eng, PREFIX, SUFFIX, dataclasses.replace(s, refresh_every=0))
    assert len(approx.token_ids) <= 16 and not approx.cancelled


class Counting(Biased):
    """Counts the full passes (``run``) the sampler makes."""

    def __init__(self, net):
        super().__init__(net, torch.zeros(net.config.vocab_size))
        self.full_passes = 0

    def run(self, *args, **kwargs):
        self.full_passes += 1
        return super().run(*args, **kwargs)


def test_shared_first_pass_skips_the_context_pass_and_changes_nothing(engine):
    eng = dataclasses.replace(engine, network=Counting(engine.network))
    block = DecodeSettings(max_tokens=12, threshold=1.1)
    tries = [block, dataclasses.replace(block, single_line=True),
             dataclasses.replace(block, temperature=0.8, seed=3), block]
    alone = [infill(eng, PREFIX, SUFFIX, s) for s in tries]
    assert eng.network.full_passes == 4
    with shared_first_pass(eng):
        shared = [infill(eng, PREFIX, SUFFIX, s) for s in tries]
        assert eng.network.full_passes == 5  # only the first try ran the context pass
        other = infill(eng, PREFIX + "x = 1\n", SUFFIX, block)  # another canvas: its own pass
        assert eng.network.full_passes == 6 and other.forward_passes == alone[0].forward_passes
    assert [r.token_ids for r in shared] == [r.token_ids for r in alone]
    assert [r.forward_passes for r in shared] == [alone[0].forward_passes] + [
        r.forward_passes - 1 for r in alone[1:]]
    infill(eng, PREFIX, SUFFIX, block)  # after the block nothing is kept
    assert eng.network.full_passes == 7


def test_pad_tail_is_dropped(engine):
    eng = biased(engine, pad=(engine.pad_id, 30.0))
    r = infill(eng, PREFIX, SUFFIX, DecodeSettings(max_tokens=16))
    assert r.text == "" and r.token_ids == []


def test_mid_word_cursor_is_healed(engine):
    prefix = "def f(x):\n    ret"
    heal = _layout(engine, [prefix, " x\n"], [4], DecodeSettings(max_tokens=4)).heals[0]
    assert heal and "ret".endswith(heal)  # the prefix's last token ("t", "et" or "ret")
    decode = engine.tokenizer.decode
    target = next(i for i in range(engine.config.vocab_size)
                  if decode([i]).startswith(heal) and len(decode([i])) > len(heal))
    eng = biased(engine, word=(target, 25.0), pad=(engine.pad_id, 30.0))
    r = infill(eng, prefix, " x\n", DecodeSettings(max_tokens=4))
    # The healed token is rewritten whole, and its first characters are not repeated.
    assert r.text == decode([target])[len(heal):]
    assert prefix + r.text == prefix[: len(prefix) - len(heal)] + decode([target])


def test_single_line_has_no_newline(engine):
    newline = engine.tokenizer.convert_tokens_to_ids("Ċ")
    eng = biased(engine, nl=(newline, 30.0))
    r = infill(eng, PREFIX, SUFFIX, DecodeSettings(max_tokens=12, single_line=True))
    assert "\n" not in r.text and r.text.strip()


def test_whitespace_collapse_is_retried(engine):
    newline = engine.tokenizer.convert_tokens_to_ids("Ċ")
    eng = biased(engine, nl=(newline, 30.0))
    collapsed = infill(eng, PREFIX, SUFFIX, DecodeSettings(max_tokens=8))
    assert collapsed.text.strip() == ""
    guarded = infill(eng, PREFIX, SUFFIX, DecodeSettings(max_tokens=8, allow_empty=False))
    assert guarded.text.strip() != ""


def test_several_holes_filled_jointly(engine):
    r = infill_spans(engine, ["a = 1\n", "\nb = 2\n", "\n"], [4, 6], DecodeSettings())
    assert len(r.texts) == 2 and len(r.token_ids[0]) <= 4 and len(r.token_ids[1]) <= 6


def test_lone_surrogates_are_tokenized_as_replacement_characters(engine):
    half = "def f():\n    s = '\ud83d'\n    return s\n"  # half of an emoji's pair, split by an edit
    assert tokenizable(half) == half.replace("\ud83d", "\ufffd")
    assert len(tokenizable(half)) == len(half)  # offsets into the document still hold
    assert encode(engine, half) == encode(engine, half.replace("\ud83d", "\ufffd"))
    r = infill(engine, half, "\n", DecodeSettings(max_tokens=4))
    assert len(r.token_ids) == 4


def test_a_control_character_is_never_written(engine):
    """Steered hard toward a control-character token, the sampler writes the next best."""
    vocab = vocab_tables(engine)
    control = vocab.control.tolist()
    assert control and all(CONTROL.search(vocab.strings[i]) for i in control)
    assert not any(CONTROL.search(s) for i, s in enumerate(vocab.strings) if i not in control)
    bell = vocab.strings.index("\x07")
    steered = biased(engine, bell=(bell, 50.0))
    for settings in (DecodeSettings(max_tokens=8), DecodeSettings(max_tokens=8, temperature=1.0)):
        text = infill(steered, PREFIX, SUFFIX, settings).text
        assert text and not CONTROL.search(text), text
