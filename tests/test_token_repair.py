"""One-token repairs for "Fix this function" (lsp_server/token_repair.py)."""

from lsp_server import token_repair
from lsp_server.documents import DocumentStore
from model.scoring import TokenScore

TEXT = "def scale(values, factor):\n    return [v * factr for v in values]\n"


def doc(text=TEXT, language="python"):
    return DocumentStore().open("file:///t.py", language, 1, text)


def score(token: str, best: str, margin: float, text: str = TEXT) -> TokenScore:
    start = text.index(token)
    return TokenScore(start, start + len(token), margin - 1.0, best, -1.0)


def test_least_likely_first_while_the_model_prefers_its_token_by_the_margin():
    scores = [score(" factr", " factor", -9.0), score(" v", " values", -5.0),
              score(" *", " +", -2.0)]
    got = list(token_repair.repairs(doc(), scores, 3.0))
    assert [(TEXT[r.start:r.end], r.text) for r in got] == [(" factr", " factor"),
                                                           (" v", " values")]
    assert [r.text for r in token_repair.repairs(doc(), scores, 0.0)] == [
        " factor", " values", " +"]


def test_no_blank_no_newline_and_no_name_the_file_does_not_have():
    scores = [score(" factr", " ", -9.0), score(" factr", "\n", -9.0),
              score(" factr", " scale_factor", -9.0),  # not in the file
              score(" factr", " len", -8.0)]  # a builtin
    assert [r.text for r in token_repair.repairs(doc(), scores, 3.0)] == [" len"]
    assert not list(token_repair.repairs(doc(language="javascript"), scores, 3.0))


def test_a_token_inside_a_name_makes_a_new_name_with_its_neighbours():
    text = "def f(rate):\n    return ratex\n"
    start = text.index("x\n")
    piece = TokenScore(start, start + 1, -9.0, "e", -1.0)  # ratex -> ratee: not in the file
    assert not list(token_repair.repairs(doc(text), [piece], 3.0))
    whole = TokenScore(text.index("ratex"), start + 1, -9.0, "rate", -1.0)
    assert [r.text for r in token_repair.repairs(doc(text), [whole], 3.0)] == ["rate"]


def test_at_most_tries_tokens():
    scores = [score(" factr", " +", -9.0 - i) for i in range(token_repair.TRIES + 3)]
    assert len(list(token_repair.repairs(doc(), scores, 3.0))) == token_repair.TRIES


def test_unprompted_a_repair_must_stand_out_from_the_other_tokens():
    scores = [score(" factr", " factor", -9.0), score(" v", " values", -5.0),
              score(" *", " +", -2.0)]
    # 9 > 3 + 5 / 2 for the first; 5 < 3 + 9 / 2 for the second.
    assert [r.text for r in token_repair.repairs(doc(), scores, 3.0, unprompted=True)] == [
        " factor"]
    alike = [score(" factr", " factor", -6.0), score(" v", " values", -6.0)]
    assert list(token_repair.repairs(doc(), alike, 3.0)) != []
    assert list(token_repair.repairs(doc(), alike, 3.0, unprompted=True)) == []
    alone = [score(" factr", " factor", -3.5)]
    assert [r.text for r in token_repair.repairs(doc(), alone, 3.0, unprompted=True)] == [
        " factor"]


def test_unprompted_only_a_word_replaces_a_word():
    scores = [score(" *", " +", -20.0), score(" factr", " (", -19.0),
              score(" factr", " factor", -18.0)]
    assert [r.text for r in token_repair.repairs(doc(), scores, 3.0)][:2] == [" +", " ("]
    assert [r.text for r in token_repair.repairs(doc(), scores, 3.0, unprompted=True)] == [
        " factor"]
