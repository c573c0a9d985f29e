#!/usr/bin/env python3
"""Peer anomaly detectors for `ai4ict bench anomaly`: river HalfSpaceTrees and pyod IForest,
run on the same stream as ours, in the same run.

Usage: peer_bench.py STREAM.csv
STREAM.csv has the header `entity,time,value` (time in epoch seconds), rows in stream order.

Protocols (each model kept per entity, as ours are, on one core):
- river.HalfSpaceTrees: the pipeline river's documentation recommends,
  `MinMaxScaler() | HalfSpaceTrees(seed=42)` with default trees, height and window; each point
  is scored (`score_one`) and then learnt (`learn_one`), in stream order.
- pyod.IForest: a batch model, given its best case: per entity, fit on the first `train` points
  (20 %, at least 64) and score all the entity's points in one `decision_function` call,
  after one untimed warm-up fit.
State per entity is the size of the pickled model.

Writes one JSON object on stdout:
  {"versions": {"river": str, "pyod": str},
   "results": [{"name": str, "protocol": str, "points": int, "seconds": float,
                "state_bytes_per_entity": float} | {"name": str, "error": str}]}
Set it up with scripts/peer-venv.sh (a venv outside the repository).
"""
import csv
import json
import pickle
import sys
import time


def read_stream(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append((r["entity"], float(r["value"])))
    return rows


def bench_river(rows):
    from river import anomaly, preprocessing

    models = {}
    for e, _ in rows:
        if e not in models:
            models[e] = preprocessing.MinMaxScaler() | anomaly.HalfSpaceTrees(seed=42)
    t = time.perf_counter()
    for e, v in rows:
        m = models[e]
        x = {"value": v}
        m.score_one(x)
        m.learn_one(x)
    secs = time.perf_counter() - t
    size = sum(len(pickle.dumps(m)) for m in models.values()) / max(len(models), 1)
    return {
        "name": "river.HalfSpaceTrees",
        "protocol": "MinMaxScaler | HalfSpaceTrees(seed=42), score_one then learn_one per point",
        "points": len(rows),
        "seconds": secs,
        "state_bytes_per_entity": size,
    }


def bench_pyod(rows):
    import numpy as np
    from pyod.models.iforest import IForest

    per = {}
    for e, v in rows:
        per.setdefault(e, []).append(v)
    series = {e: np.asarray(v, dtype=float).reshape(-1, 1) for e, v in per.items()}
    # Warm-up outside the timed part: first use pays for imports and compilation.
    IForest(random_state=0, n_jobs=1).fit(np.arange(256.0).reshape(-1, 1)).decision_function(
        np.arange(16.0).reshape(-1, 1)
    )
    sizes = []
    t = time.perf_counter()
    for x in series.values():
        train = max(64, len(x) // 5)
        m = IForest(random_state=0, n_jobs=1)
        m.fit(x[:train])
        m.decision_function(x)
        sizes.append(m)
    secs = time.perf_counter() - t
    size = sum(len(pickle.dumps(m)) for m in sizes) / max(len(sizes), 1)
    return {
        "name": "pyod.IForest",
        "protocol": "batch: per entity fit on the first 20 % of points, score all at once",
        "points": len(rows),
        "seconds": secs,
        "state_bytes_per_entity": size,
    }


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    rows = read_stream(sys.argv[1])
    versions = {}
    results = []
    for name, module, fn in [
        ("river.HalfSpaceTrees", "river", bench_river),
        ("pyod.IForest", "pyod", bench_pyod),
    ]:
        try:
            versions[module] = __import__(module).__version__
            results.append(fn(rows))
        except Exception as e:  # report and go on with the other peer
            results.append({"name": name, "error": f"{type(e).__name__}: {e}"})
    json.dump({"versions": versions, "results": results}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
