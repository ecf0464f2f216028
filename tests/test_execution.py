"""Sandboxed execution of candidate programs (model/execution.py)."""

import os
import sys

import pytest

from model.execution import run_program, run_programs


def test_passing_program():
    res = run_program("def f(x):\n    return x + 1\nassert f(1) == 2\n")
    assert res.passed and res.status == "passed"


def test_failing_assertion_reports_stderr():
    res = run_program("assert 1 + 1 == 3, 'arithmetic'\n")
    assert not res.passed and res.status == "failed"
    assert "AssertionError: arithmetic" in res.stderr


def test_syntax_error_fails():
    res = run_program("def f(:\n")
    assert res.status == "failed" and "SyntaxError" in res.stderr


def test_infinite_loop_times_out():
    res = run_program("while True:\n    pass\n", timeout=0.5)
    assert not res.passed and res.status == "timeout"


def test_stdin_is_closed():
    res = run_program("import sys\nassert sys.stdin.read() == ''\n")
    assert res.passed


def test_cannot_write_into_callers_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run_program("import os\nopen('leak.txt', 'w').write(os.getcwd())\n")
    assert res.passed
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_memory_limit_stops_huge_allocation():
    res = run_program("x = bytearray(4 * 1024 ** 3)\n")
    assert res.status == "failed" and "MemoryError" in res.stderr


def test_run_programs_keeps_order():
    results = run_programs(["pass\n", "raise SystemExit(1)\n", "pass\n"], workers=2)
    assert [r.passed for r in results] == [True, False, True]
