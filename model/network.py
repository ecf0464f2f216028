"""The denoiser: a Qwen2-family transformer with bidirectional attention.

Weight names match Qwen2 / Dream checkpoints (``model.embed_tokens``,
``model.layers.N.self_attn.{q,k,v,o}_proj``, ``mlp.{gate,up,down}_proj``,
``model.norm``, ``lm_head``), so the same module runs Dream-7B, Dream-Coder,
DiffuCoder, Open-dCoder and the project's own small default model.

Two attention patterns (``ModelConfig.attention``):

* ``"bidirectional"``: every position attends to every position (Dream family).
  A context KV cache is then approximate (Fast-dLLM) and can be refreshed.
* ``"span_isolated"``: positions outside the span being denoised (the
  *context*) attend only to the context; span positions attend to everything.
  The context keys and values then do not depend on the span, so caching them
  is exact. The default model is trained this way.

The network always returns raw logits at the requested positions; whether
position i or i-1 predicts token i (``logits_shift``) is the sampler's concern.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 8192
    hidden_size: int = 384
    intermediate_size: int = 1024
    num_hidden_layers: int = 6
    num_attention_heads: int = 6
    num_key_value_heads: int = 2
    max_position_embeddings: int = 4096
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True
    attention_bias: bool = True  # Qwen2 has biases on q/k/v only
    mask_token_id: int = 2
    pad_token_id: int = 0
    eos_token_id: int = 1
    logits_shift: bool = False  # True for Dream-family checkpoints
    attention: str = "span_isolated"  # or "bidirectional"

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2),
    "small": ModelConfig(hidden_size=384, intermediate_size=1024, num_hidden_layers=6,
                         num_attention_heads=6, num_key_value_heads=2),
    "medium": ModelConfig(hidden_size=448, intermediate_size=1280, num_hidden_layers=8,
                          num_attention_heads=7, num_key_value_heads=7),
    "base": ModelConfig(hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                        num_attention_heads=8, num_key_value_heads=4),
    # Dream-7B / Qwen2.5-7B shape, for speed benchmarks with random weights.
    "dream-7b": ModelConfig(vocab_size=152064, hidden_size=3584, intermediate_size=18944,
                            num_hidden_layers=28, num_attention_heads=28,
                            num_key_value_heads=4, rope_theta=1e6,
                            tie_word_embeddings=False, mask_token_id=151666,
                            pad_token_id=151643, eos_token_id=151643,
                            logits_shift=True, attention="bidirectional"),
}


def preset(name: str, **overrides) -> ModelConfig:
    """A named size with fields overridden (vocab size, special ids, ...)."""
    return replace(PRESETS[name], **overrides)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_tables(positions: torch.Tensor, head_dim: int, theta: float, dtype: torch.dtype):
    """cos/sin of shape (B, 1, T, hd) for integer positions (B, T), Qwen2 layout."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=positions.device,
                                             dtype=torch.float32) / head_dim))
    freqs = positions.float()[..., None] * inv_freq  # (B, T, hd/2)
    emb = torch.cat((freqs, freqs), dim=-1)[:, None]  # (B, 1, T, hd)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


# Up to this many rows a packed weight is faster on a CPU (a cached step: 24); a context pass
# (hundreds of rows) is as fast or faster unpacked.
PACKED_ROWS = 64
# Packing copies the weights: networks larger than this (a 7B checkpoint) are left unpacked.
PACK_MAX_BYTES = 512 << 20


class Linear(nn.Linear):
    """``nn.Linear`` that can keep its weight packed for oneDNN's CPU kernels (``pack``)."""

    packed: torch.Tensor | None = None

    def pack(self) -> None:
        """Keep a copy of the weight in oneDNN's blocked layout, used for inference on few
        rows: a cached step's projections run about 1.3x faster in fp32 on a CPU (model card).
        The copy does not follow later changes to the weight: pack a loaded network only."""
        self.packed = torch.ops.mkldnn._reorder_linear_weight(self.weight.detach())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (self.packed is not None and not torch.is_grad_enabled()
                and x.shape[:-1].numel() <= PACKED_ROWS):
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")
        return super().forward(x)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.nh, self.nkv, self.hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.q_proj = Linear(cfg.hidden_size, self.nh * self.hd, bias=cfg.attention_bias)
        self.k_proj = Linear(cfg.hidden_size, self.nkv * self.hd, bias=cfg.attention_bias)
        self.v_proj = Linear(cfg.hidden_size, self.nkv * self.hd, bias=cfg.attention_bias)
        self.o_proj = Linear(self.nh * self.hd, cfg.hidden_size, bias=False)

    def forward(self, x, cos, sin, mask, past: tuple | None):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd).transpose(1, 2)  # (B, nh, T, hd)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)  # (B, nkv, T, hd)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        new_kv = (k, v)
        if past is not None:
            k, v = torch.cat((past[0], k), dim=2), torch.cat((past[1], v), dim=2)
        # The CPU kernel shares KV heads itself (no copies); CUDA's kernel for the training
        # mask does not, so the heads are repeated there.
        shared = x.device.type == "cpu"
        if self.nkv != self.nh and not shared:
            k = k.repeat_interleave(self.nh // self.nkv, dim=1)
            v = v.repeat_interleave(self.nh // self.nkv, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                           enable_gqa=shared and self.nkv != self.nh)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, -1)), new_kv


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate_proj = Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask, past):
        h, kv = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + h
        return x + self.mlp(self.post_attention_layernorm(x)), kv


class Trunk(nn.Module):
    """Holds the parameters under the ``model.`` prefix of Qwen2 checkpoints."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


def region_mask(region: torch.Tensor) -> torch.Tensor:
    """Boolean SDPA mask (B, 1, L, L): context rows see only context columns."""
    return (region[:, :, None] | ~region[:, None, :])[:, None]


class Denoiser(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.model = Trunk(cfg)
        self.lm_head = Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, region: torch.Tensor | None = None,
                logits_at: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, L, V) for a full sequence; only at ``logits_at`` (B, S) if given.

        ``region`` (B, L) marks the span being denoised; with span-isolated attention
        the other positions attend only to themselves. ``None`` means all-to-all.
        """
        logits, _ = self.run(input_ids, region=region, logits_at=logits_at)
        return logits

    def run(self, input_ids, positions=None, region=None, logits_at=None, past=None):
        """One pass: returns (logits, per-layer (k, v) of the tokens just fed)."""
        cfg = self.config
        B, T = input_ids.shape
        if positions is None:
            positions = torch.arange(T, device=input_ids.device).expand(B, T)
        x = self.model.embed_tokens(input_ids)
        cos, sin = rope_tables(positions, cfg.head_dim, cfg.rope_theta, x.dtype)
        mask = None
        if region is not None and cfg.attention == "span_isolated":
            mask = region_mask(region)
        kvs = []
        for i, layer in enumerate(self.model.layers):
            x, kv = layer(x, cos, sin, mask, None if past is None else past[i])
            kvs.append(kv)
        if logits_at is not None:
            x = torch.gather(x, 1, logits_at[..., None].expand(-1, -1, x.shape[-1]))
        return self.lm_head(self.model.norm(x)), kvs

    def step(self, span_ids, span_positions, context_kv, logits_at=None):
        """Logits for span tokens attending to cached context keys/values plus the span (only
        at the span rows ``logits_at`` (B, S) if given)."""
        logits, _ = self.run(span_ids, positions=span_positions, past=context_kv,
                             logits_at=logits_at)
        return logits

    def pack_for_cpu(self) -> bool:
        """Pack every projection's weight for oneDNN (``Linear.pack``) where that applies: an
        fp32 network on a CPU of at most ``PACK_MAX_BYTES``, with oneDNN built in. Returns
        whether it did."""
        first = next(self.parameters())
        size = sum(p.numel() * p.element_size() for p in self.parameters())
        if (first.device.type != "cpu" or first.dtype != torch.float32
                or size > PACK_MAX_BYTES or not torch.backends.mkldnn.is_available()):
            return False
        for module in self.modules():
            if isinstance(module, Linear):
                module.pack()
        return True


def context_cache(kvs: list, context_index: torch.Tensor) -> list:
    """Keep the keys/values of the context positions (1-D index) from a full pass."""
    return [(k[:, :, context_index], v[:, :, context_index]) for k, v in kvs]
