"""Warm simulation workers, started before their jobs are ready.

A cold worker spends most of a second importing numpy and scipy. The export's
pipeline starts its workers as soon as it knows that figures must be drawn (cards' models are
found and their figures are not in the cache), so those imports overlap the rendering still to
do; `models.run` then hands them the jobs. A run whose figures are all cached never starts one, and
so never imports scipy.

Workers are spawned, so nothing of the parent (threads, an open Anki collection) is inherited.
When the caller is done with them (or leaves with an exception, Ctrl-C among them) the workers
are terminated rather than waited for: a worker tearing down numpy and scipy at its
exit costs most of a second, and an interrupt must not wait for a job or an import to end.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterator


class WorkerPool:
    """`count` worker processes, each already starting (running `initializer`) when this returns."""

    def __init__(self, count: int, initializer: Callable[..., None], initargs: tuple[Any, ...] = ()):
        before = set(multiprocessing.active_children())
        self.executor = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=initializer, initargs=initargs)
        for _ in range(count):      # a submission that finds no idle worker spawns one, now
            self.executor.submit(_ready)
        self._processes = [p for p in multiprocessing.active_children() if p not in before]

    def completed(self, function: Callable[..., Any], tasks: list[tuple]) -> Iterator[tuple[tuple, Any]]:
        """(task, its result or the exception it raised) for each task, `function(*task)`, as they finish."""
        futures = {self.executor.submit(function, *task): task for task in tasks}
        for future in as_completed(futures):
            exc = future.exception()
            yield futures[future], exc if exc is not None else future.result()

    def close(self) -> None:
        """End the workers now, without waiting for them to wind down: an idle worker has nothing
        left to give (its results are in), and a busy one is only left behind when the caller gave
        up on its job (an error, Ctrl-C), which must not wait for the job or an import to end."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _ready() -> None:
    """The job each worker is started with: nothing to do beyond its initializer's imports."""
