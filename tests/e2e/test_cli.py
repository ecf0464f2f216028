"""The command line: ``python -m lsp_server`` help, and ``demo`` as a newcomer runs it."""

import subprocess
import sys

from lsp_server.demo import SAMPLES


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsp_server", *args], capture_output=True,
                          text=True, timeout=300)


def test_help_lists_transports_and_demo():
    result = run("--help")
    assert result.returncode == 0
    for word in ("--tcp", "--log-level", "demo"):
        assert word in result.stdout


def test_demo_prints_the_three_edits(tiny_checkpoint):
    result = run("demo", "--model", str(tiny_checkpoint))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "samples/stats.py" in out
    assert "model: ready" in out
    for title in ("1. Inline completion", "2. Fix this function", "3. Insert docstring"):
        assert title in out
    assert "range " in out  # at least one edit printed with its range


def test_demo_without_a_model_explains_what_to_do():
    result = run("demo", "--model", "/nonexistent/weights")
    assert result.returncode == 1
    assert "model: error" in result.stdout
    assert "--model PATH" in result.stdout


def test_demo_rejects_unknown_samples():
    result = run("demo", "--sample", "nope")
    assert result.returncode == 2
    assert ", ".join(SAMPLES) in result.stderr
