#!/usr/bin/env python3
"""Our ROC-AUC and average precision against scikit-learn's roc_auc_score and
average_precision_score on random data with many ties (scores rounded to a few levels),
including tiny and imbalanced sets. Exits 1 on any difference above 1e-12."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "release" / "metrics_check"

subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "metrics_check"], cwd=ROOT, check=True)
rng = np.random.default_rng(20240607)
sets = []
for k in range(200):
    n = int(rng.integers(2, 400))
    pos_share = rng.choice([0.02, 0.1, 0.5, 0.9])
    y = (rng.random(n) < pos_share).astype(int)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    levels = int(rng.choice([2, 3, 5, 20, 1000]))
    s = np.round(rng.normal(size=n) + 0.8 * y, 0) if levels == 2 else np.floor(rng.random(n) * levels + 0.3 * y * levels) / levels
    sets.append((s, y))
lines = "".join(f"{k},{v!r},{l}\n" for k, (s, y) in enumerate(sets) for v, l in zip(s.tolist(), y.tolist()))
out = subprocess.run([str(BIN)], input=lines, capture_output=True, text=True, check=True).stdout
ours = {r["set"]: r for r in map(json.loads, out.splitlines())}
worst = 0.0
for k, (s, y) in enumerate(sets):
    ref_auc = roc_auc_score(y, s)
    ref_ap = average_precision_score(y, s)
    d = max(abs(ours[k]["roc_auc"] - ref_auc), abs(ours[k]["average_precision"] - ref_ap))
    worst = max(worst, d)
    if d > 1e-12:
        print(f"set {k}: ours {ours[k]}, sklearn roc_auc {ref_auc} ap {ref_ap}", file=sys.stderr)
        sys.exit(1)
print(f"metrics vs scikit-learn: {len(sets)} random sets with ties, largest difference {worst:.1e}")
