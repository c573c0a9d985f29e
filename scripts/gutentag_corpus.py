#!/usr/bin/env python3
"""A labelled corpus from an independent generator: GutenTAG (TimeEval's synthetic time
series anomaly generator, Wenig et al. VLDB 2022; `pip install timeeval-gutentag`), made to
look like telemetry and written so that `ai4ict detect --labels` scores it.

Not our simulator: its base signals (a daily sine, a daily sine on a weekly one, a random
walk), its noise and its anomaly shapes (GutenTAG's own: platform, mean, variance, extremum,
trend, amplitude, pattern shift, frequency) were written by others, so a detector shaped on
the sandbox meets them unseen. Each series is 10 days at 5 minutes and has one anomaly, in
the middle or at the end (after the two days `auto` takes to choose). Rows are written in time
order, every series' row of a time together, as a collector's export is.

The split is by GutenTAG seed, declared in crates/anomaly/README.md: seed 1 is development
data, seeds 2 and 3 are test data (only ever reported).

Usage: scripts/gutentag_corpus.py GUTENTAG_BIN SEED OUT_DIR
  writes OUT_DIR/series.csv (entity,time,value) and OUT_DIR/labels.csv (entity,start,end,kind)
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

DAY = 288  # 5-minute samples a day
LENGTH = 10 * DAY
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z, epoch ms
STEP = 300_000
FREQ = 100 / DAY  # GutenTAG's frequency: oscillations per 100 points

BASES = {
    "daily": {"kind": "sine", "frequency": FREQ, "amplitude": 40, "offset": 100,
              "variance": 0.05},
    "weekly": {"kind": "sine", "frequency": FREQ, "amplitude": 30, "offset": 100,
               "variance": 0.05,
               "trend": {"kind": "sine", "frequency": 100 / (7 * DAY), "amplitude": 20}},
    "walk": {"kind": "random-walk", "amplitude": 50, "offset": 100, "variance": 0.02,
             "smoothing": 0.01},
}

# (name, anomaly kinds, length): GutenTAG's kinds with values a KPI's faults take.
ANOMALIES = [
    # A platform's value is relative to the base's offset (100), and the base's noise stays.
    ("drop_to_zero", [{"kind": "platform", "value": -100}], 30),
    ("platform", [{"kind": "platform", "value": 0}], 60),
    ("level_down", [{"kind": "mean", "offset": -40}], 200),
    ("level_up", [{"kind": "mean", "offset": 30}], 100),
    # GutenTAG's variance is the noise's standard deviation in the anomaly (the bases' is
    # 2 for the sines, 1 for the walk).
    ("variance", [{"kind": "variance", "variance": 8}], 60),
    ("spike", [{"kind": "extremum", "min": False, "local": False}], 1),
    ("dip", [{"kind": "extremum", "min": True, "local": True, "context_window": 50}], 1),
    ("drift", [{"kind": "trend", "oscillation": {"kind": "polynomial",
                                                  "polynomial": [0, 0.05]}}], 600),
    ("amplitude", [{"kind": "amplitude", "amplitude_factor": 0.3}], DAY),
    ("pattern_shift", [{"kind": "pattern-shift", "shift_by": 72, "transition_window": 72}], DAY),
    ("frequency", [{"kind": "frequency", "frequency_factor": 2.0}], DAY),
]

POSITIONS = ["middle", "end"]

# The incident kind each anomaly is labelled with (`ai4ict detect --labels` knows these); the
# entity's name keeps the finer one.
KIND = {"drop_to_zero": "drop_to_zero", "level_down": "level_shift",
        "level_up": "level_shift", "variance": "variance_burst", "drift": "slow_drift"}


def config():
    series = []
    for b, base in BASES.items():
        for i, (name, kinds, length) in enumerate(ANOMALIES):
            # Shapes that need a period (pattern shift, frequency, amplitude) only on the
            # periodic bases, as GutenTAG defines them.
            if base["kind"] != "sine" and name in ("pattern_shift", "frequency", "amplitude"):
                continue
            series.append({
                "name": f"{b}-{name}",
                "length": LENGTH,
                "channels": 1,
                "base-oscillation": base,
                "anomalies": [{"position": POSITIONS[i % 2], "length": length,
                               "kinds": kinds}],
            })
    return {"timeseries": series}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    gutentag, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    for name in ("series.csv", "labels.csv"):
        if os.path.exists(os.path.join(out, name)):
            sys.exit(f"{os.path.join(out, name)} exists: choose a new folder")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "config.yaml")
        with open(cfg, "w") as fh:
            # GutenTAG reads YAML, and JSON is YAML.
            json.dump(config(), fh)
        subprocess.run([gutentag, "--config-yaml", cfg, "--output-dir", tmp, "--seed",
                        str(seed)], check=True, capture_output=True)
        with open(os.path.join(out, "series.csv"), "w", newline="") as s, \
                open(os.path.join(out, "labels.csv"), "w", newline="") as l:
            sw, lw = csv.writer(s), csv.writer(l)
            sw.writerow(["entity", "time", "value"])
            lw.writerow(["entity", "start", "end", "kind"])
            rows = []
            for ts in config()["timeseries"]:
                name = ts["name"]
                kind = KIND.get(name.split("-", 1)[1], "anomaly")
                with open(os.path.join(tmp, name, "test.csv")) as fh:
                    series = list(csv.DictReader(fh))
                start = None
                for i, r in enumerate(series):
                    t = T0 + i * STEP
                    rows.append((t, name, r["value-0"]))
                    a = r["is_anomaly"] == "1"
                    if a and start is None:
                        start = t
                    if start is not None and (not a or i == len(series) - 1):
                        end = t if a else t - STEP
                        lw.writerow([name, start, end, kind])
                        start = None
            rows.sort()
            sw.writerows([name, t, v] for t, name, v in rows)


if __name__ == "__main__":
    main()
