"""The command line: ``python -m lsp_server`` help, and ``demo`` as a newcomer runs it."""

import json
import re
import socket
import subprocess
import sys
import time

from lsp_server.demo import SAMPLES


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsp_server", *args], capture_output=True,
                          text=True, timeout=300)


def test_help_lists_transports_and_demo():
    result = run("--help")
    assert result.returncode == 0
    for word in ("--tcp", "--log-level", "demo"):
        assert word in result.stdout


def test_demo_prints_the_three_edits(product_checkpoint):
    """The shipped model, as a newcomer runs it: each of the three gets an edit (a random
    model's text is never offered: it does not read as code or prose)."""
    result = run("demo", "--model", str(product_checkpoint))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "samples/stats.py" in out
    assert "model: ready" in out
    for title in ("1. Inline completion", "2. Fix this function", "3. Insert docstring"):
        assert re.search(rf"{re.escape(title)}: [1-9]\d* edit", out), out
    assert out.count("range ") >= 3  # each edit printed with its range


def test_demo_serves_a_diffusion_gemma_checkpoint(tiny_gemma_checkpoint):
    """A DiffusionGemma checkpoint loads and answers all three features through the server;
    what its random weights write is never offered when it holds half a character (U+FFFD) or
    a control character (the demo would print one as ``\\x..``)."""
    result = run("demo", "--model", str(tiny_gemma_checkpoint))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "model: ready" in out
    for title in ("1. Inline completion", "2. Fix this function", "3. Insert docstring"):
        assert title in out
    assert "\ufffd" not in out and "\\x" not in out, out


def test_demo_without_a_model_explains_what_to_do():
    result = run("demo", "--model", "/nonexistent/weights")
    assert result.returncode == 1
    assert "model: error" in result.stdout
    assert "--model PATH" in result.stdout


def test_demo_rejects_unknown_samples():
    result = run("demo", "--sample", "nope")
    assert result.returncode == 2
    assert ", ".join(SAMPLES) in result.stderr


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_message(sock: socket.socket) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(4096)
    return json.loads(body[:length])


def test_tcp_session_initializes_and_exits_cleanly(tiny_checkpoint):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "lsp_server", "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        with sock:
            options = {"modelPath": str(tiny_checkpoint)}
            sock.sendall(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                 "params": {"capabilities": {},
                                            "initializationOptions": options}}))
            reply = _read_message(sock)
            while reply.get("id") != 1:  # skip notifications sent meanwhile
                reply = _read_message(sock)
            assert "inlineCompletionProvider" in reply["result"]["capabilities"]
            sock.sendall(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
            sock.sendall(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
            sock.sendall(_frame({"jsonrpc": "2.0", "method": "exit"}))
            assert server.wait(60) == 0
    finally:
        if server.poll() is None:
            server.kill()
    stderr = server.stderr.read()
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
