"""Where stacks train: inline, in local processes (`--jobs N`) or on a Dask cluster (`--scheduler`).

All three are a `concurrent.futures.Executor`, so the runner has one code path.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from lossdb.core.errors import ConfigError, LossdbError

T = TypeVar("T")
SCHEDULER_TIMEOUT_S = 10
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): a signal for this process when its parent dies
PARENT_POLL_S = 1.0


class InlineExecutor(Executor):
    """Runs each task at once in the calling thread: `--jobs 1`, and where Ctrl-C lands directly."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Call fn now and return a Future that is already done."""
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, `timeout`) arrived: handled exactly as Ctrl-C is (stacks marked interrupted,
    workers stopped), then the process exits with 143."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated in the main thread, as Ctrl-C raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(_signum: int, _frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _init_worker(parent: int) -> None:
    """Workers leave Ctrl-C to the parent, which marks their stacks interrupted and stops them, and
    die with it: the kernel sends SIGKILL when the parent dies (Linux), a thread watches elsewhere."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="lossdb-parent-watch").start()


def _watch_parent(parent: int) -> None:
    """End this worker as soon as its parent process is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


class _Pool(ProcessPoolExecutor):
    """A process pool whose workers start with Ctrl-C blocked, so a Ctrl-C while they import
    prints no KeyboardInterrupt traceback from them (a blocked signal mask survives exec)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Submit as usual, with SIGINT blocked while a worker process may be started."""
        if threading.current_thread() is not threading.main_thread():
            return super().submit(fn, *args, **kwargs)
        if not hasattr(signal, "pthread_sigmask"):
            return super().submit(fn, *args, **kwargs)
        # Blocked, not ignored: a Ctrl-C meanwhile stays pending for the parent, never lost; a
        # started worker inherits the mask and ignores SIGINT before unblocking it (_init_worker).
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@contextmanager
def open_executor(jobs: int = 1, scheduler: str | None = None) -> Iterator[tuple[Executor, int]]:
    """(executor, how many stacks it runs at once) for `--jobs` or `--scheduler`; closed on exit."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"--jobs must be a whole number of processes ≥ 1, got {jobs!r}")
    if scheduler is not None:
        if jobs != 1:
            raise ConfigError("pass either --jobs (local processes) or --scheduler (a Dask cluster), not both")
        with _dask(scheduler) as pair:
            yield pair
        return
    if jobs == 1:
        yield InlineExecutor(), 1
        return
    # spawn, not fork: the parent holds database connections and a progress-bar thread.
    pool = _Pool(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                 initargs=(os.getpid(),))
    try:
        yield pool, jobs
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel queued stacks and end the worker processes now, without waiting for their stacks."""
    # ProcessPoolExecutor has no public way to stop running tasks before Python 3.14; shutdown()
    # forgets its processes, so take them first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


@contextmanager
def _dask(address: str) -> Iterator[tuple[Executor, int]]:
    """An executor on the Dask cluster at `address`, and the number of worker threads it has."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("--scheduler needs Dask's distributed package: pip install 'lossdb[distributed]'") from None
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LossdbError(f"cannot reach the Dask scheduler at {address!r} ({reason}): "
                          "check the address, e.g. tcp://HOST:8786, and that the scheduler runs") from None
    try:
        workers = sum(client.nthreads().values())
        if workers < 1:
            raise LossdbError(f"the Dask cluster at {address!r} has no workers: start some with dask worker {address}")
        executor = client.get_executor(pure=False)
        yield executor, workers
    finally:
        client.close()
