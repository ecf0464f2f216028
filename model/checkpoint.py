"""Checkpoint directories: ``config.json`` + ``*.safetensors`` + ``tokenizer.json``.

``load(path, device)`` reads the project's own checkpoints and Qwen2-layout
diffusion checkpoints (Dream-7B, Dream-Coder-7B, DiffuCoder-7B, Open-dCoder)
with no ``trust_remote_code`` and no network; DiffusionGemma directories are
handed to :mod:`model.gemma_backend`. Weights are read from safetensors only.

Config-field mapping (HF ``config.json`` -> :class:`ModelConfig`):

===================== ============================================================
``ModelConfig``       source
===================== ============================================================
vocab/hidden/...      the same Qwen2 names (``vocab_size``, ``hidden_size``,
                      ``intermediate_size``, ``num_hidden_layers``,
                      ``num_attention_heads``, ``num_key_value_heads``,
                      ``max_position_embeddings``, ``rms_norm_eps``)
rope_theta            ``rope_theta``, else ``rope_parameters.rope_theta``, else 1e4
tie_word_embeddings   ``tie_word_embeddings`` (default False, as in Qwen2)
mask_token_id         ``mask_token_id``, else the tokenizer's mask token
                      (``<|mask|>`` / ``<mask>``)
pad/eos_token_id      ``pad_token_id`` / ``eos_token_id`` (first if a list),
                      else the tokenizer's
logits_shift          ``logits_shift`` if present; else True for every foreign
                      checkpoint (Dream family: position i-1 predicts token i)
attention             ``attention`` if present; else ``"bidirectional"``
===================== ============================================================
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch
from safetensors.torch import load_file, save_file
from transformers import PreTrainedTokenizerFast

from model.network import Denoiser, ModelConfig

if TYPE_CHECKING:
    from model.gemma_backend import GemmaEngine

MODEL_TYPE = "infill-denoiser"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
MASK_TOKENS = ("<|mask|>", "<mask>", "<|mdm_mask|>", "[MASK]")


@dataclass
class Engine:
    """A loaded model: the network, its tokenizer and the special ids the sampler needs."""

    network: Denoiser
    tokenizer: PreTrainedTokenizerFast | None  # None for random-weight speed benchmarks
    config: ModelConfig
    mask_id: int
    pad_id: int
    eos_id: int
    device: torch.device
    dtype: torch.dtype
    path: Path
    backend: Literal["denoiser"] = "denoiser"


PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX; read from Linux's
    flags). Without it oneDNN emulates bf16, which is not measured here, so fp32 stays."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return re.search(r"\b(avx512_bf16|amx_bf16)\b", text) is not None


def default_dtype(device: torch.device) -> torch.dtype:
    """bf16 on CUDA and on CPUs with bf16 in hardware, else fp32 (model card: "bf16 on the CPU")."""
    if device.type == "cuda" or (device.type == "cpu" and cpu_has_bf16()):
        return torch.bfloat16
    return torch.float32


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype for a precision setting: ``auto`` (the device's default) or a name."""
    if precision == "auto":
        return default_dtype(device)
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: auto, {', '.join(PRECISIONS)}")
    return PRECISIONS[precision]


def load_tokenizer(path: Path) -> PreTrainedTokenizerFast:
    """The directory's tokenizer.json, offline."""
    tok_file = path / "tokenizer.json"
    if not tok_file.is_file():
        raise FileNotFoundError(f"{path} has no tokenizer.json")
    tok = PreTrainedTokenizerFast(tokenizer_file=str(tok_file))
    cfg_file = path / "tokenizer_config.json"
    if cfg_file.is_file():
        extra = json.loads(cfg_file.read_text())
        for key in ("pad_token", "eos_token", "mask_token", "bos_token"):
            if isinstance(extra.get(key), str):
                setattr(tok, key, extra[key])
    return tok


def _first(value):
    return value[0] if isinstance(value, list) else value


def _token_id(tok: PreTrainedTokenizerFast, names) -> int | None:
    vocab = tok.get_vocab()
    return next((vocab[n] for n in names if n in vocab), None)


def config_from_dict(raw: dict, tok: PreTrainedTokenizerFast) -> ModelConfig:
    """Map an HF-style config.json (ours, Qwen2 or Dream) onto ModelConfig."""
    ours = raw.get("model_type") == MODEL_TYPE
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    kwargs = {k: v for k, v in raw.items() if k in fields and v is not None}
    rope = raw.get("rope_theta") or (raw.get("rope_parameters") or {}).get("rope_theta")
    kwargs["rope_theta"] = float(rope or 10000.0)
    kwargs["tie_word_embeddings"] = bool(raw.get("tie_word_embeddings", False))
    kwargs.setdefault("num_key_value_heads", raw["num_attention_heads"])
    kwargs["mask_token_id"] = raw.get("mask_token_id", _token_id(tok, MASK_TOKENS))
    if kwargs["mask_token_id"] is None:
        raise ValueError("no mask token id in config.json or tokenizer")
    for key, attr in (("pad_token_id", "pad_token_id"), ("eos_token_id", "eos_token_id")):
        value = _first(raw.get(key)) if raw.get(key) is not None else getattr(tok, attr)
        kwargs[key] = int(value if value is not None else kwargs["mask_token_id"])
    kwargs.setdefault("logits_shift", not ours)
    kwargs.setdefault("attention", "span_isolated" if ours else "bidirectional")
    kwargs.setdefault("attention_bias", raw.get("attention_bias", True))
    return ModelConfig(**kwargs)


def read_weights(path: Path, device: torch.device) -> dict[str, torch.Tensor]:
    """All tensors of the directory's *.safetensors shards."""
    shards = sorted(path.glob("*.safetensors"))
    if not shards:
        raise FileNotFoundError(f"{path} has no *.safetensors")
    state: dict[str, torch.Tensor] = {}
    for shard in shards:
        state.update(load_file(str(shard), device=str(device)))
    return state


def build_network(cfg: ModelConfig, state: dict, device, dtype) -> Denoiser:
    """Instantiate on the meta device and assign the checkpoint tensors (no double init)."""
    with torch.device("meta"):
        net = Denoiser(cfg)
    state = {k: v.to(dtype) for k, v in state.items()}
    if cfg.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    missing, unexpected = net.load_state_dict(state, strict=False, assign=True)
    missing = [m for m in missing if not (cfg.tie_word_embeddings and m == "lm_head.weight")]
    if missing or unexpected:
        raise ValueError(f"checkpoint mismatch: missing={missing[:5]} unexpected={unexpected[:5]}")
    if cfg.tie_word_embeddings:
        net.lm_head.weight = net.model.embed_tokens.weight
    return net.to(device).eval()


def load(path: str | Path, device: str | torch.device = "cpu",
         precision: str = "auto") -> Engine | GemmaEngine:
    """Load a checkpoint directory onto ``device`` in ``precision`` (see ``resolve_dtype``)."""
    path = Path(path)
    raw = json.loads((path / "config.json").read_text())
    device = torch.device(device)
    dtype = resolve_dtype(precision, device)
    from model import gemma_backend

    if gemma_backend.is_gemma_config(raw):
        return gemma_backend.load(path, device, dtype)
    tok = load_tokenizer(path)
    cfg = config_from_dict(raw, tok)
    net = build_network(cfg, read_weights(path, device), device, dtype)
    net.pack_for_cpu()
    return Engine(net, tok, cfg, cfg.mask_token_id, cfg.pad_token_id, cfg.eos_token_id,
                  device, dtype, path)


def shards(state: dict[str, torch.Tensor], max_bytes: int) -> list[dict[str, torch.Tensor]]:
    """Split a state dict into groups of at most ``max_bytes`` (one tensor may exceed it)."""
    groups: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, tensor in state.items():
        nbytes = tensor.numel() * tensor.element_size()
        if groups[-1] and size + nbytes > max_bytes:
            groups.append({})
            size = 0
        groups[-1][name] = tensor
        size += nbytes
    return groups


def save_checkpoint(network: Denoiser, tokenizer_dir: str | Path, out_dir: str | Path,
                    dtype: torch.dtype = torch.float16, shard_mb: int = 15) -> Path:
    """Write config.json, model*.safetensors (``dtype``, sharded) and the tokenizer files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.asdict(network.config)
    cfg.update(model_type=MODEL_TYPE, architectures=["Denoiser"], torch_dtype=str(dtype)[6:])
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    state = {k: v.detach().to("cpu", dtype).contiguous() for k, v in network.state_dict().items()}
    if network.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    for old in out.glob("model*.safetensors"):
        old.unlink()
    groups = shards(state, shard_mb << 20)
    for i, group in enumerate(groups, 1):
        name = "model.safetensors" if len(groups) == 1 else \
            f"model-{i:05d}-of-{len(groups):05d}.safetensors"
        save_file(group, str(out / name), metadata={"format": "pt"})
    for name in TOKENIZER_FILES:
        src = Path(tokenizer_dir) / name
        if src.is_file() and src.resolve() != (out / name).resolve():
            shutil.copyfile(src, out / name)
    return out
