"""Scoring the tokens already in a text with each one masked (model/scoring.py)."""

import pytest

import model
from model.scoring import masked_scores

TEXT = "def area(width, height):\n    return width * height\n"


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    return model.load(str(tiny_checkpoint), "cpu")


def test_scores_the_tokens_starting_in_the_spans_in_order(engine):
    body = TEXT.index("    return")
    scores = masked_scores(engine, TEXT, [(body, len(TEXT))], passes=3)
    enc = engine.tokenizer(TEXT, add_special_tokens=False, return_offsets_mapping=True)
    assert [(s.start, s.end) for s in scores] == [
        (a, b) for a, b in enc["offset_mapping"] if body <= a]
    specials = {engine.tokenizer.decode([i])
                for i in (engine.mask_id, engine.pad_id, engine.eos_id)}
    for s in scores:
        assert s.margin <= 1e-6 and s.best not in specials


def one_token_swapped(engine, text: str) -> tuple[str, int, int]:
    """``text`` with its second-to-last token replaced by another that tokenizes back the
    same way, and that token's char span."""
    tok = engine.tokenizer
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, start = enc["input_ids"], enc["offset_mapping"][-2][0]
    for other in range(3, len(tok)):
        swapped = ids[:-2] + [other] + ids[-1:]
        candidate = tok.decode(swapped)
        if other != ids[-2] and tok(candidate, add_special_tokens=False)["input_ids"] == swapped:
            return candidate, start, start + len(tok.decode([other]))
    raise AssertionError("no token swaps in")


def test_a_masked_token_is_predicted_without_seeing_it(engine):
    """The choice at a scored token is the same whatever token stands there; its own score
    is not."""
    other, start, _ = one_token_swapped(engine, TEXT)
    (mine,) = masked_scores(engine, TEXT, [(start, start + 1)])
    (theirs,) = masked_scores(engine, other, [(start, start + 1)])
    assert TEXT[mine.start:mine.end] != other[theirs.start:theirs.end]
    assert (mine.best, mine.best_logprob) == pytest.approx((theirs.best, theirs.best_logprob))
    assert mine.logprob != pytest.approx(theirs.logprob)


def test_more_passes_mask_fewer_tokens_at_once(engine):
    spans = [(0, len(TEXT))]
    one, each = masked_scores(engine, TEXT, spans, passes=1), masked_scores(engine, TEXT, spans,
                                                                              passes=64)
    assert [(s.start, s.end) for s in one] == [(s.start, s.end) for s in each]
    assert [s.logprob for s in one] != pytest.approx([s.logprob for s in each])


def test_cancel_is_checked_before_each_pass(engine):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 1

    assert masked_scores(engine, TEXT, [(0, len(TEXT))], passes=4, cancel=cancel) is None
    assert len(calls) == 2


def test_nothing_to_score(engine):
    assert masked_scores(engine, "", [(0, 5)]) == []
    assert masked_scores(engine, TEXT, []) == []


def test_offsets_hold_with_a_lone_surrogate(engine):
    half = "def f():\n    s = '\ud83d'\n    return s\n"  # half of an emoji's pair
    spans = [(0, len(half))]
    assert [(s.start, s.end) for s in masked_scores(engine, half, spans)] == [
        (s.start, s.end) for s in masked_scores(engine, half.replace("\ud83d", "\ufffd"), spans)]
