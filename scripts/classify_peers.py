#!/usr/bin/env python3
"""Peers of `ai4ict bench classify`: LightGBM and scikit-learn's HistGradientBoostingClassifier
trained on the same split as ours, with the same hyperparameters where they have one.

Usage: classify_peers.py TRAIN.csv TEST.csv ROUNDS THREADS
Both files: feature columns then `label` (class index), header on the first line.
Prints JSON: per model its version, training and scoring seconds, predicted class per test row.
"""
import json
import sys
import time

import numpy as np


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return data[:, :-1], data[:, -1].astype(np.int64)


def main():
    train, test, rounds, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    x, y = load(train)
    xt, _ = load(test)
    out = {}

    import lightgbm as lgb
    from sklearn.model_selection import train_test_split

    # Early stopping on a stratified 10% of the training rows, as ours does.
    # (Plain when a class has a single training row: stratifying needs two.)
    counts = np.bincount(y)
    strat = y if counts[counts > 0].min() >= 2 else None
    xa, xv, ya, yv = train_test_split(x, y, test_size=0.1, stratify=strat, random_state=7)
    model = lgb.LGBMClassifier(
        objective="multiclass",
        n_estimators=rounds,
        learning_rate=0.1,
        num_leaves=31,
        max_depth=8,
        min_child_samples=20,
        reg_lambda=1.0,
        max_bin=255,
        n_jobs=threads,
        verbose=-1,
        random_state=7,
    )
    t0 = time.perf_counter()
    model.fit(xa, ya, eval_set=[(xv, yv)], callbacks=[lgb.early_stopping(10, verbose=False)])
    t1 = time.perf_counter()
    pred = model.predict(xt)
    t2 = time.perf_counter()
    out["lightgbm"] = {
        "version": lgb.__version__,
        "train_s": t1 - t0,
        "score_s": t2 - t1,
        "rounds": int(model.best_iteration_ or rounds),
        "pred": [int(p) for p in pred],
    }

    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier

    hgb = HistGradientBoostingClassifier(
        max_iter=rounds,
        learning_rate=0.1,
        max_leaf_nodes=31,
        max_depth=8,
        min_samples_leaf=20,
        l2_regularization=1.0,
        max_bins=255,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=7,
    )
    t0 = time.perf_counter()
    hgb.fit(xa, ya, X_val=xv, y_val=yv)
    t1 = time.perf_counter()
    pred = hgb.predict(xt)
    t2 = time.perf_counter()
    out["sklearn_hgb"] = {
        "version": sklearn.__version__,
        "train_s": t1 - t0,
        "score_s": t2 - t1,
        "rounds": int(hgb.n_iter_),
        "pred": [int(p) for p in pred],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
