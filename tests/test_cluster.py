"""The Dask executor: a cluster run equals the local run, entry by entry (extra ``cluster``).

Skipped without dask[distributed] (pip install "ntk-verify[cluster]"). The cluster is a
``distributed.LocalCluster`` with two worker processes: the tasks cross process
boundaries through Dask's serialization, as on a real cluster.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import without_timing

import verify
from verify import kernels_sweep
from verify.cli import main
from verify.core import cluster
from verify.core.errors import InputError

distributed = pytest.importorskip("distributed", reason="the optional extra 'cluster' (dask[distributed])")

POINTS = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0.28", "0.96"], ["-0.8", "0", "0.6"], ["0.48", "0.6", "0.64"]]


@pytest.fixture(scope="module")
def address():  # type: ignore[no-untyped-def]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as local:
        yield local.scheduler_address


@pytest.mark.parametrize(("route", "depths"), [("certified", [5, 10**4, 10**6]), ("mpmath", [3, 40])])
def test_cluster_run_equals_local_run(address: str, route: str, depths: list[int]) -> None:
    local = kernels_sweep(POINTS, depths, digits=25, route=route, progress=False)
    remote = kernels_sweep(POINTS, depths, digits=25, route=route, progress=False, scheduler=address)
    for name in ("nngp", "ntk"):
        for a, b in zip(local[name], remote[name], strict=True):
            assert a.entries == b.entries and a.gaps == b.gaps            # Ball / mpf equality: every bit
            assert a.working_precision_bits == b.working_precision_bits and a.method == b.method


def test_cli_scheduler_option(address: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["kernel", "--data", "builtin:sphere-5", "--depth", "1e5", "--format", "json", "--quiet"]
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*args, "--scheduler", address]) == 0
    assert json.loads(capsys.readouterr().out) == local


def test_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    with pytest.raises(InputError, match="cannot connect"):
        cluster.connect("tcp://127.0.0.1:9")
    with pytest.raises(InputError, match="expected an address"):
        cluster.connect("")


def test_cluster_arrays_equal_local_arrays(address: str) -> None:
    """``arrays=True`` (blocks of rows, float64 enclosures) on the cluster: the local arrays, bit for bit."""
    local = kernels_sweep(POINTS, [5, 10**4], digits=25, progress=False, arrays=True)
    remote = kernels_sweep(POINTS, [5, 10**4], digits=25, progress=False, arrays=True, scheduler=address)
    for name in ("nngp", "ntk"):
        for a, b in zip(local[name], remote[name], strict=True):
            assert a.enclosures is not None and b.enclosures is not None
            assert all(np.array_equal(a.enclosures[k], b.enclosures[k]) for k in a.enclosures)


def test_solve_and_condition_on_the_cluster_equal_the_local_run(address: str) -> None:
    """The solve and condition paths send their kernel blocks (K(X, X), K(Z, X)) to the cluster: same balls."""
    train, labels, test = POINTS[:4], [["1"], ["-1"], ["0"], ["2"]], POINTS[4:]
    for kernel in ("nngp", "ntk"):
        local = verify.solve(train, labels, test, 10**4, kernel=kernel, digits=25, progress=False)
        remote = verify.solve(train, labels, test, 10**4, kernel=kernel, digits=25, progress=False, scheduler=address)
        assert without_timing(remote.to_json()) == without_timing(local.to_json())
        local_c = verify.condition(POINTS, 10**4, kernel=kernel, digits=25, progress=False)
        remote_c = verify.condition(POINTS, 10**4, kernel=kernel, digits=25, progress=False, scheduler=address)
        assert remote_c.to_json() == local_c.to_json()


@pytest.mark.parametrize("command", ["solve", "condition"])
def test_cli_solve_and_condition_take_the_scheduler(address: str, command: str, tmp_path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.csv").write_text("\n".join(",".join(p) for p in POINTS[:4]) + "\n")
    (tmp_path / "y.csv").write_text("1\n-1\n0\n2\n")
    (tmp_path / "z.csv").write_text(",".join(POINTS[4]) + "\n")
    args = (["solve", "--train", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "y.csv"),
             "--test", str(tmp_path / "z.csv"), "--depth", "1e4"] if command == "solve" else
            ["condition", "--data", str(tmp_path / "x.csv"), "--depths", "10,1e4"])
    args += ["--digits", "20", "--format", "json", "--quiet"]
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*args, "--scheduler", address]) == 0
    assert without_timing(json.loads(capsys.readouterr().out)) == without_timing(local)
