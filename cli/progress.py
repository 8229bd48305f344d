"""Progress of a long command on a terminal (a spinner, the current step and the elapsed time, on
stderr); nothing at all when stderr is piped or redirected, so scripts and logs stay clean."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Steps:
    """Names the step a command is on; `step` is a no-op when nothing is shown."""

    def __init__(self, progress: Progress | None = None) -> None:
        self._progress = progress
        self._task = progress.add_task("", total=None) if progress is not None else None

    def step(self, text: str) -> None:
        """Show `text` as what the command is doing now."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=text)


@contextmanager
def steps(first: str) -> Iterator[Steps]:
    """A transient spinner on a terminal's stderr, starting at step `first`."""
    err = Console(stderr=True)
    if not err.is_terminal:
        yield Steps()
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        shown = Steps(progress)
        shown.step(first)
        yield shown
