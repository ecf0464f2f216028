"""Checkpoint directories load offline from safetensors, ours and Dream-style."""

import json

import pytest
import torch

from model import checkpoint, load
from model.checkpoint import cpu_has_bf16, save_checkpoint
from tests.conftest import build_tiny_checkpoint


def test_roundtrip_fp16_upcasts_on_cpu(tmp_path):
    src = build_tiny_checkpoint(tmp_path / "src")
    engine = load(src, precision="float32")
    out = save_checkpoint(engine.network, src, tmp_path / "fp16")
    again = load(out, precision="float32")
    assert again.dtype == torch.float32 == again.network.model.embed_tokens.weight.dtype
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json"}
    ids = torch.randint(3, 500, (1, 12))
    with torch.no_grad():
        assert torch.allclose(engine.network(ids), again.network(ids), atol=5e-2)
    assert again.mask_id == again.tokenizer.mask_token_id == 2
    assert again.network.lm_head.packed is not None  # fp32 on a CPU: packed for oneDNN


def test_dream_style_config_fields(tmp_path):
    ck = build_tiny_checkpoint(tmp_path)
    raw = json.loads((ck / "config.json").read_text())
    for key in ("model_type", "logits_shift", "attention", "rope_theta"):
        raw.pop(key)
    raw.update(model_type="Dream", mask_token_id=2, eos_token_id=[1],
               rope_parameters={"rope_theta": 1e6})
    (ck / "config.json").write_text(json.dumps(raw))
    engine = load(ck)
    assert engine.config.logits_shift and engine.config.attention == "bidirectional"
    assert engine.config.rope_theta == 1e6 and engine.eos_id == 1


def test_missing_weights_is_a_clear_error(tmp_path):
    ck = build_tiny_checkpoint(tmp_path)
    (ck / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="safetensors"):
        load(ck)


def test_pickle_weights_are_never_read(tmp_path):
    ck = build_tiny_checkpoint(tmp_path)
    (ck / "model.safetensors").rename(ck / "pytorch_model.bin")
    with pytest.raises(FileNotFoundError):
        load(ck)


def test_sharded_checkpoint_loads(tmp_path):
    src = build_tiny_checkpoint(tmp_path / "src")
    engine = load(src)
    out = save_checkpoint(engine.network, src, tmp_path / "sharded", shard_mb=0)
    assert len(list(out.glob("model-*.safetensors"))) > 2
    again = load(out)
    ids = torch.randint(3, 500, (1, 8))
    with torch.no_grad():
        assert torch.allclose(engine.network(ids), again.network(ids), atol=5e-2)


def test_cpu_bf16_is_read_from_the_cpu_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw avx512_vnni\n")
    assert not cpu_has_bf16(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert cpu_has_bf16(info)
    assert not cpu_has_bf16(tmp_path / "missing")


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_follows_the_cpu(tmp_path, monkeypatch, native):
    """bf16 where the CPU multiplies it in hardware, fp32 elsewhere; a name overrides both."""
    monkeypatch.setattr(checkpoint, "cpu_has_bf16", lambda: native)
    ck = build_tiny_checkpoint(tmp_path)
    auto = load(ck)
    expected = torch.bfloat16 if native else torch.float32
    assert auto.dtype == expected == auto.network.model.layers[0].mlp.up_proj.weight.dtype
    assert load(ck, precision="float32").network.lm_head.weight.dtype == torch.float32
    assert load(ck, precision="bfloat16").network.lm_head.weight.dtype == torch.bfloat16
    with pytest.raises(ValueError, match="unknown precision 'int8'"):
        load(ck, precision="int8")


def test_bf16_logits_agree_with_fp32(tmp_path):
    """The same checkpoint in both precisions: the same top token almost everywhere."""
    ck = build_tiny_checkpoint(tmp_path)
    ids = torch.randint(3, 500, (1, 64), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = load(ck, precision="float32").network(ids)
        half_engine = load(ck, precision="bfloat16")
        half = half_engine.network(ids).float()
    assert half_engine.network.lm_head.packed is None  # packing is for fp32 only
    assert half.dtype == full.dtype == torch.float32
    assert (half.argmax(-1) == full.argmax(-1)).float().mean() > 0.9
    assert torch.allclose(half, full, atol=0.1)
