"""Shared fixtures: tiny random-weight checkpoints saved in the real on-disk formats (the engine's
own, and a DiffusionGemma one in transformers' format)."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    DiffusionGemmaConfig,
    DiffusionGemmaForBlockDiffusion,
    DiffusionGemmaTextConfig,
)

from lsp_server.prose import unreadable
from model.checkpoint import save_checkpoint
from model.network import Denoiser, preset
from model.tokenizer import load as load_tokenizer
from model.tokenizer import save as save_tokenizer
from model.tokenizer import train_tokenizer

STDLIB_SAMPLES = ("textwrap.py", "shlex.py", "fnmatch.py", "bisect.py", "colorsys.py")
GEMMA_SPECIALS = ["<pad>", "<eos>", "<bos>", "<mask>"]  # ids 0..3
GEMMA_CODE = "def add(a, b):\n    return a + b\n\nclass Point:\n    x: int = 0\n"
SHIPPED = Path(__file__).resolve().parents[1] / "model" / "weights"


def sample_python_text() -> list[str]:
    """A few stdlib modules: real Python text to train tiny tokenizers on."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return [(stdlib / name).read_text() for name in STDLIB_SAMPLES if (stdlib / name).exists()]


def build_tiny_checkpoint(out: Path, vocab_size: int = 512, seed: int = 0, **overrides) -> Path:
    """Train a tiny tokenizer, init a tiny Denoiser and save both as a checkpoint dir. The
    tokens that are no text alone (a byte of a longer character, a control character) get a
    zero embedding, so the random weights rarely pick them and write text the server can offer
    (it never offers half a character: ``lsp_server.prose.unreadable``)."""
    save_tokenizer(train_tokenizer(sample_python_text(), vocab_size), out)
    tok = load_tokenizer(out)
    torch.manual_seed(seed)
    cfg = preset("tiny", vocab_size=len(tok), mask_token_id=tok.mask_token_id,
                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, **overrides)
    net = Denoiser(cfg)
    odd = [i for i in range(len(tok)) if unreadable(tok.decode([i]))]
    with torch.no_grad():
        net.model.embed_tokens.weight[odd] = 0.0
    return save_checkpoint(net, out, out, dtype=torch.float32)


def _write_gemma_tokenizer(path: Path) -> int:
    """Train a tiny byte-level BPE with pad/eos/bos/mask and save it as a HF tokenizer dir."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=GEMMA_SPECIALS, initial_alphabet=alphabet
    )
    tok.train_from_iterator([GEMMA_CODE] * 10, trainer)
    tok.save(str(path / "tokenizer.json"))
    names = ("pad_token", "eos_token", "bos_token", "mask_token")
    cfg = {"tokenizer_class": "PreTrainedTokenizerFast",
           **dict(zip(names, GEMMA_SPECIALS, strict=True))}
    (path / "tokenizer_config.json").write_text(json.dumps(cfg))
    return tok.get_vocab_size()


def build_tiny_gemma_checkpoint(path: Path) -> Path:
    """Save a tiny random DiffusionGemma checkpoint (safetensors) with its tokenizer in ``path``."""
    vocab = _write_gemma_tokenizer(path)
    text = DiffusionGemmaTextConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        global_head_dim=16,
        sliding_window=16,
        layer_types=["sliding_attention", "full_attention"],
        max_position_embeddings=512,
        num_experts=2,
        top_k_experts=1,
        moe_intermediate_size=32,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
    )
    vision = dict(
        model_type="gemma4_vision",
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=8,
        position_embedding_size=64,
    )
    config = DiffusionGemmaConfig(text_config=text, vision_config=vision, canvas_length=16)
    torch.manual_seed(0)
    DiffusionGemmaForBlockDiffusion(config).save_pretrained(path, safe_serialization=True)
    assert (path / "model.safetensors").exists()
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny random-weight checkpoint directory (config.json, safetensors, tokenizer.json)."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-checkpoint"))


@pytest.fixture(scope="session")
def product_checkpoint(tiny_checkpoint) -> Path:
    """The shipped default model when present, else the tiny checkpoint."""
    return SHIPPED if (SHIPPED / "config.json").is_file() else tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_gemma_checkpoint(tmp_path_factory) -> Path:
    """A tiny random-weight DiffusionGemma checkpoint directory (transformers' own format)."""
    return build_tiny_gemma_checkpoint(tmp_path_factory.mktemp("tiny-gemma"))
