"""The denoiser matches transformers' Qwen2 run bidirectionally, and its attention patterns."""

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from model import load
from model.network import Denoiser, context_cache, preset
from model.tokenizer import save as save_tokenizer
from model.tokenizer import train_tokenizer
from tests.conftest import sample_python_text


def test_matches_transformers_qwen2_bidirectional(tmp_path):
    save_tokenizer(train_tokenizer(sample_python_text(), 300), tmp_path)
    cfg = Qwen2Config(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, rope_theta=5000.0,
                      max_position_embeddings=256, tie_word_embeddings=False)
    torch.manual_seed(0)
    reference = Qwen2ForCausalLM(cfg).eval()
    reference.save_pretrained(tmp_path, safe_serialization=True)
    engine = load(tmp_path, precision="float32")  # the network, not the dtype
    ids = torch.randint(0, 300, (2, 24))
    with torch.no_grad():
        ours = engine.network(ids)
        full = torch.ones(2, 1, 24, 24, dtype=torch.bool)  # bidirectional mask
        ref = reference(input_ids=ids, attention_mask=full).logits
        causal = reference(input_ids=ids).logits
    diff = (ours - ref).abs().max().item()
    print(f"max abs diff vs transformers Qwen2 (bidirectional): {diff:.3e}")
    assert diff < 1e-4
    assert (ours - causal).abs().max().item() > 1e-2  # really bidirectional, not causal
    assert engine.config.logits_shift and engine.config.attention == "bidirectional"
    assert engine.config.rope_theta == 5000.0


def _tiny(attention="span_isolated"):
    torch.manual_seed(1)
    return Denoiser(preset("tiny", vocab_size=97, attention=attention)).eval()


def test_span_isolated_context_ignores_span():
    net = _tiny()
    ids = torch.randint(3, 97, (1, 16))
    region = torch.zeros(1, 16, dtype=torch.bool)
    region[0, 5:9] = True
    changed = ids.clone()
    changed[0, 5:9] = torch.randint(3, 97, (4,))
    with torch.no_grad():
        a, b = net(ids, region), net(changed, region)
    context = ~region[0]
    assert torch.allclose(a[0, context], b[0, context], atol=1e-6)  # context blind to span
    assert not torch.allclose(a[0, 5:9], b[0, 5:9])


def _span_input():
    """20 tokens with positions 8-11 as the span: (ids, region, span index, context index)."""
    ids = torch.randint(3, 97, (1, 20))
    region = torch.zeros(1, 20, dtype=torch.bool)
    region[0, 8:12] = True
    span, ctx = region[0].nonzero()[:, 0], (~region[0]).nonzero()[:, 0]
    return ids, region, span, ctx


def test_cached_step_equals_full_pass():
    net = _tiny()
    ids, region, span, ctx = _span_input()
    with torch.no_grad():
        full, kvs = net.run(ids, region=region)
        step = net.step(ids[:, span], span[None], context_cache(kvs, ctx))
        some = net.step(ids[:, span], span[None], context_cache(kvs, ctx),
                        logits_at=torch.tensor([[1, 3]]))  # the rows still open, say
    assert torch.allclose(full[0, span], step[0], atol=1e-5)
    assert some.shape == (1, 2, 97) and torch.allclose(full[0, span[[1, 3]]], some[0], atol=1e-5)


def test_logits_at_selects_positions():
    net = _tiny("bidirectional")
    ids = torch.randint(3, 97, (1, 10))
    with torch.no_grad():
        assert torch.allclose(net(ids)[:, [2, 7]], net(ids, logits_at=torch.tensor([[2, 7]])),
                              atol=1e-6)


def test_packed_weights_give_the_same_logits_and_training_bypasses_them():
    net = _tiny()
    ids, region, span, ctx = _span_input()
    with torch.no_grad():
        _, kvs = net.run(ids, region=region)
        plain = net.step(ids[:, span], span[None], context_cache(kvs, ctx))
        assert net.pack_for_cpu()
        assert net.lm_head.packed is not None and net.model.layers[0].mlp.up_proj.packed is not None
        packed = net.step(ids[:, span], span[None], context_cache(kvs, ctx))
    assert torch.allclose(plain, packed, atol=1e-4)
    assert net(ids, region).requires_grad  # with gradients on, the weights themselves are used
    assert not _tiny().to(torch.bfloat16).pack_for_cpu()  # fp32 only


def test_a_network_too_large_to_copy_is_not_packed(monkeypatch):
    from model import network

    monkeypatch.setattr(network, "PACK_MAX_BYTES", 1000)  # the tiny net holds more than this
    net = _tiny()
    assert not net.pack_for_cpu() and net.lm_head.packed is None
