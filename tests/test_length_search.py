"""Length search: a span decoded at several lengths, ranked by score (model/length_search.py)."""

import math

import pytest
import torch

import model
from model import DecodeSettings, infill, shared_first_pass
from model.length_search import SCORE_PASSES, search_lengths
from model.sampler import _layout
from tests.conftest import build_tiny_checkpoint

PREFIX = "def area(width, height):\n"
SUFFIX = "\n    return result\n"
SETTINGS = DecodeSettings(max_tokens=12, threshold=0.9, steps_per_token=0.75)


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    return model.load(str(tiny_checkpoint), "cpu")


def direct_score(engine, ids: list[int]) -> float:
    """The pseudo-log-likelihood of one filled span, from full uncached passes, one filling at
    a time: what the batched, cached search must reproduce."""
    canvas = _layout(engine, [PREFIX, SUFFIX], [SETTINGS.max_tokens], SETTINGS)
    span = canvas.holes[0]
    total = 0.0
    for g in range(SCORE_PASSES):
        at = span[g::SCORE_PASSES]
        seq = canvas.seq.clone()
        seq[span] = torch.tensor(ids)
        truth = seq[at].clone()
        seq[at] = engine.mask_id
        region = torch.zeros(1, len(seq), dtype=torch.bool)
        region[0, span] = True
        with torch.inference_mode():
            logits, _ = engine.network.run(seq[None], region=region, logits_at=at[None])
        logits = logits[0].float().clone()
        logits[:, engine.mask_id] = -math.inf
        total += float(torch.log_softmax(logits, -1).gather(1, truth[:, None]).sum())
    return total


def test_each_length_is_decoded_and_every_candidate_ranked_by_its_span_score(engine):
    given = infill(engine, PREFIX, SUFFIX, SETTINGS)
    found = search_lengths(engine, PREFIX, SUFFIX, SETTINGS, [given.token_ids], lengths=(2, 4, 6))
    ranked = found.ranked
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert len({r.text for r in ranked}) == len(ranked)  # duplicates dropped
    pad = [engine.pad_id] * SETTINGS.max_tokens
    for r in ranked:
        if r.length is not None:  # decoded at that length: no pad inside the content
            assert len(r.token_ids) == r.length
        ids = (list(r.token_ids) + pad)[: SETTINGS.max_tokens]
        assert r.score == pytest.approx(direct_score(engine, ids), abs=1e-3)
    assert found.forward_passes > 0 and found.elapsed_ms > 0


def test_the_plans_context_pass_is_reused_inside_one_request(engine):
    alone = search_lengths(engine, PREFIX, SUFFIX, SETTINGS, lengths=(3,))
    with shared_first_pass(engine):
        infill(engine, PREFIX, SUFFIX, SETTINGS)
        shared = search_lengths(engine, PREFIX, SUFFIX, SETTINGS, lengths=(3,))
    assert alone.forward_passes == shared.forward_passes + 1
    assert [r.text for r in alone.ranked] == [r.text for r in shared.ranked]


def test_lengths_beyond_the_budget_are_skipped_and_cancel_stops_the_search(engine):
    found = search_lengths(engine, PREFIX, SUFFIX, SETTINGS, lengths=(5, 40))
    assert [r.length for r in found.ranked] == [5]
    calls = []
    stopped = search_lengths(engine, PREFIX, SUFFIX, SETTINGS, lengths=(5,),
                             cancel=lambda: calls.append(1) or len(calls) > 2)
    assert stopped.ranked is None and len(calls) == 3


def test_a_checkpoint_with_a_logits_shift_ranks_nothing(tmp_path):
    shifted = model.load(build_tiny_checkpoint(tmp_path, attention="bidirectional",
                                               logits_shift=True))
    found = search_lengths(shifted, PREFIX, SUFFIX, SETTINGS, [[5, 6]])
    assert found.ranked == [] and found.forward_passes == 0
