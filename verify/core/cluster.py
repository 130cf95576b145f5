"""Run the batches of :func:`verify.core.parallel.run_tasks` on a Dask cluster (extra ``cluster``).

The default stays local processes on all cores; this module is imported only when a
scheduler is named. A batch is the same ``(start, func, tasks)`` message the local pool
gets, sent with Dask's pickle serialization: arguments and results cross the network
exactly (a :class:`~verify.core.balls.Ball` is four Python integers), and each task runs
the same code with the same inputs, so the results equal the local run's, entry by entry.

The workers need ntk-verify installed (the same version) and import it themselves. Start
them with one thread each (``dask worker ADDRESS --nthreads 1 --nworkers N``): the
arithmetic holds Python's GIL, so threads inside one worker process do not add speed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from verify.core.errors import InputError
from verify.core.parallel import BATCH_MAX, batches, call_batch, hand_over, progress_reporter

CONNECT_SECONDS = 30


def connect(scheduler: Any) -> tuple[Any, bool]:
    """(client, owned): a ``dask.distributed.Client`` for an address, or the client given.

    ``owned`` says whether this module opened the connection (and so closes it).
    Raises InputError (one line) without dask or when the scheduler cannot be reached.
    """
    try:
        distributed = importlib.import_module("dask.distributed")     # optional: typed as Any here
    except ImportError:
        raise InputError("--scheduler needs Dask: pip install 'ntk-verify[cluster]' "
                         "(the optional extra with dask[distributed])") from None
    if hasattr(scheduler, "submit") and hasattr(scheduler, "nthreads"):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InputError(f"--scheduler: expected an address such as tcp://HOST:8786, got {scheduler!r}")
    try:
        return distributed.Client(scheduler.strip(), timeout=CONNECT_SECONDS, set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None


def run_on_cluster(func: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], scheduler: Any, *,
                   progress: bool | None = None, label: str = "pairs",
                   consume: Callable[[int, Any], None] | None = None, batch_max: int = BATCH_MAX) -> list[Any]:
    """``[func(*t) for t in tasks]`` in batches on the cluster, results in the order of ``tasks``
    (or handed to ``consume`` as they arrive, as :func:`~verify.core.parallel.run_tasks` does)."""
    client, owned = connect(scheduler)
    as_completed = importlib.import_module("dask.distributed").as_completed
    bar = progress_reporter(len(tasks), label, progress)
    futures: list[Any] = []
    try:
        if not tasks:
            return []
        workers = max(1, sum(client.nthreads().values()))
        futures = [client.submit(call_batch, (b.start, func, list(tasks[b.start:b.stop])), pure=False)
                   for b in batches(len(tasks), workers, batch_max)]
        results: list[Any] = [None] * (len(tasks) if consume is None else 0)
        keep = consume or results.__setitem__
        for future in as_completed(futures, loop=client.loop):
            start, outs = future.result()          # a worker's exception is raised here, as locally
            hand_over(keep, start, outs)
            bar.update(len(outs))
        return results
    finally:
        bar.close()
        if futures:
            client.cancel(futures)
        if owned:
            client.close()
