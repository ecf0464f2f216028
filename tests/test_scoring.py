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


def test_choices_in_place_of_a_span_are_the_best_tokens_when_it_is_one_mask(engine):
    """A one-token span: its best choice is ``masked_scores``' choice there; a longer span
    is one mask too, so what it held never matters."""
    enc = engine.tokenizer(TEXT, add_special_tokens=False, return_offsets_mapping=True)
    start, end = enc["offset_mapping"][-3]
    (score,) = masked_scores(engine, TEXT, [(start, start + 1)])
    [choices] = model.scoring.masked_choices(engine, TEXT, [(start, end)], k=5)
    assert len(choices) == 5 and choices[0] == pytest.approx((score.best, score.best_logprob))
    assert [p for _, p in choices] == sorted((p for _, p in choices), reverse=True)
    longer = TEXT[:start] + "misspelt_word" + TEXT[end:]
    [again] = model.scoring.masked_choices(engine, longer, [(start, start + 13)], k=5)
    assert [t for t, _ in again] == [t for t, _ in choices]
    assert [p for _, p in again] == pytest.approx([p for _, p in choices])
    first, second = model.scoring.masked_choices(engine, TEXT, [(0, 3), (start, end)], k=2)
    assert len(first) == len(second) == 2  # both masked in the one pass: the second sees less
    assert [p for _, p in second] != pytest.approx([p for _, p in choices[:2]])
    assert model.scoring.masked_choices(engine, TEXT, []) == []
    near, far = model.scoring.masked_choices(engine, TEXT, [(0, 3), (start, end)], max_tokens=4)
    assert len(near) == 8 and far == []  # past ``max_tokens``: no choices
    assert model.scoring.masked_choices(engine, TEXT, [(start, end)], max_tokens=4) == [[]]


def test_span_logprobs_is_the_chain_rule_left_to_right(engine):
    """Each fill's score is what full passes without the context cache give: the span (the
    longest fill plus a pad) masked whole, each position scored, then revealed, up to the pad
    that ends the fill."""
    import torch

    from model.sampler import encode

    prefix, suffix = "def area(width, height):\n", "\n    return area\n"
    fills = ["    return width * height", "    return (width)"]
    got = model.scoring.span_logprobs(engine, prefix, suffix, fills)
    before, after = encode(engine, prefix), encode(engine, suffix)
    ids = [encode(engine, fill) for fill in fills]
    budget = max(map(len, ids)) + 1
    assert len(ids[0]) != len(ids[1]) and len(got) == 2
    for fill_ids, score in zip(ids, got):
        span = fill_ids + [engine.pad_id] * (budget - len(fill_ids))
        want = 0.0
        for at in range(len(fill_ids) + 1):
            seq = before + span[:at] + [engine.mask_id] * (budget - at) + after
            region = torch.zeros(1, len(seq), dtype=torch.bool)
            region[0, len(before) : len(before) + budget] = True
            with torch.inference_mode():
                logits = engine.network(torch.tensor([seq]), region=region)[0, len(before) + at]
                logits[engine.mask_id] = -torch.inf
                want += float(torch.log_softmax(logits.float(), -1)[span[at]])
        assert score == pytest.approx(want, abs=1e-3)


def test_span_logprobs_stops_when_cancelled(engine):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2  # after the context pass and one position

    assert model.scoring.span_logprobs(engine, "x = ", "\n", ["1", "2 + 3"], cancel) is None
    assert len(calls) == 3
    assert model.scoring.span_logprobs(engine, "x = ", "\n", []) == []
