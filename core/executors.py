"""Where stacks train: inline, in local processes (`--jobs N`) or on a Dask cluster (`--scheduler`).

All three are a `concurrent.futures.Executor`, so the runner has one code path.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from core.errors import ConfigError, LossdbError

T = TypeVar("T")
SCHEDULER_TIMEOUT_S = 10


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


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which marks their stacks interrupted and stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_ignore_sigint)
    try:
        yield pool, jobs
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel queued stacks and end the worker processes now, without waiting for their stacks."""
    pool.shutdown(wait=False, cancel_futures=True)
    # ProcessPoolExecutor has no public way to stop running tasks before Python 3.14.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    for process in list((getattr(pool, "_processes", None) or {}).values()):
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
