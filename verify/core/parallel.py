"""Run independent tasks on all cores, with progress on stderr for long work (a bar, or lines in a log)."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

PROGRESS_LINE_SECONDS = 30.0   # without a terminal: one progress line at most this often


def show_progress(requested: bool | None) -> bool:
    """Progress bars: on when asked, off when told, and by default only on a terminal."""
    if requested is not None:
        return requested
    return sys.stderr.isatty()


class ProgressLines:
    """Progress for a log (stderr is not a terminal): an occasional plain line, never a bar.

    Nothing is printed for work that ends within ``interval`` seconds; after that one line
    at most every ``interval`` seconds: done/total, elapsed time and a rough time left.
    """

    def __init__(self, total: int, label: str, interval: float = PROGRESS_LINE_SECONDS) -> None:
        self.total, self.label, self.interval = total, label, interval
        self.done = 0
        self.start = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.interval and self.done < self.total:
            self.last = now
            elapsed = now - self.start
            left = elapsed * (self.total - self.done) / max(self.done, 1)
            print(f"ntk-verify: {self.label}: {self.done}/{self.total} done, {elapsed:.0f} s elapsed, "
                  f"about {left:.0f} s left", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Nothing to clean up (the bar's interface)."""


def progress_reporter(total: int, label: str, requested: bool | None) -> tqdm | ProgressLines:
    """A tqdm bar on a terminal (or when asked), plain lines in a log by default, nothing when told."""
    if requested is None and not sys.stderr.isatty():
        return ProgressLines(total, label)
    from tqdm import tqdm  # only where a bar may show (its import reads package metadata: ~15 ms)

    return tqdm(total=total, desc=label, unit=label.split()[0], file=sys.stderr,
                disable=not show_progress(requested), leave=False)


POOL_MIN_WORK = 20_000      # tasks x cost below this run in-process (pool start-up costs more)
BATCH_MAX = 256             # tasks sent to a worker at once (one message per task costs ~0.1 ms)
BATCHES_PER_WORKER = 8      # at least this many batches a worker when there are enough tasks (load balance)


def pool_size(n_tasks: int, cost: int = 1, processes: int | None = None) -> int:
    """How many processes :func:`run_tasks` uses for ``n_tasks`` tasks of size ``cost`` (1: in-process)."""
    workers = processes or os.cpu_count() or 1
    if workers == 1 or n_tasks < 2 or cost * n_tasks < POOL_MIN_WORK:
        return 1
    return min(workers, n_tasks)


def batches(n_tasks: int, workers: int, most: int = BATCH_MAX) -> list[range]:
    """Consecutive batches of task positions: at most ``most`` each, about BATCHES_PER_WORKER per worker.

    >>> [len(b) for b in batches(10, 2)]
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    >>> [len(b) for b in batches(100_000, 2)][:2], len(batches(100_000, 2))
    ([256, 256], 391)
    """
    size = max(1, min(most, -(-n_tasks // (BATCHES_PER_WORKER * max(1, workers)))))
    return [range(start, min(start + size, n_tasks)) for start in range(0, n_tasks, size)]


def run_tasks(
    func: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    progress: bool | None = None,
    label: str = "pairs",
    processes: int | None = None,
    cost: int = 1,
    scheduler: Any = None,
    consume: Callable[[int, Any], None] | None = None,
    batch_max: int = BATCH_MAX,
) -> list[Any]:
    """``[func(*t) for t in tasks]``, spread over all cores (or a Dask cluster) when there is enough work.

    ``cost`` is a rough size of one task (steps); small jobs run in-process to
    avoid start-up overhead. Tasks travel in batches (:func:`batches`): one message
    and one result per batch. ``scheduler`` (an address such as ``"tcp://host:8786"``
    or a ``dask.distributed.Client``) sends the batches to that cluster instead
    (:mod:`verify.core.cluster`). Results keep the order of ``tasks`` and do not depend
    on where or in which batch a task ran. With ``consume``, each result is handed to
    ``consume(position, result)`` as it arrives (in any order) and not kept: the return is ``[]``
    and the caller's memory holds one batch's results at a time. ``batch_max`` caps the tasks
    a batch holds (1 for tasks that are themselves batches, such as blocks of pairs).
    """
    if scheduler is not None:
        from verify.core.cluster import run_on_cluster  # dask only when asked for

        return run_on_cluster(func, tasks, scheduler, progress=progress, label=label, consume=consume,
                              batch_max=batch_max)
    workers = pool_size(len(tasks), cost, processes)
    bar = progress_reporter(len(tasks), label, progress)
    try:
        results: list[Any] = [None] * (len(tasks) if consume is None else 0)
        keep = consume or results.__setitem__
        if workers == 1:
            for position, t in enumerate(tasks):
                keep(position, func(*t))
                bar.update()
            return results
        ctx = mp.get_context("fork")
        with ctx.Pool(workers) as pool:
            jobs = [(b.start, func, tasks[b.start:b.stop]) for b in batches(len(tasks), workers, batch_max)]
            for start, outs in pool.imap_unordered(call_batch, jobs):
                hand_over(keep, start, outs)
                bar.update(len(outs))
        return results
    finally:
        bar.close()


def hand_over(keep: Callable[[int, Any], None], start: int, outs: list[Any]) -> None:
    """Pass a batch's results, which begin at task ``start``, to ``keep(position, result)``."""
    for k, out in enumerate(outs):
        keep(start + k, out)


def call_batch(job: tuple[int, Callable[..., Any], Sequence[tuple[Any, ...]]]) -> tuple[int, list[Any]]:
    """Run one batch: ``(start, [func(*t) for t in batch])`` (start: the batch's first position)."""
    start, func, batch = job
    return start, [func(*args) for args in batch]
