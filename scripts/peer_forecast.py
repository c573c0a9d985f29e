#!/usr/bin/env python3
"""Peer forecasters for `ai4ict bench forecast`: statsforecast AutoETS and MSTL, run on the
same rolling-origin windows as ours, in the same run.

Reads a JSON job on stdin:
  {"level": 0.8, "series": [{"name": str, "values": [float], "season": int,
                             "horizon": int, "origins": [int]}]}
Writes JSON on stdout:
  {"version": str, "results": [{"name": str, "method": str, "seconds": float,
    "windows": [{"mean": [...], "lower": [...], "upper": [...]} | {"error": str}]}]}
`seconds` is the wall time of fit + predict over all windows, after one warm-up fit (numba
compiles on first use; that compile time is left out).
Set it up with scripts/peer-venv-forecast.sh (a venv outside the repository).
"""
import json
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def models(season):
    from statsforecast.models import AutoETS, MSTL

    out = [("statsforecast.AutoETS", lambda: AutoETS(season_length=season))]
    out.append(
        (
            "statsforecast.MSTL",
            lambda: MSTL(season_length=[season, 7 * season], trend_forecaster=AutoETS(model="ZZN")),
        )
    )
    return out


def main():
    import statsforecast

    job = json.load(sys.stdin)
    level = job["level"]
    pct = int(round(level * 100))
    # Warm-up: compile the numba kernels once, outside the timed part.
    warm = np.sin(np.arange(24 * 21) * 2 * np.pi / 24) + 5.0
    for _, make in models(24):
        make().fit(warm).predict(h=24, level=[pct])
    results = []
    for s in job["series"]:
        y = np.asarray(s["values"], dtype=float)
        season, h = s["season"], s["horizon"]
        for name, make in models(season):
            if name.endswith("MSTL") and min(s["origins"]) < 2 * 7 * season:
                continue
            windows, spent = [], 0.0
            for origin in s["origins"]:
                t0 = time.perf_counter()
                try:
                    f = make().fit(y[:origin]).predict(h=h, level=[pct])
                    spent += time.perf_counter() - t0
                    windows.append(
                        {
                            "mean": [float(v) for v in f["mean"]],
                            "lower": [float(v) for v in f[f"lo-{pct}"]],
                            "upper": [float(v) for v in f[f"hi-{pct}"]],
                        }
                    )
                except Exception as e:  # noqa: BLE001 - report and go on
                    spent += time.perf_counter() - t0
                    windows.append({"error": f"{type(e).__name__}: {e}"})
            results.append({"name": s["name"], "method": name, "seconds": spent, "windows": windows})
    json.dump({"version": statsforecast.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
