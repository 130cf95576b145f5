"""Run independent tasks on all cores, with a progress bar on stderr for long work."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tqdm import tqdm


def show_progress(requested: bool | None) -> bool:
    """Progress bars: on when asked, off when told, and by default only on a terminal."""
    if requested is not None:
        return requested
    return sys.stderr.isatty()


def run_tasks(
    func: Callable[..., Any],
    tasks: Sequence[tuple],
    *,
    progress: bool | None = None,
    label: str = "pairs",
    processes: int | None = None,
    cost: int = 1,
) -> list[Any]:
    """``[func(*t) for t in tasks]``, spread over all cores when there is enough work.

    ``cost`` is a rough size of one task (steps); small jobs run in-process to
    avoid start-up overhead. Results keep the order of ``tasks``.
    """
    workers = processes or os.cpu_count() or 1
    bar = tqdm(total=len(tasks), desc=label, unit=label.split()[0], file=sys.stderr,
               disable=not show_progress(progress), leave=False)
    try:
        if workers == 1 or len(tasks) < 2 or cost * len(tasks) < 20_000:
            out = []
            for t in tasks:
                out.append(func(*t))
                bar.update()
            return out
        results: list[Any] = [None] * len(tasks)
        ctx = mp.get_context("fork")
        with ctx.Pool(min(workers, len(tasks))) as pool:
            jobs = [(i, func, t) for i, t in enumerate(tasks)]
            for i, res in pool.imap_unordered(_call, jobs):
                results[i] = res
                bar.update()
        return results
    finally:
        bar.close()


def _call(job: tuple[int, Callable[..., Any], tuple]) -> tuple[int, Any]:
    i, func, args = job
    return i, func(*args)
