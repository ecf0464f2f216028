"""Checkpoint directories load offline from safetensors, ours and Dream-style."""

import json

import pytest
import torch

from model import load
from model.checkpoint import save_checkpoint
from tests.conftest import build_tiny_checkpoint


def test_roundtrip_fp16_upcasts_on_cpu(tmp_path):
    src = build_tiny_checkpoint(tmp_path / "src")
    engine = load(src)
    out = save_checkpoint(engine.network, src, tmp_path / "fp16")
    again = load(out)
    assert again.dtype == torch.float32
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json"}
    ids = torch.randint(3, 500, (1, 12))
    with torch.no_grad():
        assert torch.allclose(engine.network(ids), again.network(ids), atol=5e-2)
    assert again.mask_id == again.tokenizer.mask_token_id == 2


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
