"""Train the default denoiser on product-shaped masks (see :mod:`model.masking`).

    python -m model.train --out DIR [--corpus DIR/corpus.jsonl [--max-files N]]
        [--tokenizer DIR | --vocab 8192]
        [--preset small] [--seq-len 512] [--batch 128] [--lr 1e-3] [--steps N] [--minutes M]
        [--resume DIR | --init CKPT] [--device cuda|cpu] [--workers 8] [--mix kind=w,...]
        [--seed 0] [--compile] [--fit-schedule] [--save-minutes S]

DIR ends up as an engine checkpoint (``model.checkpoint.load(DIR)``), plus ``resume/`` (fp32
weights, Adam moments and counters as ``train_state.{safetensors,json}``, kept out of the
checkpoint's ``*.safetensors``), ``train_log.jsonl`` and ``data/`` (tokenizer and tokenized
corpus, reused on resume). ``--steps`` is the schedule's length; ``--minutes`` / ``--run-steps``
only end this invocation early so that a later ``--resume`` continues at the same point of the
schedule. ``--init CKPT`` fine-tunes an engine checkpoint (its config, weights and tokenizer)
with a fresh optimizer and schedule. ``--prepare`` builds ``data/`` and exits (e.g. on a CPU
machine before the GPU run). ``--fit-schedule`` (with ``--minutes``) times the first steps and
sets ``--steps`` so that the cosine ends when the minutes do; ``--save-minutes`` writes the
checkpoint (not the resume state) that often, so a lost machine loses little.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from model import tokenizer as tokenizers_
from model.checkpoint import load, save_checkpoint
from model.corpus import read_corpus
from model.masking import KINDS, ExampleMaker, FileTable, stack, tokenize_file
from model.network import Denoiser, preset

STATE_DIR = "resume"  # a subfolder: checkpoint loaders read every *.safetensors of DIR


@dataclass
class TrainArgs:
    out: str
    corpus: str | None = None
    max_files: int | None = None  # tokenize a seeded random sample of this many corpus files
    tokenizer: str | None = None
    vocab: int = 8192
    tokenizer_chars: int = 50_000_000  # train the tokenizer on a sample this large
    preset: str = "small"
    seq_len: int = 512
    batch: int = 128
    lr: float = 1e-3
    warmup: int | None = None  # default: 5% of the steps, at most 500
    weight_decay: float = 0.1
    steps: int = 2000
    minutes: float | None = None
    run_steps: int | None = None
    resume: str | None = None
    init: str | None = None  # fine-tune this engine checkpoint (fresh optimizer and schedule)
    device: str | None = None
    workers: int = 8
    mix: str | None = None  # "mdlm=0.3,lines=0.2,..."
    loss_positions: int | None = None  # per example (default seq_len // 2, sampled)
    seed: int = 0
    compile: bool = False
    log_every: int = 50
    val_files: int = 200
    val_per_kind: int = 32
    prepare: bool = False  # build data/ and exit
    fit_schedule: bool = False  # with --minutes: --steps = what fits in them, timed
    save_minutes: float | None = None  # also write the checkpoint this often


FIT_STEPS = (20, 120)  # --fit-schedule times the steps between these (after compiling)


# ---------------------------------------------------------------- data


_TOKENIZER: Tokenizer | None = None  # set in each indexing worker by _init_indexer


def _init_indexer(tokenizer_file: str) -> None:
    global _TOKENIZER
    _TOKENIZER = Tokenizer.from_file(tokenizer_file)


def _index(text: str):
    assert _TOKENIZER is not None, "_init_indexer runs first in each worker"
    return tokenize_file(text, _TOKENIZER)


def build_data(args: TrainArgs, data_dir: Path) -> None:
    """Tokenizer (trained unless given), then every file tokenized and indexed, cached."""
    t0 = time.perf_counter()
    assert args.corpus is not None  # checked by the caller
    texts = list(read_corpus(Path(args.corpus)))
    if args.max_files:  # a seeded sample, for short runs on the CPU
        random.Random(args.seed).shuffle(texts)
        texts = texts[: args.max_files]
    texts = [t for t in texts if t.strip()]
    if args.tokenizer:
        tok = tokenizers_.load(Path(args.tokenizer)).backend_tokenizer
    else:
        sample = tokenizers_.sample_texts(texts, args.tokenizer_chars, args.seed)
        tok = tokenizers_.train_tokenizer(sample, args.vocab)
    tokenizers_.save(tok, data_dir)
    t1 = time.perf_counter()
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # forked workers tokenize one file each
    with Pool(os.cpu_count(), _init_indexer, (str(data_dir / "tokenizer.json"),)) as pool:
        files = list(pool.imap(_index, texts, chunksize=8))
    order = np.random.default_rng(args.seed).permutation(len(files))
    n_val = max(1, min(args.val_files, len(files) // 10))
    for name, idx in (("val", order[:n_val]), ("train", order[n_val:])):
        (data_dir / name).mkdir(exist_ok=True)
        FileTable.pack([files[i] for i in sorted(idx)]).save(data_dir / name)
    meta = {
        "files": len(files),
        "val_files": n_val,
        "chars": sum(map(len, texts)),
        "tokens": int(sum(len(f.ids) for f in files)),
        "vocab": tok.get_vocab_size(),
        "tokenizer_s": round(t1 - t0, 1),
        "index_s": round(time.perf_counter() - t1, 1),
    }
    (data_dir / "meta.json").write_text(json.dumps(meta) + "\n")
    log(dict(event="data", **meta))


def loss_arrays(examples, positions: int, rng) -> dict[str, np.ndarray]:
    """Batch arrays plus up to ``positions`` loss positions per example, weighted 1/count."""
    batch = stack(examples)
    B = len(examples)
    loss_at = np.zeros((B, positions), np.int64)
    labels = np.zeros((B, positions), np.int64)
    weight = np.zeros((B, positions), np.float32)
    for b, mask in enumerate(batch["loss_mask"]):
        pos = np.flatnonzero(mask)
        if len(pos) > positions:  # unbiased subsample of the per-example mean
            pos = np.sort(rng.choice(pos, positions, replace=False))
        loss_at[b, : len(pos)], labels[b, : len(pos)] = pos, batch["targets"][b, pos]
        weight[b, : len(pos)] = 1.0 / max(len(pos), 1)
    return {
        "input_ids": batch["input_ids"],
        "region": batch["region"],
        "loss_at": loss_at,
        "labels": labels,
        "weight": weight,
    }


class Batches(IterableDataset):
    """Endless batches of examples; each DataLoader worker has its own seeded stream."""

    def __init__(self, table: FileTable, batch: int, positions: int, seed: list[int], **maker):
        super().__init__()
        self.table, self.batch, self.positions = table, batch, positions
        self.seed, self.maker = seed, maker

    def __iter__(self):
        info = get_worker_info()
        seed = np.random.SeedSequence([*self.seed, info.id if info else 0])
        maker = ExampleMaker(seed=seed, **self.maker)
        cumulative = np.cumsum(self.table.sizes())  # files drawn by token count
        while True:
            picks = np.searchsorted(
                cumulative, maker.rng.random(self.batch) * cumulative[-1], side="right"
            )
            examples = [maker.make(self.table.file(int(i))) for i in picks]
            yield loss_arrays(examples, self.positions, maker.rng)


def validation_batches(table: FileTable, args: TrainArgs, device, **maker) -> dict:
    """A fixed batch per kind from the held-out files, as tensors on ``device``."""
    positions, out = args.loss_positions or args.seq_len // 2, {}
    for kind in KINDS:
        mk = ExampleMaker(**{**maker, "mix": {kind: 1.0}, "seed": [args.seed, 1]})
        picks = mk.rng.integers(len(table), size=args.val_per_kind)
        examples = [mk.make(table.file(int(i))) for i in picks]
        arrays = loss_arrays(examples, positions, mk.rng)
        out[kind] = {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}
    return out


# ---------------------------------------------------------------- model and loss


def batch_loss(model, batch: dict, device, ctx) -> torch.Tensor:
    """Mean over examples of each example's mean cross-entropy on its loss positions."""
    x, region, at, labels, weight = (
        batch[k].to(device, non_blocking=True)
        for k in ("input_ids", "region", "loss_at", "labels", "weight")
    )
    with ctx:
        logits = model(x.long(), region, logits_at=at)  # (B, K, V)
    ce = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), reduction="none")
    return (ce * weight.flatten()).sum() / x.shape[0]


@torch.no_grad()
def evaluate(model, val: dict, device, ctx) -> dict[str, float]:
    """Held-out loss per kind and their mean."""
    model.eval()
    out = {kind: round(batch_loss(model, b, device, ctx).item(), 4) for kind, b in val.items()}
    model.train()
    out["mean"] = round(sum(out.values()) / len(out), 4)
    return out


def make_optimizer(net: torch.nn.Module, args: TrainArgs, device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (fused on CUDA)."""
    params = [p for p in net.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": args.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), fused=device.type == "cuda")


def lr_at(step: int, args: TrainArgs) -> float:
    """Linear warmup, then cosine down to 10% of the peak at ``args.steps``."""
    warmup = args.warmup if args.warmup is not None else max(1, min(500, args.steps // 20))
    if step < warmup:
        return args.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, args.steps - warmup))
    return args.lr * (0.1 + 0.45 * (1.0 + math.cos(math.pi * progress)))


# ---------------------------------------------------------------- resume state


def save_state(out: Path, net, opt, meta: dict) -> None:
    """fp32 weights and Adam moments in resume/train_state.safetensors; counters in .json."""
    tensors = {}
    for name, p in net.named_parameters():
        tensors[f"param.{name}"] = p.detach().float().cpu().contiguous()
        for key, value in opt.state.get(p, {}).items():
            if key != "step":
                tensors[f"{key}.{name}"] = value.detach().float().cpu().contiguous()
    (out / STATE_DIR).mkdir(exist_ok=True)
    save_file(tensors, str(out / STATE_DIR / "train_state.safetensors"))
    (out / STATE_DIR / "train_state.json").write_text(json.dumps(meta, indent=2) + "\n")


def read_state(run_dir: Path) -> dict:
    """The counters and arguments a run saved."""
    return json.loads((run_dir / STATE_DIR / "train_state.json").read_text())


def load_state(src: Path, net, opt) -> dict:
    """Restore what :func:`save_state` wrote; returns the counters."""
    meta = read_state(src)
    tensors = load_file(str(src / STATE_DIR / "train_state.safetensors"))
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(tensors[f"param.{name}"])
            keys = [k for k in ("exp_avg", "exp_avg_sq") if f"{k}.{name}" in tensors]
            if keys:  # fused AdamW keeps its step count on the device, the default on the CPU
                where = p.device if opt.defaults.get("fused") else "cpu"
                opt.state[p] = {"step": torch.tensor(float(meta["step"]), device=where)}
                opt.state[p].update({k: tensors[f"{k}.{name}"].to(p.device) for k in keys})
    return meta


# ---------------------------------------------------------------- loop


def log(record: dict, path: Path | None = None) -> None:
    """One JSON line to stderr (and appended to ``path``); floats to 4 significant digits."""
    line = json.dumps(
        {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in record.items()}
    )
    print(line, file=sys.stderr, flush=True)
    if path is not None:
        with open(path, "a") as f:
            f.write(line + "\n")


def setup_device(name: str | None) -> tuple[torch.device, object]:
    """The device and its autocast context (bf16 on CUDA, none on CPU); TF32 on."""
    device = torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        torch.set_float32_matmul_precision("high")
        torch.backends.cudnn.allow_tf32 = True
        return device, torch.autocast("cuda", dtype=torch.bfloat16)
    return device, nullcontext()


def data_dir_for(args: TrainArgs, saved: dict | None) -> Path:
    """Where the tokenized corpus lives: the resumed run's, else DIR/data (built if missing)."""
    if saved and Path(saved["data_dir"]).joinpath("meta.json").is_file():
        return Path(saved["data_dir"])
    data_dir = Path(args.out) / "data"
    if not (data_dir / "meta.json").is_file():
        if not args.corpus:
            raise SystemExit("no tokenized corpus in DIR/data: pass --corpus")
        data_dir.mkdir(parents=True, exist_ok=True)
        build_data(args, data_dir)
    return data_dir


def parse_mix(text: str) -> dict[str, float]:
    """``"mdlm=0.3,lines=0.2"`` -> ``{"mdlm": 0.3, "lines": 0.2}``."""
    return {k.strip(): float(w) for k, w in (kv.split("=") for kv in text.split(","))}


def build_model(args: TrainArgs, vocab: int, device) -> tuple[Denoiser, torch.optim.AdamW, dict]:
    """The network and optimizer, restored from ``args.resume`` if given; plus the counters."""
    torch.manual_seed(args.seed)
    if args.init:  # its config and weights (a resumed fine-tune then loads its own state)
        net = load(args.init, "cpu", "float32").network.to(device).train()
        if net.config.vocab_size != vocab:
            raise SystemExit(f"--init vocab {net.config.vocab_size} != tokenizer's {vocab}")
    else:
        overrides = dict(vocab_size=vocab, attention="span_isolated", logits_shift=False)
        cfg = preset(args.preset, max_position_embeddings=max(args.seq_len, 4096), **overrides)
        net = Denoiser(cfg).to(device)
    opt = make_optimizer(net, args, device)
    state = load_state(Path(args.resume), net, opt) if args.resume else {"step": 0, "tokens": 0}
    return net, opt, state


def make_loader(table: FileTable, args: TrainArgs, maker: dict, seed: list[int], device):
    """Worker processes that make whole batches (no per-example collation)."""
    positions = args.loss_positions or args.seq_len // 2
    return DataLoader(
        Batches(table, args.batch, positions, seed, **maker),
        batch_size=None,
        num_workers=args.workers,
        pin_memory=device.type == "cuda",
        persistent_workers=args.workers > 0,
        prefetch_factor=4 if args.workers else None,
    )


def fitted_steps(step: int, seconds_per_step: float, left_s: float) -> int:
    """The schedule length that ends ``left_s`` from now at ``seconds_per_step``."""
    return step + max(1, int(0.98 * left_s / seconds_per_step))


def last_step(args, first: int) -> int:
    """Where an invocation that starts at step ``first`` stops: the schedule's end, or
    ``--run-steps`` later if that comes first."""
    return args.steps if args.run_steps is None else min(args.steps, first + args.run_steps)


def train_loop(args, net, opt, loader, val, state, device, ctx, log_path, save=None) -> dict:
    """Steps until ``args.steps``, ``args.run_steps`` or ``args.minutes``; returns the counters.

    ``save()`` writes the checkpoint; it is called every ``args.save_minutes``.
    """
    model = torch.compile(net) if args.compile else net
    step, tokens, per_step = state["step"], state["tokens"], args.batch * args.seq_len
    first = step
    last = last_step(args, first)
    t_start = t_log = t_save = time.perf_counter()
    wait, loss_sum, n = 0.0, torch.zeros((), device=device), 0
    batches = iter(loader)
    fit_from = None
    while step < last:
        now = time.perf_counter()
        if args.minutes is not None and now - t_start > args.minutes * 60:
            break
        if args.fit_schedule and args.minutes is not None and step - first in FIT_STEPS:
            loss_sum.item()  # wait for the device
            if step - first == FIT_STEPS[0]:
                fit_from = time.perf_counter()
            elif fit_from is not None:
                per = (time.perf_counter() - fit_from) / (FIT_STEPS[1] - FIT_STEPS[0])
                left = args.minutes * 60 - (time.perf_counter() - t_start)
                args.steps = fitted_steps(step, per, left)
                last = last_step(args, first)
                log(dict(event="fit", step=step, steps=args.steps, step_s=per), log_path)
        if save is not None and args.save_minutes is not None and (
            now - t_save >= args.save_minutes * 60 and step > first
        ):
            save()
            log(dict(event="checkpoint", step=step), log_path)
            t_save = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args)
        t_wait = time.perf_counter()
        batch = next(batches)
        wait += time.perf_counter() - t_wait
        loss = batch_loss(model, batch, device, ctx)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step, tokens, n, loss_sum = step + 1, tokens + per_step, n + 1, loss_sum + loss.detach()
        if step % args.log_every == 0 or step == last:
            dt = time.perf_counter() - t_log  # tokens/s counts pad tokens too
            record = dict(step=step, loss=loss_sum.item() / n, lr=lr_at(step - 1, args))
            record.update(tokens=tokens, tokens_s=round(n * per_step / dt), steps_s=n / dt)
            record.update(examples_s=n * args.batch / dt, data_wait=wait / dt)
            log({**record, "val": evaluate(net, val, device, ctx)}, log_path)
            t_log, wait, loss_sum, n = time.perf_counter(), 0.0, loss_sum * 0, 0
    return {"step": step, "tokens": tokens, "run_s": round(time.perf_counter() - t_start, 1)}


def main(args: TrainArgs) -> Denoiser | None:
    """Train (or continue) and save checkpoint + resume state into ``args.out``; returns the net."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.init and not args.tokenizer:
        args = dataclasses.replace(args, tokenizer=args.init)  # the checkpoint's own vocabulary
    data_dir = data_dir_for(args, read_state(Path(args.resume)) if args.resume else None)
    if args.prepare:
        return None
    device, ctx = setup_device(args.device)
    vocab = Tokenizer.from_file(str(data_dir / "tokenizer.json")).get_vocab_size()
    net, opt, state = build_model(args, vocab, device)
    mix = parse_mix(args.mix) if args.mix else None
    maker = dict(seq_len=args.seq_len, mix=mix, vocab_size=vocab)
    maker.update(mask_id=net.config.mask_token_id, pad_id=net.config.pad_token_id)
    train = FileTable.load(data_dir / "train")
    val = validation_batches(FileTable.load(data_dir / "val"), args, device, **maker)
    loader = make_loader(train, args, maker, [args.seed, state["step"]], device)
    log_path = out / "train_log.jsonl"
    params = sum(p.numel() for p in net.parameters())
    rate = producer_rate(train, args, maker)
    start = dict(event="start", params=params, device=str(device), producer_ex_s=rate)
    start["val"] = evaluate(net, val, device, ctx)  # where this invocation starts from
    log({**start, "step": state["step"], "args": dataclasses.asdict(args)}, log_path)
    def save() -> None:
        save_checkpoint(net, data_dir, out, dtype=torch.float16)

    counters = train_loop(args, net, opt, loader, val, state, device, ctx, log_path, save)
    save()
    meta = dict(seed=args.seed, data_dir=str(data_dir.resolve()), args=dataclasses.asdict(args))
    save_state(out, net, opt, {**counters, **meta})
    log(dict(event="saved", out=str(out), **counters), log_path)
    return net


def producer_rate(table: FileTable, args: TrainArgs, maker: dict) -> float:
    """Examples/s one loader worker makes (compare with examples_s: is the GPU starved?)."""
    it = iter(
        make_loader(table, dataclasses.replace(args, workers=0), maker, [0], torch.device("cpu"))
    )
    next(it)
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 0.5:
        next(it)
        n += args.batch
    return round(n / (time.perf_counter() - t0), 1)


def parse_args(argv: list[str] | None = None) -> TrainArgs:
    """CLI flags over the resumed run's arguments over the defaults."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], argument_default=argparse.SUPPRESS
    )
    for field in dataclasses.fields(TrainArgs):
        flag = "--" + field.name.replace("_", "-")
        if field.type == "bool":
            parser.add_argument(flag, action="store_true")
        else:
            kind = {"int": int, "float": float}.get(field.type.split(" ")[0], str)
            parser.add_argument(flag, type=kind, required=field.name == "out")
    given = vars(parser.parse_args(argv))
    base = {}
    if "resume" in given:
        saved = read_state(Path(given["resume"]))["args"]
        per_run = ("out", "resume", "minutes", "run_steps", "prepare", "fit_schedule")
        base = {k: v for k, v in saved.items() if k not in per_run}
    return TrainArgs(**{**base, **given})


if __name__ == "__main__":
    main(parse_args())
