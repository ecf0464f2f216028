"""DiffusionGemma backend on a tiny random checkpoint built from transformers' config classes."""

import dataclasses
import json
from dataclasses import dataclass

import pytest
import torch
from transformers import Qwen2Config

from model import gemma_backend
from tests.conftest import GEMMA_CODE as CODE


@dataclass
class Settings:
    """Duck-typed stand-in for model.sampler.DecodeSettings."""

    max_tokens: int = 8
    threshold: float = 0.9
    max_steps: int | None = None
    steps_per_token: float = 0.5
    seed: int | None = 0
    single_line: bool = False
    allow_empty: bool = False
    context_tokens: int | None = None


@pytest.fixture(scope="module")
def ckpt(tiny_gemma_checkpoint):
    """The shared tiny DiffusionGemma checkpoint."""
    return tiny_gemma_checkpoint


@pytest.fixture(scope="module")
def engine(ckpt):
    """The tiny checkpoint loaded through the backend."""
    return gemma_backend.load(ckpt, "cpu")


def test_is_gemma_config(ckpt):
    assert gemma_backend.is_gemma_config(json.loads((ckpt / "config.json").read_text()))
    assert not gemma_backend.is_gemma_config(Qwen2Config(vocab_size=64).to_dict())


def test_load_offline(engine, ckpt, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    again = gemma_backend.load(ckpt)
    for e in (engine, again):
        assert e.backend == "diffusion_gemma" and not e.network.training
        assert e.dtype == torch.float32 and e.network.dtype == torch.float32
        assert (e.pad_id, e.eos_id, e.mask_id) == (0, 1, 3)
        assert {0, 1} <= set(e.stop_ids)
    assert engine.tokenizer.decode(engine.tokenizer(CODE).input_ids) == CODE


def test_engine_entry_points_serve_gemma(ckpt):
    """``model.load`` and ``model.infill``, as the server calls them (its warm-up passes no
    ``cancel``), work on a DiffusionGemma checkpoint: they used to call ``None``."""
    from model import DecodeSettings, infill, infill_spans, load

    loaded = load(ckpt, "cpu")
    assert loaded.backend == "diffusion_gemma"
    one = infill(loaded, "def add(a, b):\n    return ", "\n", DecodeSettings(max_tokens=4))
    assert isinstance(one.text, str) and not one.cancelled and one.forward_passes > 0
    both = infill_spans(loaded, ["def f():\n    ", "\n\ndef g():\n    ", "\n"], [4, 4])
    assert len(both.texts) == 2 and not both.cancelled


def test_one_text_per_hole_and_budgets(engine):
    pieces = ["def add(a, b):\n    return ", "\n\nclass Point:\n    x: ", " = 0\n"]
    res = gemma_backend.infill_spans(engine, pieces, [5, 3], Settings(), lambda: False)
    assert not res.cancelled and len(res.texts) == 2 and all(isinstance(t, str) for t in res.texts)
    assert len(res.token_counts) == 2
    assert res.token_counts[0] <= 5 and res.token_counts[1] <= 3
    assert res.forward_passes >= 4  # one encoder pass plus >= 1 denoising step, per hole


def test_budget_caps_at_canvas_length(engine):
    res = gemma_backend.infill_spans(
        engine, ["x = ", "\n"], [40], Settings(max_steps=2), lambda: False
    )
    assert res.token_counts[0] <= engine.config.canvas_length
    assert res.forward_passes <= 3  # max_steps bounds the denoising loop


def test_same_seed_same_output(engine):
    pieces, budgets = ["def add(a, b):\n    ", "\n"], [12]
    runs = [
        gemma_backend.infill_spans(engine, pieces, budgets, Settings(seed=s), lambda: False)
        for s in (7, 7, 8, 9)
    ]
    assert runs[0].texts == runs[1].texts
    assert any(r.texts != runs[0].texts for r in runs[2:])  # the seed actually drives sampling


def test_cancel_stops_within_one_step(engine):
    calls = []

    def cancel():
        calls.append(len(calls))
        return len(calls) > 3  # fires on the 4th poll: after the encoder and two decoder passes

    settings = Settings(max_steps=20)
    res = gemma_backend.infill_spans(engine, ["a = ", "\n"], [8], settings, cancel)
    assert res.cancelled and res.texts == [""]
    assert res.forward_passes == 3 and len(calls) == 4
    early = gemma_backend.infill_spans(engine, ["a = ", "\n"], [8], settings, lambda: True)
    assert early.cancelled and early.forward_passes == 0


def test_single_line(engine):
    tok = engine.tokenizer
    ids = tok("x = 1\ny = 2", add_special_tokens=False).input_ids
    assert gemma_backend._finish(engine, ids, Settings(single_line=True))[0] == "x = 1"
    for seed in range(4):
        settings = Settings(seed=seed, single_line=True)
        res = gemma_backend.infill_spans(engine, ["def f():\n    ", "\n"], [10], settings)
        assert "\n" not in res.texts[0]


class _EosEverywhere:
    """Wraps the network so every canvas position strongly prefers eos (id 1)."""

    def __init__(self, net):
        self.net, self.config, self.model = net, net.config, net.model

    def __call__(self, **kwargs):
        out = self.net(**kwargs)
        out.logits[..., 1] += 100.0
        return out


def test_allow_empty(engine):
    eager = dataclasses.replace(engine, network=_EosEverywhere(engine.network))
    empty = gemma_backend.infill_spans(eager, ["a = ", "\n"], [6], Settings(allow_empty=True))
    assert empty.texts == [""] and empty.token_counts == [0]
    forced = gemma_backend.infill_spans(eager, ["a = ", "\n"], [6], Settings(allow_empty=False))
    assert forced.token_counts == [1] and forced.texts[0] != ""


def test_holes_filled_left_to_right(engine, monkeypatch):
    tok, prompts = engine.tokenizer, []
    fills = iter(["FIRST", "SECOND"])

    def fake_denoise(engine, prompt, budget, settings, cancel, gen):
        prompts.append(tok.decode(prompt[0]))
        return tok(next(fills), add_special_tokens=False).input_ids, 2

    monkeypatch.setattr(gemma_backend, "_denoise", fake_denoise)
    res = gemma_backend.infill_spans(engine, ["a = ", "\nb = ", "\nc = 3\n"], [8, 8], Settings())
    assert res.texts == ["FIRST", "SECOND"] and res.forward_passes == 4
    assert "b = " + gemma_backend.HOLE + "\nc = 3" in prompts[0]
    assert "a = FIRST\nb = " in prompts[1] and gemma_backend.HOLE not in prompts[1].split("###")[-2]


def test_context_is_clipped_to_window(engine):
    long_prefix = "x = 1\n" * 200
    wide = gemma_backend._prompt_ids(engine, long_prefix, "", Settings())
    narrow = gemma_backend._prompt_ids(engine, long_prefix, "", Settings(context_tokens=20))
    template = gemma_backend._prompt_ids(engine, "", "", Settings()).shape[1]
    assert wide.shape[1] > template + 200 and narrow.shape[1] <= template + 10 + 2  # 10 kept
    assert engine.tokenizer.decode(narrow[0]).count("x = 1") < 10


def test_chat_template_wraps_prompt(engine, monkeypatch):
    chat = "{{ bos_token }}<user>{{ messages[0]['content'] }}</user><model>"
    monkeypatch.setattr(engine.tokenizer, "chat_template", chat)
    ids = gemma_backend._prompt_ids(engine, "a = ", "\n", Settings())[0].tolist()
    text = engine.tokenizer.decode(ids)
    assert ids[0] == 2 and ids[1] != 2  # one bos, from the template
    assert text.startswith("<bos><user>Fill in") and text.endswith("hole:\n</user><model>")


def test_finish_drops_stop_tail_and_fences(engine):
    tok = engine.tokenizer
    ids = tok("return a", add_special_tokens=False).input_ids
    text, count = gemma_backend._finish(engine, [*ids, 1, 5, 6, 0], Settings())
    assert (text, count) == ("return a", len(ids))
    assert gemma_backend._strip_fence("```python\nx = 1\n```\n") == "x = 1"
