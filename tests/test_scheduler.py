"""Scheduler: one worker thread, cancel flags, latest-wins, stale versions, failing jobs."""

import asyncio
import threading

import pytest

from lsp_server.scheduler import Scheduler


@pytest.fixture
def statuses():
    return []


@pytest.fixture
def scheduler(statuses):
    sched = Scheduler(loader=lambda path, device: f"engine:{path}:{device}",
                      on_status=lambda state, message: statuses.append(state))
    sched.start()
    sched.load("weights", "cpu").future.result(timeout=5)
    yield sched
    sched.stop()


def blocking_job(started: threading.Event, release: threading.Event, steps: list):
    """A job that denoises in small steps until released, checking its cancel flag."""

    def fn(engine, cancelled):
        started.set()
        while not release.wait(0.005):
            if cancelled():
                steps.append("saw cancel")
                return "cancelled-partial"
        return f"done with {engine}"

    return fn


def test_load_reports_loading_then_ready(scheduler, statuses):
    assert scheduler.engine == "engine:weights:cpu"
    assert statuses[:2] == ["loading", "ready"]


def test_load_failure_reports_error_and_jobs_return_none(statuses):
    def broken(path, device):
        raise FileNotFoundError(path)

    sched = Scheduler(loader=broken, on_status=lambda state, message: statuses.append(state))
    sched.start()
    try:
        sched.load("missing", "cpu").future.result(timeout=5)
        assert statuses == ["loading", "error"]
        job = sched.submit(lambda engine, cancelled: "never")
        assert job.future.result(timeout=5) is None
        assert job.outcome == "unavailable"
    finally:
        sched.stop()


def test_a_failed_reload_brings_the_previous_model_back():
    seen = []

    def loader(path, device):
        if path == "missing":
            raise FileNotFoundError(f"no config.json in {path}")
        return f"engine:{path}:{device}"

    sched = Scheduler(loader=loader, on_status=lambda state, message: seen.append((state, message)))
    sched.start()
    try:
        sched.load("weights", "cpu").future.result(timeout=5)
        assert sched.load("missing", "cpu").future.result(timeout=5) == "engine:weights:cpu"
        assert [state for state, _ in seen] == ["loading", "ready", "loading", "error",
                                                "loading", "ready"]
        assert "no config.json in missing" in seen[3][1]  # the error the user is shown
        assert seen[-1][1].endswith("; still using weights") and "missing" in seen[-1][1]
        assert sched.loaded == ("weights", "cpu")
        assert sched.submit(lambda engine, cancelled: engine).future.result(timeout=5) == (
            "engine:weights:cpu")
    finally:
        sched.stop()


def test_job_receives_engine(scheduler):
    job = scheduler.submit(lambda engine, cancelled: (engine, cancelled()))
    assert job.future.result(timeout=5) == ("engine:weights:cpu", False)
    assert job.outcome == "done"


def test_cancel_flag_is_seen_by_running_job(scheduler):
    started, release, steps = threading.Event(), threading.Event(), []
    job = scheduler.submit(blocking_job(started, release, steps))
    assert started.wait(5)
    job.cancel()
    assert job.future.result(timeout=5) is None
    assert job.outcome == "cancelled"
    assert steps == ["saw cancel"]


def test_latest_request_for_a_document_wins(scheduler):
    started, release, steps = threading.Event(), threading.Event(), []
    old = scheduler.submit(blocking_job(started, release, steps), uri="file:///a.py",
                           supersede=True)
    assert started.wait(5)
    other_doc = scheduler.submit(lambda e, c: "b", uri="file:///b.py", supersede=True)
    new = scheduler.submit(lambda e, c: "new", uri="file:///a.py", supersede=True)
    assert old.future.result(timeout=5) is None
    assert old.outcome == "cancelled"
    assert steps == ["saw cancel"]
    assert new.future.result(timeout=5) == "new"
    assert other_doc.future.result(timeout=5) == "b"


def test_queued_job_superseded_never_runs(scheduler):
    started, release, steps = threading.Event(), threading.Event(), []
    blocker = scheduler.submit(blocking_job(started, release, steps))
    assert started.wait(5)
    ran = []
    old = scheduler.submit(lambda e, c: ran.append("old"), uri="u", supersede=True)
    new = scheduler.submit(lambda e, c: ran.append("new") or "new", uri="u", supersede=True)
    release.set()
    assert blocker.future.result(timeout=5).startswith("done")
    assert new.future.result(timeout=5) == "new"
    assert old.future.result(timeout=5) is None
    assert ran == ["new"]


def test_debounce_is_cut_short_by_a_newer_request(scheduler):
    ran = []
    old = scheduler.submit(lambda e, c: ran.append("old"), uri="u", supersede=True, delay_s=30)
    new = scheduler.submit(lambda e, c: ran.append("new") or "new", uri="u", supersede=True)
    assert new.future.result(timeout=5) == "new"
    assert old.future.result(timeout=5) is None
    assert ran == ["new"]


def test_result_for_an_older_version_is_dropped(scheduler):
    version = {"v": 1}

    def fn(engine, cancelled):
        version["v"] = 2  # the document changed while the job ran
        return "stale text"

    job = scheduler.submit(fn, is_current=lambda: version["v"] == 1)
    assert job.future.result(timeout=5) is None
    assert job.outcome == "stale"


def test_cancel_document_cancels_its_jobs_only(scheduler):
    started, release, steps = threading.Event(), threading.Event(), []
    job = scheduler.submit(blocking_job(started, release, steps), uri="file:///a.py")
    assert started.wait(5)
    scheduler.cancel_document("file:///b.py")
    assert not job.cancelled()
    scheduler.cancel_document("file:///a.py")
    assert job.future.result(timeout=5) is None


def test_failing_job_does_not_kill_the_worker(scheduler):
    def boom(engine, cancelled):
        raise RuntimeError("sampler exploded")

    bad = scheduler.submit(boom)
    with pytest.raises(RuntimeError, match="sampler exploded"):
        bad.future.result(timeout=5)
    assert bad.outcome == "error"
    assert scheduler.submit(lambda e, c: "still alive").future.result(timeout=5) == "still alive"


def test_busy_then_ready_around_jobs(scheduler, statuses):
    scheduler.submit(lambda e, c: None).future.result(timeout=5)
    scheduler.submit(lambda e, c: None).future.result(timeout=5)
    assert "busy" in statuses[2:]
    for _ in range(100):  # the worker flips back to ready right after the future resolves
        if scheduler.state == "ready":
            break
        threading.Event().wait(0.01)
    assert scheduler.state == "ready"


async def test_run_awaits_without_blocking_the_loop(scheduler):
    started, release, steps = threading.Event(), threading.Event(), []
    task = asyncio.ensure_future(scheduler.run(blocking_job(started, release, steps)))
    while not started.is_set():
        await asyncio.sleep(0.005)  # the loop keeps turning while the job runs
    release.set()
    assert (await task).startswith("done")


async def test_cancelling_the_awaiting_task_sets_the_cancel_flag(scheduler):
    started, release, steps = threading.Event(), threading.Event(), []
    fn = blocking_job(started, release, steps)
    task = asyncio.ensure_future(scheduler.run(fn, uri="u"))
    while not started.is_set():
        await asyncio.sleep(0.005)
    task.cancel()  # what pygls does on $/cancelRequest
    with pytest.raises(asyncio.CancelledError):
        await task
    follow_up = await asyncio.wait_for(scheduler.run(lambda e, c: "next"), timeout=5)
    assert follow_up == "next"
    assert steps == ["saw cancel"]


def test_load_options_reach_the_loader_and_the_key():
    """The precision travels with path and device; the ready status names the dtype."""

    class Engine:
        def __init__(self, *key):
            self.key, self.dtype = key, f"torch.{key[2]}"

    seen = []
    sched = Scheduler(loader=Engine, on_status=lambda state, message: seen.append(message))
    sched.start()
    try:
        engine = sched.load("weights", "cpu", "bfloat16").future.result(timeout=5)
        assert engine.key == sched.loaded == ("weights", "cpu", "bfloat16")
        assert seen[-1] == "model loaded from weights on cpu in bfloat16"
    finally:
        sched.stop()
