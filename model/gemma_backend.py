"""DiffusionGemma backend: transformers-native block diffusion behind the engine's infill contract.

DiffusionGemma is an encoder-decoder block-diffusion model. A causal encoder writes the prompt's KV
cache once; a bidirectional decoder then refines a *canvas* of tokens that continues the prompt,
reading that cache read-only. Its noise is uniform, not absorbing: the canvas starts as random
vocabulary tokens, each step samples a denoised canvas, keeps the lowest-entropy positions
(entropy-bound sampler), re-randomises the rest, and feeds its logits back as self-conditioning.
The answer is the argmax of the last step.

Infill prompt: the prefix and suffix go into a fixed plain-text template (below), wrapped in the
tokenizer's chat template when it has one; the canvas is the hole (``budget`` tokens, capped at
``config.canvas_length``). Several holes are filled one after another, left to right: hole i sees
holes < i already filled and later holes as ``<HOLE>``.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, cast

import torch
from transformers import (
    DiffusionGemmaForBlockDiffusion,
    DiffusionGemmaGenerationConfig,
    DynamicCache,
    PreTrainedTokenizerFast,
)
from transformers.models.diffusion_gemma.generation_diffusion_gemma import (
    EntropyBoundSampler,
    EntropyBoundSamplerConfig,
    LinearTemperatureScheduleLogitsProcessor,
    StableAndConfidentStoppingCriteria,
)

BACKEND: Final = "diffusion_gemma"
HOLE = "<HOLE>"
PROMPT = (
    "Fill in the missing code. Reply with only the code that replaces the hole.\n"
    f"Other unfilled holes appear as {HOLE}.\n"
    "### Code before the hole:\n{prefix}\n"
    "### Code after the hole:\n{suffix}\n"
    "### Code in the hole:\n"
)
DEFAULT_CONTEXT_TOKENS = 2048


@dataclass
class GemmaEngine:
    """A loaded DiffusionGemma checkpoint plus the ids and decoding defaults the sampler needs."""

    network: DiffusionGemmaForBlockDiffusion
    tokenizer: PreTrainedTokenizerFast
    config: object
    mask_id: int | None
    pad_id: int | None
    eos_id: int | None
    device: torch.device
    dtype: torch.dtype
    path: Path
    stop_ids: tuple[int, ...] = ()
    generation: dict = field(default_factory=dict)
    backend: Literal["diffusion_gemma"] = BACKEND


@dataclass
class GemmaSpansResult:
    """One filled text per hole, plus the bookkeeping the engine reports."""

    texts: list[str]
    cancelled: bool
    forward_passes: int
    elapsed_ms: float
    token_counts: list[int] = field(default_factory=list)


def is_gemma_config(config: dict) -> bool:
    """True when a config.json dict describes a DiffusionGemma checkpoint."""
    archs = config.get("architectures") or []
    return config.get("model_type") == BACKEND or any(a.startswith("DiffusionGemma") for a in archs)


def load(path, device="cpu", dtype: torch.dtype | None = None) -> GemmaEngine:
    """Load a local DiffusionGemma checkpoint (safetensors, offline, no remote code); fp32 on
    the CPU and bf16 on CUDA unless ``dtype`` says otherwise."""
    path, device = Path(path), torch.device(device)
    if dtype is None:
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    network = DiffusionGemmaForBlockDiffusion.from_pretrained(
        path, use_safetensors=True, local_files_only=True, dtype=dtype
    )
    network = network.to(device).eval()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(path, local_files_only=True)
    text_cfg = network.config.text_config
    stop_ids = _stop_ids(tokenizer, text_cfg, network.generation_config)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else text_cfg.pad_token_id
    mask_id = tokenizer.mask_token_id
    if mask_id is None and "<mask>" in tokenizer.get_vocab():
        mask_id = tokenizer.convert_tokens_to_ids("<mask>")
    return GemmaEngine(
        network=network,
        tokenizer=tokenizer,
        config=network.config,
        mask_id=mask_id,
        pad_id=pad_id,
        eos_id=stop_ids[0] if stop_ids else None,
        device=device,
        dtype=dtype,
        path=path,
        stop_ids=stop_ids,
        generation=_generation_params(network.generation_config),
    )


def _stop_ids(tokenizer, text_cfg, gen_cfg) -> tuple[int, ...]:
    """Every id that ends the canvas: model/generation eos ids, the tokenizer's eos, and pad."""
    values = (
        text_cfg.eos_token_id,
        getattr(gen_cfg, "eos_token_id", None),
        tokenizer.eos_token_id,
        tokenizer.pad_token_id,
        text_cfg.pad_token_id,
    )
    ids: list[int] = []
    for value in values:
        ids += value if isinstance(value, list) else [] if value is None else [value]
    return tuple(dict.fromkeys(ids))


def _generation_params(gen_cfg) -> dict:
    """The checkpoint's diffusion parameters, falling back to transformers' own defaults."""
    defaults = DiffusionGemmaGenerationConfig._get_default_generation_params()
    keys = ("sampler_config", "t_min", "t_max", "stability_threshold", "confidence_threshold")
    return {k: v if (v := getattr(gen_cfg, k, None)) is not None else defaults[k] for k in keys}


def infill_spans(
    engine: GemmaEngine,
    pieces: list[str],
    budgets: list[int],
    settings,
    cancel: Callable[[], bool] = lambda: False,
) -> GemmaSpansResult:
    """Fill the holes between ``pieces`` left to right; ``cancel()`` is polled before every pass."""
    assert len(pieces) >= 2 and len(budgets) == len(pieces) - 1, (len(pieces), len(budgets))
    start = time.perf_counter()
    gen = torch.Generator(device=engine.device).manual_seed(settings.seed or 0)
    texts: list[str] = []
    counts: list[int] = []
    passes = 0
    for i, budget in enumerate(budgets):
        prefix = "".join(p + t for p, t in zip(pieces[:i], texts, strict=True)) + pieces[i]
        prompt = _prompt_ids(engine, prefix, HOLE.join(pieces[i + 1 :]), settings)
        ids, used = _denoise(engine, prompt, budget, settings, cancel, gen)
        passes += used
        if ids is None:
            ms = (time.perf_counter() - start) * 1000
            return GemmaSpansResult([""] * len(budgets), True, passes, ms, [0] * len(budgets))
        text, count = _finish(engine, ids, settings)
        texts.append(text)
        counts.append(count)
    ms = (time.perf_counter() - start) * 1000
    return GemmaSpansResult(texts, False, passes, ms, counts)


def _prompt_ids(engine: GemmaEngine, prefix: str, suffix: str, settings) -> torch.Tensor:
    """Encode the FIM template (inside the chat template when present) as a (1, T) id tensor."""
    tok = engine.tokenizer
    keep = (getattr(settings, "context_tokens", None) or DEFAULT_CONTEXT_TOKENS) // 2
    prefix, suffix = _clip(tok, prefix, keep, tail=True), _clip(tok, suffix, keep)
    text = PROMPT.format(prefix=prefix, suffix=suffix)
    if tok.chat_template:
        chat = [{"role": "user", "content": text}]
        text = cast(str, tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))
        ids = tok(text, add_special_tokens=False).input_ids
    else:
        ids = tok(text, add_special_tokens=False).input_ids
        if tok.bos_token_id is not None:
            ids = [tok.bos_token_id, *ids]
    return torch.tensor([ids], dtype=torch.long, device=engine.device)


def _clip(tok, text: str, keep: int, tail: bool = False) -> str:
    """Keep the last (tail) or first ``keep`` tokens of ``text``, cut on token boundaries."""
    offsets = tok(text, add_special_tokens=False, return_offsets_mapping=True).offset_mapping
    if len(offsets) <= keep:
        return text
    return text[offsets[-keep][0] :] if tail else text[: offsets[keep - 1][1]]


def _steps(settings, length: int) -> int:
    """Denoising step budget: ``max_steps`` or ``ceil(length * steps_per_token)``, at least 1."""
    if settings.max_steps:
        return max(1, int(settings.max_steps))
    return max(1, math.ceil(length * settings.steps_per_token))


def _cache_keyword(net) -> str:
    """The forward's name for the KV cache: ``cache`` since transformers 5.24, which warns that
    the earlier ``past_key_values`` goes away in 5.40."""
    forward = inspect.signature(net.model.encoder.forward).parameters
    return "cache" if "cache" in forward else "past_key_values"


@torch.inference_mode()
def _denoise(engine, prompt, budget, settings, cancel, gen) -> tuple[list[int] | None, int]:
    """Run the encoder once, then the model's denoising loop on one canvas; None ids = cancelled."""
    net, gp = engine.network, engine.generation
    vocab = net.config.text_config.vocab_size
    length = max(1, min(int(budget), net.config.canvas_length))
    steps = _steps(settings, length)
    if cancel():
        return None, 0
    cache = DynamicCache(config=net.config.get_text_config(decoder=True))
    n = prompt.shape[1]
    encoder_positions = torch.arange(n, device=prompt.device)[None]  # (1, T)
    cached = {_cache_keyword(net): cache}
    net.model.encoder(input_ids=prompt, position_ids=encoder_positions, **cached)
    passes = 1
    positions = torch.arange(n, n + length, device=prompt.device)[None]  # (1, L)
    sampler_cfg = gp["sampler_config"]
    if isinstance(sampler_cfg, dict):
        sampler_cfg = EntropyBoundSamplerConfig(entropy_bound=float(sampler_cfg["entropy_bound"]))
    sampler = EntropyBoundSampler(sampler_cfg, length, vocab, steps)
    temperature = LinearTemperatureScheduleLogitsProcessor(gp["t_min"], gp["t_max"], steps)
    stopper = StableAndConfidentStoppingCriteria(
        gp["stability_threshold"], float(gp["confidence_threshold"])
    )
    canvas = _noise(length, vocab, gen, prompt.device)  # (1, L) uniform noise: x_T
    argmax, self_cond = canvas, None
    for cur_step in range(steps, 0, -1):  # reverse process: N..1 steps remaining
        if cancel():
            return None, passes
        out = net(
            decoder_input_ids=canvas,
            self_conditioning_logits=self_cond,
            decoder_position_ids=positions,
            **cached,
        )
        passes += 1
        # arg-type ignores: transformers' processors take LongTensor canvases (here plain Tensors)
        logits = temperature(None, out.logits, cur_step)  # type: ignore[arg-type]  # (1, L, V) fp32
        if not settings.allow_empty and engine.stop_ids:
            logits[:, 0, list(engine.stop_ids)] = torch.finfo(logits.dtype).min
        assert logits.shape == (1, length, vocab), logits.shape
        probs = torch.softmax(logits, dim=-1)
        sampled = torch.multinomial(probs.view(length, vocab), 1, generator=gen).view(1, length)
        argmax = logits.argmax(dim=-1)
        accepted = sampler.accept_canvas(
            canvas, sampled, logits, cur_step  # type: ignore[arg-type]
        )
        keep = cast(torch.Tensor, sampler.accepted_token_mask)  # typed None: set by accept_canvas
        canvas = torch.where(keep, accepted, _noise(length, vocab, gen, prompt.device))
        self_cond = logits.to(net.model.decoder.embed_tokens.weight.dtype)
        if stopper(argmax, logits).all():  # type: ignore[arg-type]
            break
    return argmax[0].tolist(), passes


def _noise(length: int, vocab: int, gen: torch.Generator, device) -> torch.Tensor:
    """A (1, length) canvas of uniform random tokens, drawn from the seeded generator."""
    return torch.randint(0, vocab, (1, length), generator=gen, device=device)


def _finish(engine: GemmaEngine, ids: list[int], settings) -> tuple[str, int]:
    """Drop the eos/pad tail, decode, strip a chat-style code fence, honour ``single_line``."""
    stops = set(engine.stop_ids)
    cut = next((i for i, t in enumerate(ids) if t in stops), len(ids))
    ids = ids[:cut]
    text = _strip_fence(cast(str, engine.tokenizer.decode(ids, skip_special_tokens=True)))
    if settings.single_line:
        text = text.split("\n", 1)[0]
    return text, len(ids)


def _strip_fence(text: str) -> str:
    """Unwrap a ```lang ... ``` block, which instruction-tuned models like to emit."""
    if not text.lstrip().startswith("```"):
        return text
    body = text.lstrip().split("\n", 1)[1] if "\n" in text.lstrip() else ""
    return body.split("```", 1)[0].rstrip("\n")
