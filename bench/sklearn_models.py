#!/usr/bin/env python3
"""Times scikit-learn on the same data as `bench run` (written by `bench data PATH`) and prints
one JSON line per case: {"name": ..., "sklearn_ms": ...} (fastest of REPEATS runs).

Usage: python3 bench/sklearn_models.py DATA.f64 [REPEATS]
The cases mirror src/bench.rs: IsolationForest() fit + score_samples on 100,000 x 20, and one
Adam epoch of MLPRegressor(hidden_layer_sizes=(12, 6, 12), batch_size=200) as an autoencoder.
"""

import json
import sys
import time
import warnings

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

ROWS, COLS = 100_000, 20


def best_of(repeats, fn):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    x = np.fromfile(path, dtype="<f8").reshape(ROWS, COLS)

    def iforest():
        f = IsolationForest(random_state=0).fit(x)
        f.score_samples(x)

    def mlp_epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            MLPRegressor(hidden_layer_sizes=(12, 6, 12), batch_size=200, max_iter=1,
                         random_state=0).fit(x, x)

    print(json.dumps({"name": "iforest_fit_score_100k_20", "sklearn_ms": round(best_of(repeats, iforest), 1)}))
    print(json.dumps({"name": "mlp_epoch_100k_20", "sklearn_ms": round(best_of(repeats, mlp_epoch), 1)}))


if __name__ == "__main__":
    main()
