"""Invariants of the training masks: each kind's shape, budget, alignment and loss positions."""

from __future__ import annotations

import numpy as np
import pytest

from model.masking import (
    KINDS,
    ExampleMaker,
    FileTable,
    TokenizedFile,
    byte_to_char,
    tokenize_file,
)
from model.tokenizer import train_tokenizer

SOURCE = '''\
"""Module docstring: café ☕ and 𝔘nicode before the code."""

import os


def add(a, b):
    """Return a plus b."""
    total = a + b
    return total


class Greeter:
    """Says hello to people."""

    def greet(self, name):
        """Greet someone by name."""
        if not name:
            raise ValueError("empty name")
        for _ in range(2):
            print("hello", name)
        return os.sep.join([name, "é"])
'''
SEQ_LEN = 64
VOCAB = 300
SPAN_KINDS = ("lines", "block", "docstring", "cursor", "inside")


@pytest.fixture(scope="module")
def tok():
    import textwrap

    return train_tokenizer([SOURCE, textwrap.dedent(SOURCE), SOURCE.upper()], VOCAB)


@pytest.fixture(scope="module")
def tfile(tok) -> TokenizedFile:
    return tokenize_file(SOURCE * 3, tok)


def decode(tok, ids) -> str:
    return tok.decode([int(i) for i in ids], skip_special_tokens=False)


def recover(ex, budget_pad=0):
    """(file tokens of the window, span [start, end) within them, budget) of a span example."""
    idx = np.flatnonzero(ex.region)
    start, stop = idx[0], idx[-1] + 1
    span = ex.targets[start:stop]
    truth = span[span != budget_pad]
    tail = ex.targets[stop:]
    tail = tail[tail != budget_pad]  # window padding
    seq = np.concatenate([ex.targets[:start], truth, tail])
    return seq, (start, start + len(truth)), stop - start


def find(hay: np.ndarray, needle: np.ndarray) -> int:
    for i in range(len(hay) - len(needle) + 1):
        if np.array_equal(hay[i : i + len(needle)], needle):
            return i
    return -1


def test_byte_to_char_maps_utf8_offsets():
    text = "aé☕𝔘b"
    table = byte_to_char(text)
    for i in range(len(text)):
        assert table[i] == len(text[:i].encode())
    assert table[len(text)] == len(text.encode())
    assert byte_to_char("ascii only") is None


def test_lines_are_token_aligned(tok, tfile):
    text = SOURCE * 3
    assert decode(tok, tfile.ids) == text
    assert len(tfile.lines) == text.count("\n")
    for start, end in tfile.lines:
        assert "\n" not in decode(tok, tfile.ids[start:end])
        assert decode(tok, tfile.ids[end : end + 1]) == "\n"


def test_regions_map_to_exact_tokens(tok, tfile):
    docs = [decode(tok, tfile.ids[s:e]) for s, e in tfile.spans["docstring"]]
    assert docs.count('"""Greet someone by name."""') == 3  # after non-ASCII chars too
    assert '"""Return a plus b."""' in docs
    bodies = [decode(tok, tfile.ids[s:e]) for s, e in tfile.spans["function.body"]]
    assert any(
        b.startswith('"""Return a plus b."""') and b.endswith("return total") for b in bodies
    )
    statements = {decode(tok, tfile.ids[s:e]) for s, e in tfile.spans["statement"]}
    assert "total = a + b" in statements


@pytest.mark.parametrize("kind", KINDS)
def test_common_invariants(tfile, kind):
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=1)
    for _ in range(50):
        ex = maker.make_kind(tfile, kind)
        assert ex.kind == kind
        for arr in (ex.input_ids, ex.targets, ex.loss_mask, ex.region):
            assert arr.shape == (SEQ_LEN,)
        assert ex.loss_mask.any()
        assert not (ex.loss_mask & ~ex.region).any()  # loss only inside the region
        if kind != "noise":
            assert (ex.input_ids[ex.loss_mask] == 2).all()  # loss exactly on the masks
            assert (ex.input_ids[~ex.loss_mask] == ex.targets[~ex.loss_mask]).all()


@pytest.mark.parametrize("kind", SPAN_KINDS)
def test_span_budget_and_pad_tail(tfile, kind):
    maker = ExampleMaker(SEQ_LEN * 2, vocab_size=VOCAB, seed=2)
    budgets = []
    for _ in range(100):
        ex = maker.make_kind(tfile, kind)
        idx = np.flatnonzero(ex.region)
        assert np.array_equal(idx, np.arange(idx[0], idx[-1] + 1))  # one contiguous span
        seq, (s, e), budget = recover(ex)
        truth = e - s
        assert budget >= max(truth, 1)
        assert (ex.targets[idx[0] + truth : idx[-1] + 1] == 0).all()  # pad tail of the budget
        assert budget <= truth + max(8, truth) or budget in (24, 64, maker.max_span)
        assert find(tfile.ids, seq) >= 0  # prefix + truth + suffix is the file, contiguous
        budgets.append(budget)
    assert {24, 64} & set(budgets)  # sometimes the server's fixed budget


def test_lines_are_whole_lines_up_to_the_last_newline(tfile):
    """As the server sends an empty line's span: the line's own newline is in the suffix."""
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=3)
    line_starts = set(tfile.lines[:, 0].tolist())
    line_ends = set(tfile.lines[:, 1].tolist())
    newline_ids = set(tfile.ids[tfile.lines[:-1, 1]].tolist())
    multi = 0
    for _ in range(100):
        ex = maker.make_kind(tfile, "lines")
        seq, (s, e), _ = recover(ex)
        at = find(tfile.ids, seq)
        assert at + s in line_starts and at + e in line_ends
        assert seq[e - 1] not in newline_ids  # it ends on a line with content
        multi += bool(set(seq[s:e].tolist()) & newline_ids)
    assert multi > 0  # spans of several lines keep their inner newlines


def test_cursor_runs_to_end_of_line(tfile):
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=4)
    line_ends = set(tfile.lines[:, 1].tolist())
    newline_ids = set(tfile.ids[tfile.lines[:-1, 1]].tolist())
    for _ in range(100):
        ex = maker.make_kind(tfile, "cursor")
        seq, (s, e), _ = recover(ex)
        assert find(tfile.ids, seq) + e in line_ends  # the newline itself stays in the suffix
        assert not set(seq[s:e].tolist()) & newline_ids


def test_inside_stops_before_the_end_of_its_line(tfile):
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=6)
    starts, ends = tfile.lines[:, 0], tfile.lines[:, 1]
    for _ in range(100):
        ex = maker.make_kind(tfile, "inside")
        seq, (s, e), _ = recover(ex)
        at = find(tfile.ids, seq)
        line = np.flatnonzero((starts <= at + s) & (at + s < ends))
        assert len(line) == 1 and at + e < ends[line[0]]  # some of the line stays after it


@pytest.mark.parametrize(
    "kind,capture",
    [("docstring", ("docstring",)), ("block", ("function.body", "block", "statement"))],
)
def test_region_spans_come_from_tree_sitter(tfile, kind, capture):
    maker = ExampleMaker(SEQ_LEN * 2, vocab_size=VOCAB, seed=5)
    allowed = {tuple(map(int, sp)) for c in capture for sp in tfile.spans[c]}
    for _ in range(50):
        ex = maker.make_kind(tfile, kind)
        seq, (s, e), _ = recover(ex)
        at = find(tfile.ids, seq)
        assert (at + s, at + e) in allowed


def test_revealed_positions_hold_the_target(tfile):
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=6)
    revealed = 0
    for _ in range(50):
        ex = maker.make_kind(tfile, "lines")
        shown = ex.region & ~ex.loss_mask
        assert (ex.input_ids[shown] == ex.targets[shown]).all()
        revealed += shown.sum()
    assert revealed > 0


def test_mdlm_region_is_the_masks(tfile):
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=7)
    ratios = []
    for _ in range(50):
        ex = maker.make_kind(tfile, "mdlm")
        assert np.array_equal(ex.region, ex.loss_mask)
        assert np.array_equal(ex.loss_mask, ex.input_ids == 2)
        ratios.append(ex.loss_mask.mean())
    assert min(ratios) < 0.3 and max(ratios) > 0.7  # t ~ U(eps, 1)


def test_noise_scores_every_position(tfile):
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=8)
    scored = corrupted = 0
    for _ in range(50):
        ex = maker.make_kind(tfile, "noise")
        assert ex.region.all()
        changed = ex.input_ids != ex.targets
        assert not (changed & ~ex.loss_mask).any()  # every corrupted token is scored
        assert (ex.input_ids >= 3).all()  # no specials drawn as noise
        scored, corrupted = scored + ex.loss_mask.sum(), corrupted + changed.sum()
    assert 0 < corrupted < scored  # clean tokens are scored too


def test_noise_draws_a_share_of_its_tokens_from_the_window(tfile):
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=8)
    own = changed = 0
    for _ in range(50):
        ex = maker.make_kind(tfile, "noise")
        swapped = ex.input_ids != ex.targets
        own += np.isin(ex.input_ids[swapped], ex.targets).sum()
        changed += swapped.sum()
    assert 0.3 < own / changed < 0.8  # half from the window (a random id rarely is in it)


def test_short_file_is_padded_outside_region_and_loss(tok):
    short = tokenize_file('def f(x):\n    """Doc."""\n    return x\n', tok)
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=9)
    for kind in KINDS:
        for _ in range(10):
            ex = maker.make_kind(short, kind)
            outside = ~ex.region & (ex.targets == 0)  # the file has no pad tokens
            first = SEQ_LEN - outside.sum()
            assert first >= len(short.ids) and outside[first:].all()  # a suffix
            assert (ex.input_ids[outside] == 0).all() and not ex.loss_mask[outside].any()


def test_span_kinds_fall_back_to_mdlm(tok):
    no_doc = tokenize_file("x = 1\ny = 2\n", tok)
    maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=10)
    ex = maker.make_kind(no_doc, "docstring")
    assert np.array_equal(ex.region, ex.input_ids == 2)  # plain masking instead
    empty = TokenizedFile(np.zeros(0, np.int32), np.zeros((0, 2), np.int32), {})
    assert maker.make_kind(empty, "lines").region.sum() == 0


def test_same_seed_same_examples(tfile):
    def run(seed):
        maker = ExampleMaker(SEQ_LEN, vocab_size=VOCAB, seed=seed)
        return [maker.make(tfile) for _ in range(30)]

    a, b, c = run(11), run(11), run(12)
    assert all(np.array_equal(x.input_ids, y.input_ids) and x.kind == y.kind for x, y in zip(a, b))
    assert not all(np.array_equal(x.input_ids, y.input_ids) for x, y in zip(a, c))


def test_mix_controls_kinds(tfile):
    maker = ExampleMaker(SEQ_LEN, mix={"cursor": 1.0, "noise": 3.0}, vocab_size=VOCAB, seed=13)
    kinds = [maker.make(tfile).kind for _ in range(400)]
    assert set(kinds) == {"cursor", "noise"}
    assert 0.6 < kinds.count("noise") / len(kinds) < 0.9
    with pytest.raises(ValueError):
        ExampleMaker(SEQ_LEN, mix={"bogus": 1.0})


def test_file_table_round_trip(tmp_path, tok, tfile):
    other = tokenize_file("def g():\n    return 1\n", tok)
    FileTable.pack([tfile, other]).save(tmp_path)
    table = FileTable.load(tmp_path)
    assert len(table) == 2 and list(table.sizes()) == [len(tfile.ids), len(other.ids)]
    for orig, back in ((tfile, table.file(0)), (other, table.file(1))):
        assert np.array_equal(orig.ids, back.ids) and np.array_equal(orig.lines, back.lines)
        for kind, spans in orig.spans.items():
            assert np.array_equal(spans, back.spans[kind])
