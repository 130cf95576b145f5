"""kernel --out FILE.npz: float64 arrays whose radii still enclose the certified balls (checked exactly)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify import kernel_sweep
from verify.cli import main
from verify.data.sources import load_dataset

DATA = "builtin:sphere-5"


def _covers(mid: float, rad: float, ball) -> bool:    # [mid - rad, mid + rad] contains the ball
    lo, hi = Fraction(mid) - Fraction(rad), Fraction(mid) + Fraction(rad)
    return lo <= ball.mid_fraction - ball.rad_fraction and ball.mid_fraction + ball.rad_fraction <= hi


def test_npz_arrays_enclose_the_balls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "k.npz"
    assert main(["kernel", "--data", DATA, "--depths", "3,1e6", "--kernel", "both", "--digits", "40",
                 "--out", str(out), "--format", "json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["out"] == str(out) and summary["format"] == "npz"
    with np.load(out, allow_pickle=False) as z:
        assert z["depths"].tolist() == ["3", "1000000"]
        meta = json.loads(str(z["meta"]))
        for name in ("nngp", "ntk"):
            balls = kernel_sweep(load_dataset(DATA), [3, 10**6], kernel=name, digits=40)   # recomputed on its own
            mid, rad = z[f"{name}_mid"], z[f"{name}_rad"]
            gap_mid, gap_rad = z[f"{name}_gap_mid"], z[f"{name}_gap_rad"]
            assert mid.shape == (2, 5, 5) and meta[name][1]["depth"] == 10**6
            for k, res in enumerate(balls):
                for i in range(5):
                    for j in range(5):
                        assert _covers(mid[k, i, j], rad[k, i, j], res.entries[i][j])
                        assert _covers(gap_mid[k, i, j], gap_rad[k, i, j], res.gaps[i][j])
        off = ~np.eye(5, dtype=bool)          # NNGP gaps at 1e6 are ~ 9 pi^2/(2 L^2) = 4.4e-11: kept, not rounded to 0
        assert np.all((z["nngp_gap_mid"][1][off] > 1e-11) & (z["nngp_gap_mid"][1][off] < 1e-10))


def test_existing_file_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine.npz"
    out.write_bytes(b"user data")
    assert main(["kernel", "--data", DATA, "--depth", "3", "--out", str(out)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"user data"


def test_best_effort_routes_have_no_radius(tmp_path: Path) -> None:
    out = tmp_path / "f.npz"
    assert main(["kernel", "--data", DATA, "--depth", "3", "--route", "float64", "--out", str(out), "--quiet"]) == 0
    with np.load(out, allow_pickle=False) as z:
        assert np.isnan(z["ntk_rad"]).all() and "best effort" in json.loads(str(z["meta"]))["ntk"][0]["guarantee"]


def test_json_out_and_bad_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "k.json"
    assert main(["kernel", "--data", DATA, "--depth", "3", "--out", str(out), "--quiet"]) == 0
    assert json.loads(out.read_text())["matrix"][0][1]["mid"]
    assert main(["kernel", "--data", DATA, "--depth", "3", "--out", str(tmp_path / "k.csv")]) == 2
    assert not (tmp_path / "k.csv").exists()
