"""Speed benchmark: forward passes and wall time per generated token, cached vs not.

    python -m model.bench speed [--checkpoint DIR | --preset NAME] [--device cpu|cuda]
                                [--context 1024] [--spans 8,32,64,128] [--json OUT]
                                [--precision auto|float32|bfloat16[,...]]

For each span length it denoises one hole of that many tokens against
``--context`` tokens of real code (random token ids for a random-weight preset)
three ways, side by side in one run:

* ``one-per-step``: one position committed per forward pass, no cache (the
  number of passes an autoregressive decoder would need);
* ``parallel``: the default decoding settings (threshold + at least
  ``1 / steps_per_token`` positions per pass), no cache;
* ``parallel+cache``: the same with the context KV cache (on CUDA the cached step is
  replayed as a CUDA graph; ``parallel+cache-eager`` shows it without).

With several ``--precision`` values the same network runs in each, interleaved span by span,
and ``precision_speedup`` gives the first precision's ``parallel+cache`` wall time over each
one's at the reference span.

Spans are fixed-length (no pad tail), so generated tokens = span length.
The JSON's top level carries ``cache_speedup`` (parallel ÷ parallel+cache wall
time, 32-token span), ``passes_per_token`` (parallel+cache, 32-token span),
``equal_output`` (cached and uncached tokens identical: exact for span-isolated attention,
Fast-dLLM's approximation for bidirectional checkpoints) and the full table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from model.checkpoint import Engine, load, load_tokenizer, resolve_dtype
from model.network import Denoiser, preset
from model.sampler import DecodeSettings, _Canvas, _denoise

DEFAULT_CHECKPOINT = Path(__file__).parent / "weights"
SAMPLE = Path(__file__).parent.parent / "lsp_server"


def random_engine(name: str, device: torch.device, tokenizer_dir: Path | None,
                  precision: str = "auto") -> Engine:
    """A network of a named shape with random weights (speed only; quality irrelevant)."""
    dtype = resolve_dtype(precision, device)
    cfg = preset(name)
    with torch.device("meta"):
        net = Denoiser(cfg)
    net = net.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(0)  # the same weights per precision
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.02, generator=generator)
    net = net.to(dtype)
    net.pack_for_cpu()  # as ``load`` does
    tok = load_tokenizer(tokenizer_dir) if tokenizer_dir else None
    return Engine(net.eval(), tok, cfg, cfg.mask_token_id, cfg.pad_token_id, cfg.eos_token_id,
                  device, dtype, Path(f"<random {name}>"))


def context_ids(engine: Engine, n: int) -> torch.Tensor:
    """n tokens of this repository's own Python source, or random ids without a tokenizer."""
    if engine.tokenizer is None:
        return torch.randint(3, engine.config.vocab_size, (n,))
    text = "\n".join(p.read_text() for p in sorted(SAMPLE.rglob("*.py")))
    ids = engine.tokenizer(text * 4, add_special_tokens=False)["input_ids"]
    return torch.tensor(ids[:n])


def canvas(ctx: torch.Tensor, span: int, mask_id: int) -> _Canvas:
    """Context split 3:1 around one hole of ``span`` masks."""
    cut = len(ctx) * 3 // 4
    seq = torch.cat((ctx[:cut], torch.full((span,), mask_id), ctx[cut:]))
    return _Canvas(seq, [torch.arange(cut, cut + span)], [""])


def timed(engine, cv, settings, repeats):
    """Median wall ms over repeats (after one warm-up), passes, and the output tokens."""
    times, seq, passes = [], None, 0
    for i in range(repeats + 1):
        if engine.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        seq, passes = _denoise(engine, cv, settings, None, guard=False)
        if engine.device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), passes, seq[cv.holes[0]].tolist()


MODES: dict[str, dict[str, Any]] = {
    "one-per-step": dict(steps_per_token=1.0, threshold=2.0, use_cache=False),
    "parallel": dict(use_cache=False),
    "parallel+cache-eager": dict(use_cache=True, cuda_graphs=False),  # CUDA only
    "parallel+cache": dict(use_cache=True),
}


def run_side_by_side(engines: dict[str, Engine], context: int, spans: list[int],
                     repeats: int) -> dict[str, dict]:
    """The full table and headline ratios per engine (one network in one or more precisions),
    interleaved span by span."""
    first = next(iter(engines.values()))
    ctx = context_ids(first, context)
    rows: dict[str, list[dict]] = {name: [] for name in engines}
    for span in spans:
        cv = canvas(ctx, span, first.mask_id)
        for name, engine in engines.items():
            rows[name] += span_rows(engine, cv, span, repeats)
    return {name: summarize(rows[name], engines[name], context) for name in engines}


def span_rows(engine: Engine, cv: _Canvas, span: int, repeats: int) -> list[dict]:
    """One span's rows, one per decoding mode."""
    rows, outputs = [], {}
    for mode, kw in MODES.items():
        if mode.endswith("eager") and engine.device.type != "cuda":
            continue  # CUDA graphs exist only on CUDA: the same as parallel+cache
        s = DecodeSettings(max_tokens=span, fixed_length=True, **kw)
        reps = 1 if mode == "one-per-step" and engine.device.type == "cpu" else repeats
        ms, passes, outputs[mode] = timed(engine, cv, s, reps)
        rows.append(dict(span=span, mode=mode, ms=round(ms, 2), passes=passes,
                         passes_per_token=round(passes / span, 4),
                         tokens_per_s=round(span / ms * 1000, 1),
                         ms_per_pass=round(ms / passes, 2)))
    rows[-1]["equal_output"] = outputs["parallel"] == outputs["parallel+cache"]
    return rows


def precision_speedup(results: dict[str, dict]) -> dict[str, float]:
    """The first precision's cached wall time over each one's, at the reference span."""
    def cached_ms(result):
        ref = result["reference_span"]
        return next(r["ms"] for r in result["table"]
                    if r["span"] == ref and r["mode"] == "parallel+cache")

    base = cached_ms(next(iter(results.values())))
    return {name: round(base / cached_ms(result), 2) for name, result in results.items()}


def summarize(rows: list[dict], engine: Engine, context: int) -> dict:
    """Top-level figures: cache speedup and passes per token at the 32-token span."""
    at = {(r["span"], r["mode"]): r for r in rows}
    ref = 32 if (32, "parallel") in at else rows[0]["span"]
    return {
        "cache_speedup": round(at[ref, "parallel"]["ms"] / at[ref, "parallel+cache"]["ms"], 2),
        "passes_per_token": at[ref, "parallel+cache"]["passes_per_token"],
        "equal_output": all(r.get("equal_output", True) for r in rows),
        "attention": engine.config.attention,  # equal output is expected for span_isolated
        "reference_span": ref,
        "context_tokens": context,
        "device": str(engine.device),
        "gpu": torch.cuda.get_device_name() if engine.device.type == "cuda" else None,
        "dtype": str(engine.dtype),
        "model": str(engine.path),
        "parameters": sum(p.numel() for p in engine.network.parameters()),
        "torch_threads": torch.get_num_threads(),
        "table": rows,
    }


def print_table(result: dict) -> None:
    print(f"{'span':>5} {'mode':>15} {'ms':>9} {'passes':>7} {'pass/tok':>9} {'tok/s':>8} "
          f"{'ms/pass':>8}")
    for r in result["table"]:
        print(f"{r['span']:>5} {r['mode']:>15} {r['ms']:>9.1f} {r['passes']:>7} "
              f"{r['passes_per_token']:>9.3f} {r['tokens_per_s']:>8.1f} {r['ms_per_pass']:>8.2f}")
    print(f"cache_speedup={result['cache_speedup']}  passes_per_token="
          f"{result['passes_per_token']}  equal_output={result['equal_output']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.bench speed")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--preset", default=None, help="random weights of a named shape")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--context", type=int, default=1024)
    parser.add_argument("--spans", default="8,32,64,128")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--precision", default="auto",
                        help="auto, float32 or bfloat16; several, comma-separated: side by side")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    ckpt = args.checkpoint or DEFAULT_CHECKPOINT

    def engine(precision: str) -> Engine:
        if not args.preset and (ckpt / "config.json").is_file():
            loaded = load(ckpt, device, precision)
            if loaded.backend != "denoiser":
                raise SystemExit(f"{ckpt}: only the project's own denoiser is timed here")
            return loaded
        return random_engine(args.preset or "small", device, None, precision)

    engines = {p: engine(p) for p in args.precision.split(",")}
    spans = [int(s) for s in args.spans.split(",")]
    results = run_side_by_side(engines, args.context, spans, args.repeats)
    for name, result in results.items():
        print(f"precision {name} ({result['dtype']})")
        print_table(result)
    result = next(iter(results.values()))
    if len(results) > 1:
        result = {"precision_speedup": precision_speedup(results), "runs": results}
        print(f"precision_speedup={result['precision_speedup']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    main()

