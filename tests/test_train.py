"""End-to-end CPU training of the tiny preset: loss goes down, checkpoint and resume round-trip."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model.checkpoint import load
from model.train import TrainArgs, main, parse_args

STEPS, FIRST_RUN = 40, 25


def small_stdlib_files(count: int = 30) -> list[Path]:
    """Deterministic mid-sized stdlib modules (fast to tokenize, real Python)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.glob("*.py") if 4_000 < p.stat().st_size < 20_000)
    assert len(files) >= count
    return files[:count]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    with open(root / "corpus.jsonl", "w") as f:
        for path in small_stdlib_files():
            f.write(json.dumps({"path": str(path), "text": path.read_text()}) + "\n")
    common = dict(
        preset="tiny",
        vocab=400,
        seq_len=128,
        batch=16,
        lr=3e-3,
        steps=STEPS,
        workers=0,
        log_every=1,
        val_per_kind=4,
        device="cpu",
        seed=0,
    )
    first = TrainArgs(
        out=str(root / "a"), corpus=str(root / "corpus.jsonl"), run_steps=FIRST_RUN, **common
    )
    main(first)
    second = parse_args(["--resume", str(root / "a"), "--out", str(root / "b")])
    net = main(second)
    return root, second, net


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_loss_goes_down(runs):
    root, _, _ = runs
    steps = [r for d in ("a", "b") for r in read_log(root / d / "train_log.jsonl") if "loss" in r]
    losses = [r["loss"] for r in steps]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3
    assert steps[-1]["val"]["mean"] < steps[0]["val"]["mean"]


def test_resume_continues_the_schedule(runs):
    root, args, _ = runs
    assert args.steps == STEPS and args.preset == "tiny"  # taken from the resumed run
    first = json.loads((root / "a" / "resume" / "train_state.json").read_text())
    second = json.loads((root / "b" / "resume" / "train_state.json").read_text())
    assert first["step"] == FIRST_RUN and second["step"] == STEPS
    assert second["tokens"] == STEPS * 16 * 128
    logged = [r["step"] for r in read_log(root / "b" / "train_log.jsonl") if "loss" in r]
    assert logged == list(range(FIRST_RUN + 1, STEPS + 1))
    assert not (root / "b" / "data").exists()  # reused the first run's tokenized corpus


def test_resume_restores_weights_and_moments(runs, tmp_path):
    root, _, _ = runs
    main(parse_args(["--resume", str(root / "a"), "--out", str(tmp_path), "--run-steps", "0"]))
    before = load_file(str(root / "a" / "resume" / "train_state.safetensors"))
    after = load_file(str(tmp_path / "resume" / "train_state.safetensors"))
    assert before.keys() == after.keys()
    assert any(k.startswith("exp_avg_sq.") for k in before)
    for key in before:
        assert torch.equal(before[key], after[key]), key


def test_checkpoint_round_trips(runs):
    root, _, net = runs
    engine = load(root / "b", "cpu", "float32")
    assert engine.config == net.config and engine.tokenizer.get_vocab()["<|mask|>"] == 2
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(3, net.config.vocab_size, (2, 48), generator=gen)
    region = torch.zeros_like(ids, dtype=torch.bool)
    region[:, 20:30] = True
    ids[region] = engine.mask_id
    with torch.no_grad():
        want = net.eval()(ids, region)
        got = engine.network(ids, region)
        rounded = {k: v.half().float() for k, v in net.state_dict().items()}
        net.load_state_dict(rounded)
        exact = net(ids, region)
    torch.testing.assert_close(got, exact, rtol=1e-5, atol=1e-5)  # same fp16 weights
    torch.testing.assert_close(got, want, rtol=0, atol=0.05)  # fp16 rounding only


def test_init_fine_tunes_an_engine_checkpoint(runs, tmp_path):
    root, _, _ = runs
    out = tmp_path / "ft"
    args = parse_args(["--init", str(root / "b"), "--out", str(out), "--corpus",
                       str(root / "corpus.jsonl"), "--seq-len", "128", "--batch", "8",
                       "--steps", "3", "--workers", "0", "--log-every", "1",
                       "--val-per-kind", "4", "--device", "cpu"])
    main(args)
    fresh = read_log(root / "a" / "train_log.jsonl")[0]
    start, *steps = read_log(out / "train_log.jsonl")
    assert start["event"] == "start" and start["params"] == fresh["params"]  # the tiny net
    assert start["val"]["mean"] < fresh["val"]["mean"] - 0.3  # it starts trained
    assert [r["step"] for r in steps if "loss" in r] == [1, 2, 3]
    tokenizer = json.loads((root / "b" / "tokenizer.json").read_text())["model"]
    assert json.loads((out / "data" / "tokenizer.json").read_text())["model"] == tokenizer
    assert load(out, "cpu").config == load(root / "b", "cpu").config


def fitted_run(runs, out: Path, monkeypatch, *extra: str) -> tuple[list[dict], dict, dict]:
    """A ``--fit-schedule`` run timed on a fake clock (0.1 s per reading): its log, the fit
    record and the saved resume state."""
    import itertools
    import types

    import model.train as train

    ticks = itertools.count()
    monkeypatch.setattr(train, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks) / 10))
    monkeypatch.setattr(train, "FIT_STEPS", (2, 6))
    root, _, _ = runs
    main(parse_args(["--init", str(root / "b"), "--out", str(out), "--corpus",
                     str(root / "corpus.jsonl"), "--seq-len", "64", "--batch", "4",
                     "--steps", "100000", "--warmup", "2", "--minutes", "0.1", "--fit-schedule",
                     "--save-minutes", "0.02", "--workers", "0", "--log-every", "1000",
                     "--val-per-kind", "2", "--device", "cpu", *extra]))
    log = read_log(out / "train_log.jsonl")
    fit = next(r for r in log if r.get("event") == "fit")
    assert fit["step"] == 6 and 6 < fit["steps"] < 100
    return log, fit, json.loads((out / "resume" / "train_state.json").read_text())


def test_fit_schedule_stops_at_run_steps_and_keeps_the_fitted_length(runs, tmp_path, monkeypatch):
    _, fit, saved = fitted_run(runs, tmp_path / "fit", monkeypatch, "--run-steps", "8")
    assert fit["steps"] > 8
    assert saved["step"] == 8 and saved["args"]["steps"] == fit["steps"]  # resumes on that cosine


def test_fit_schedule_ends_the_cosine_with_the_minutes(runs, tmp_path, monkeypatch):
    log, fit, saved = fitted_run(runs, tmp_path / "fit", monkeypatch)
    assert saved["step"] == fit["steps"] == saved["args"]["steps"]  # ended by the schedule
    last = [r for r in log if "loss" in r][-1]
    assert last["step"] == fit["steps"] and last["lr"] < 0.12 * 1e-3  # the cosine's floor is 10%
    checkpoints = [r["step"] for r in log if r.get("event") == "checkpoint"]
    assert len(checkpoints) >= 2 and checkpoints == sorted(set(checkpoints))


def test_init_starts_from_the_exact_checkpoint_weights(runs):
    """fp32 training starts from the stored fp16 values, not a bf16 rounding of them."""
    from model.train import build_model

    root, _, _ = runs
    args = parse_args(["--init", str(root / "b"), "--out", str(root / "unused"), "--device", "cpu"])
    vocab = load(root / "b", "cpu").config.vocab_size
    net, _, state = build_model(args, vocab, torch.device("cpu"))
    stored = {}
    for shard in sorted((root / "b").glob("*.safetensors")):
        stored.update(load_file(str(shard)))
    assert state["step"] == 0 and stored["model.norm.weight"].dtype == torch.float16
    for name, param in net.named_parameters():
        assert param.dtype == torch.float32, name
        torch.testing.assert_close(param.detach(), stored[name].float(), rtol=0, atol=0)
