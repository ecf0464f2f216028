"""Shared fixtures: a tiny random-weight checkpoint saved in the real on-disk format."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
import torch

from model.checkpoint import save_checkpoint
from model.network import Denoiser, preset
from model.tokenizer import load as load_tokenizer
from model.tokenizer import save as save_tokenizer
from model.tokenizer import train_tokenizer

STDLIB_SAMPLES = ("textwrap.py", "shlex.py", "fnmatch.py", "bisect.py", "colorsys.py")
SHIPPED = Path(__file__).resolve().parents[1] / "model" / "weights"


def sample_python_text() -> list[str]:
    """A few stdlib modules: real Python text to train tiny tokenizers on."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return [(stdlib / name).read_text() for name in STDLIB_SAMPLES if (stdlib / name).exists()]


def build_tiny_checkpoint(out: Path, vocab_size: int = 512, seed: int = 0, **overrides) -> Path:
    """Train a tiny tokenizer, init a tiny Denoiser and save both as a checkpoint dir."""
    save_tokenizer(train_tokenizer(sample_python_text(), vocab_size), out)
    tok = load_tokenizer(out)
    torch.manual_seed(seed)
    cfg = preset("tiny", vocab_size=len(tok), mask_token_id=tok.mask_token_id,
                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, **overrides)
    return save_checkpoint(Denoiser(cfg), out, out, dtype=torch.float32)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny random-weight checkpoint directory (config.json, safetensors, tokenizer.json)."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-checkpoint"))


@pytest.fixture(scope="session")
def product_checkpoint(tiny_checkpoint) -> Path:
    """The shipped default model when present, else the tiny checkpoint."""
    return SHIPPED if (SHIPPED / "config.json").is_file() else tiny_checkpoint
