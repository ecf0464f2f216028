"""Run untrusted candidate programs in a subprocess sandbox (never in the caller's process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT_S = 5.0
MEMORY_LIMIT_BYTES = 1 << 30
OUTPUT_LIMIT_BYTES = 1 << 20  # per stream; the child dies (SIGXFSZ) when it writes more
STDERR_TAIL_CHARS = 2000

# The limits are set inside the child, before the candidate runs, so no preexec_fn is needed
# (preexec_fn is unsafe with threads). Where `resource` is missing (Windows) it runs unlimited.
_BOOTSTRAP = """\
try:
    import resource
    for _name, _value in (("RLIMIT_AS", {memory}), ("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", {output})):
        if hasattr(resource, _name):
            resource.setrlimit(getattr(resource, _name), (_value, _value))
except (ImportError, ValueError, OSError):
    pass
with open("program.py", encoding="utf-8") as _f:
    _code = compile(_f.read(), "program.py", "exec")
exec(_code, {{"__name__": "__main__", "__file__": "program.py", "__builtins__": __builtins__}})
"""


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one sandboxed run."""

    passed: bool
    status: str  # "passed" | "failed" | "timeout"
    stderr: str = ""


def run_program(
    source: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    memory_bytes: int = MEMORY_LIMIT_BYTES,
) -> ExecResult:
    """Run `source` with `sys.executable -I` in a fresh temp dir; pass iff it exits with 0."""
    bootstrap = _BOOTSTRAP.format(memory=memory_bytes, output=OUTPUT_LIMIT_BYTES)
    with tempfile.TemporaryDirectory(prefix="infill-exec-") as tmp:
        work = Path(tmp)
        (work / "program.py").write_text(source, encoding="utf-8")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8"}
        with open(work / "stdout", "wb") as out, open(work / "stderr", "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", bootstrap],
                cwd=tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group, so a timeout kills children too
            )
            try:
                code = proc.wait(timeout=timeout)
                status = "passed" if code == 0 else "failed"
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                status = "timeout"
        _kill_group(proc)  # stragglers the candidate may have spawned
        return ExecResult(status == "passed", status, _tail(work / "stderr"))


def run_programs(
    sources: Iterable[str], workers: int = 2, timeout: float = DEFAULT_TIMEOUT_S
) -> list[ExecResult]:
    """Run many programs on a thread pool of sandboxed subprocesses, results in input order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda src: run_program(src, timeout=timeout), sources))


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of `proc` (or just `proc` where groups do not exist)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _tail(path: Path) -> str:
    """The last STDERR_TAIL_CHARS characters of a captured stream."""
    data = path.read_bytes()[-STDERR_TAIL_CHARS * 4 :]
    return data.decode("utf-8", errors="replace")[-STDERR_TAIL_CHARS:]
