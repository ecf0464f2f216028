"""The resident model's owner: one worker thread, a job queue, latest-request-wins per document.

Jobs are plain callables ``fn(engine, cancelled) -> result``. The event loop never runs them: it
awaits ``Scheduler.run``, which wraps the job's future. A job's result is ``None`` when it was
cancelled (a newer request for the same document, ``$/cancelRequest``, an edit), when its document
moved on to a newer version while it ran, or when no model is loaded.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)

JobFn = Callable[[Any, Callable[[], bool]], Any]
StatusFn = Callable[[str, str], None]


class Job:
    """One unit of work for the worker thread, with its cancel flag and future."""

    def __init__(self, fn: JobFn, uri: str | None, supersede: bool,
                 is_current: Callable[[], bool] | None, delay_s: float, needs_engine: bool):
        self.fn = fn
        self.uri = uri
        self.supersede = supersede
        self.is_current = is_current
        self.delay_s = delay_s
        self.needs_engine = needs_engine
        self.future: Future[Any] = Future()
        self.outcome = "pending"  # -> done | cancelled | stale | unavailable | error
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop; the sampler sees it between denoising steps."""
        self._cancel.set()

    def cancelled(self) -> bool:
        """Whether the job was asked to stop."""
        return self._cancel.is_set()

    def wait_debounce(self) -> bool:
        """Sleep out the debounce delay; True if the job was cancelled meanwhile."""
        return self.delay_s > 0 and self._cancel.wait(self.delay_s)


class Scheduler:
    """Owns the engine; runs jobs one at a time on a single worker thread."""

    def __init__(self, loader: Callable[..., Any], on_status: StatusFn | None = None):
        self._loader = loader
        self._on_status = on_status or (lambda state, message: None)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._live: set[Job] = set()
        self._thread = threading.Thread(target=self._work, name="infill-worker", daemon=True)
        self.engine: Any = None
        self.loaded: tuple[str, ...] | None = None  # (path, device, *options) of the engine
        self.state = "idle"
        self.message = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel everything and stop the worker thread."""
        with self._lock:
            for job in self._live:
                job.cancel()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def load(self, path: str, device: str, *options: str) -> Job:
        """Queue a (re)load of the model (``loader(path, device, *options)``); the previous
        engine is dropped first, and loaded again when the new one fails (the error is reported,
        the server keeps working)."""
        key = (path, device, *options)

        def load_engine(_engine: Any, _cancelled: Callable[[], bool]) -> Any:
            previous, self.engine, self.loaded = self.loaded, None, None
            error = self._load(key)
            if error is None:
                dtype = str(getattr(self.engine, "dtype", "")).removeprefix("torch.")
                self._status("ready", f"model loaded from {path} on {device}"
                             + (f" in {dtype}" if dtype else ""))
            elif previous not in (None, key) and self._load(previous) is None:
                self._status("ready", f"{error}; still using {previous[0]}")
            return self.engine

        return self.submit(load_engine, needs_engine=False)

    def _load(self, key: tuple[str, ...]) -> str | None:
        """Load the engine from ``key`` (path, device, ...); on failure the error (status
        ``error``)."""
        path, device = key[:2]
        self._status("loading", f"loading model from {path} on {device}")
        try:
            self.engine = self._loader(*key)
        except Exception as exc:
            log.exception("model load failed: %s", path)
            error = f"model not loaded from {path}: {exc}"
            self._status("error", error)
            return error
        self.loaded = key
        return None

    # -- jobs --------------------------------------------------------------------------------

    def submit(self, fn: JobFn, *, uri: str | None = None, supersede: bool = False,
               is_current: Callable[[], bool] | None = None, delay_s: float = 0.0,
               needs_engine: bool = True) -> Job:
        """Queue ``fn``; with ``supersede``, older superseding jobs for ``uri`` are cancelled."""
        job = Job(fn, uri, supersede, is_current, delay_s, needs_engine)
        with self._lock:
            if supersede and uri is not None:
                for other in self._live:
                    if other.supersede and other.uri == uri:
                        other.cancel()
            self._live.add(job)
        self._queue.put(job)
        return job

    def cancel_document(self, uri: str) -> None:
        """Cancel every queued or running job for ``uri`` (it was edited or closed)."""
        with self._lock:
            for job in self._live:
                if job.uri == uri:
                    job.cancel()

    async def run(self, fn: JobFn, **kwargs: Any) -> Any:
        """Submit ``fn`` and await its result without blocking the event loop."""
        job = self.submit(fn, **kwargs)
        try:
            return await asyncio.wrap_future(job.future)
        except asyncio.CancelledError:
            job.cancel()  # $/cancelRequest: the sampler stops at its next step
            raise

    # -- worker ------------------------------------------------------------------------------

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            if job.future.set_running_or_notify_cancel():
                self._run(job)
            self._forget(job)
            if self._queue.empty() and self.state == "busy":
                self._status("ready", "idle")

    def _run(self, job: Job) -> None:
        try:
            result = self._execute(job)
        except Exception as exc:
            job.outcome = "error"
            log.exception("job failed")
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)

    def _execute(self, job: Job) -> Any:
        if job.wait_debounce() or job.cancelled():
            job.outcome = "cancelled"
            return None
        if job.needs_engine:
            if self.engine is None:
                job.outcome = "unavailable"
                return None
            self._status("busy", "denoising")
        result = job.fn(self.engine, job.cancelled)
        if job.cancelled():
            job.outcome = "cancelled"
            return None
        if job.is_current is not None and not job.is_current():
            job.outcome = "stale"
            return None
        job.outcome = "done"
        return result

    def _forget(self, job: Job) -> None:
        with self._lock:
            self._live.discard(job)

    def _status(self, state: str, message: str) -> None:
        if (state, message) == (self.state, self.message):
            return
        self.state, self.message = state, message
        try:
            self._on_status(state, message)
        except Exception:
            log.exception("status callback failed")
