#!/usr/bin/env python3
"""Each detector on each labelled corpus, on the test side of the split declared in
crates/anomaly/README.md only: event precision, recall and F1 with the default alert policy
(score >= 0.9 for 2 intervals or >= 0.97 once, suppress 1h), pooled over the corpus (alerts and incidents
added up, then the ratios).

Corpora (test side):
- sandbox: `ai4ict bench sandbox --detector all --seed S` for the test seeds 101..105;
- NAB: `ai4ict detect --labels combined_windows.json` on the NAB files at odd positions
  (1st, 3rd, ...) of the alphabetical list of `category/file.csv`; the even ones are
  development data;
- GutenTAG (when folders are given): `ai4ict detect --labels labels.csv` on each folder that
  scripts/gutentag_corpus.py wrote for the test seeds (2 and 3).

Usage: scripts/corpus_table.py [path/to/ai4ict] [NAB folder] [GutenTAG folder ...]
(defaults: target/release/ai4ict, ../shared/data/nab, no GutenTAG). Prints a Markdown table.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/ai4ict"
NAB = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/nab"
GUTENTAG = sys.argv[3:]
TEST_SEEDS = [101, 102, 103, 104, 105]


def detectors():
    out = subprocess.run([BIN, "detect", "--help"], capture_output=True, text=True, check=True)
    m = re.search(r"\[possible values: ([^\]]+)\]", out.stdout)
    if not m:
        sys.exit("could not read the detectors from `detect --help`")
    return [d.strip() for d in m.group(1).split(",")]


def nab_test_files():
    data = os.path.join(NAB, "data")
    files = sorted(
        os.path.join(c, f)
        for c in os.listdir(data)
        if os.path.isdir(os.path.join(data, c))
        for f in os.listdir(os.path.join(data, c))
        if f.endswith(".csv")
    )
    return [os.path.join(data, f) for i, f in enumerate(files) if i % 2 == 0]


def detect(det, pairs, out):
    """`ai4ict detect` on each (input, labels) pair, the evaluations added up."""
    tot = dict(true=0, false=0, detected=0, incidents=0)
    for f, labels in pairs:
        subprocess.run(
            [BIN, "detect", "--input", f, "--labels", labels, "--detector", det,
             "--out", out, "--quiet", "--plots", "0"],
            capture_output=True, check=True)
        with open(os.path.join(out, "evaluation.json")) as fh:
            m = json.load(fh)["metrics"]
        tot["true"] += m["true_alerts"]
        tot["false"] += m["false_alerts"]
        tot["detected"] += m["detected"]
        tot["incidents"] += m["incidents"]
    return tot


LINE = re.compile(
    r"^(\w+): precision [\d.]+, recall [\d.]+, F1 [\d.]+; \d+ alerts \((\d+) true, (\d+) false\); "
    r"(\d+) of (\d+) actionable incidents detected")


def sandbox():
    tot = {}
    for seed in TEST_SEEDS:
        out = subprocess.run([BIN, "bench", "sandbox", "--detector", "all", "--seed", str(seed)],
                             capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            m = LINE.match(line)
            if m:
                t = tot.setdefault(m.group(1), dict(true=0, false=0, detected=0, incidents=0))
                t["true"] += int(m.group(2))
                t["false"] += int(m.group(3))
                t["detected"] += int(m.group(4))
                t["incidents"] += int(m.group(5))
    return tot


def prf(t):
    alerts = t["true"] + t["false"]
    p = t["true"] / alerts if alerts else 0.0
    r = t["detected"] / t["incidents"] if t["incidents"] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"{p:.3f} / {r:.3f} / **{f:.3f}**"


def main():
    dets = detectors()
    labels = os.path.join(NAB, "labels", "combined_windows.json")
    files = [(f, labels) for f in nab_test_files()]
    gutentag = [(os.path.join(g, "series.csv"), os.path.join(g, "labels.csv")) for g in GUTENTAG]
    sb = sandbox()
    head = (f"| detector | sandbox, test seeds {TEST_SEEDS[0]}–{TEST_SEEDS[-1]}: P / R / F1 "
            f"| NAB, {len(files)} test files (odd positions): P / R / F1 |")
    if gutentag:
        head += f" GutenTAG, {len(gutentag)} test seeds: P / R / F1 |"
    print(head)
    print("|---|---|---|" + ("---|" if gutentag else ""))
    with tempfile.TemporaryDirectory() as out:
        for d in dets:
            row = f"| `{d}` | {prf(sb[d]) if d in sb else '-'} | {prf(detect(d, files, out))} |"
            if gutentag:
                row += f" {prf(detect(d, gutentag, out))} |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
