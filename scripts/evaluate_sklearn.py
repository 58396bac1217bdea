#!/usr/bin/env python3
"""scikit-learn's IsolationForest and MLPRegressor (autoencoder) on the exact feature matrix
our models saw, for `scripts/evaluate` (src/bin/evaluate.rs runs this script).

Input: a JSON file (--meta) written by the evaluate binary: the path of the standardised
feature matrix (raw little-endian float64, rows x cols), the trained-on rows, the evaluated
rows with their attack flag and class group, and the run's detection settings (our
IsolationForestParams / MlpParams / forest_weight, serde's field names).

For each seed (random_state) both models are fitted with our parameters on the same training
rows, and the evaluated rows are scored: the forest by -score_samples, the autoencoder by its
mean squared reconstruction error, the ensemble as ours combines them (robust z-scores
against the training scores, the autoencoder's on log(error + 1e-12), weighted by
forest_weight; src/detection/ensemble.rs). Figures as src/findings/evaluation.rs defines them,
computed with sklearn.metrics: roc_auc_score, average_precision_score, the TPR of roc_curve's
last point with FPR <= 1 % / 0.1 %, and per-class recall at the 1 % FPR threshold.

Output: one JSON object per line: {"model", "seed", "figures": {...}, "n_iter"}; first, when
the input carries our own ensemble scores, their figures as sklearn.metrics computes them
("ours_ensemble_check"), which the evaluate binary compares with its own.
"""
import argparse
import json
import sys
import warnings

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from sklearn.neural_network import MLPRegressor


def robust_z(scores, train_scores):
    """(s - median) / (IQR / 1.349), the std (then 1) when that scale is degenerate."""
    q1, med, q3 = np.percentile(train_scores, [25, 50, 75])
    scale = (q3 - q1) / 1.349
    if not scale > 1e-12:
        sd = train_scores.std()
        scale = sd if sd > 1e-12 else 1.0
    return (scores - med) / scale


def threshold_at_fpr(scores, y, max_fpr):
    fpr, _, thresholds = roc_curve(y, scores)
    ok = np.nonzero(fpr <= max_fpr)[0]
    return thresholds[ok[-1]]


def figures(scores, y, groups):
    if y.all() or not y.any():
        return {"roc_auc": None, "pr_auc": None, "tpr_at_1pct_fpr": None,
                "tpr_at_01pct_fpr": None, "class_recall": {}}

    def tpr_at(max_fpr):
        fpr, tpr, _ = roc_curve(y, scores)
        return float(tpr[fpr <= max_fpr].max())

    t = threshold_at_fpr(scores, y, 0.01)
    recall = {}
    for g in sorted(set(groups[y])):
        rows = y & (groups == g)
        recall[str(g)] = float((scores[rows] >= t).mean())
    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "pr_auc": float(average_precision_score(y, scores)),
        "tpr_at_1pct_fpr": tpr_at(0.01),
        "tpr_at_01pct_fpr": tpr_at(0.001),
        "class_recall": recall,
    }


def models(params, seed):
    f = params["isolation_forest"]
    max_features = f.get("max_features", 1.0)
    forest = IsolationForest(
        n_estimators=f["n_estimators"],
        max_samples=f["max_samples"],
        contamination="auto",
        max_features=max_features if isinstance(max_features, (int, float)) else 1.0,
        bootstrap=f["bootstrap"],
        random_state=seed,
    )
    m = params["mlp"]
    mlp = MLPRegressor(
        hidden_layer_sizes=tuple(m["hidden_layer_sizes"]),
        activation=m["activation"],
        solver="adam",
        alpha=m["alpha"],
        batch_size=m["batch_size"],
        learning_rate_init=m["learning_rate_init"],
        max_iter=m["max_iter"],
        shuffle=m.get("shuffle", True),
        tol=m["tol"],
        early_stopping=m["early_stopping"],
        validation_fraction=m["validation_fraction"],
        beta_1=m.get("beta_1", 0.9),
        beta_2=m.get("beta_2", 0.999),
        epsilon=m.get("epsilon", 1e-8),
        n_iter_no_change=m["n_iter_no_change"],
        random_state=seed,
    )
    return forest, mlp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--meta", required=True)
    ap.add_argument("--seeds", required=True, help="comma-separated random_state values")
    args = ap.parse_args()
    meta = json.load(open(args.meta))
    rows, cols = meta["rows"], meta["cols"]
    x = np.fromfile(meta["matrix"], dtype="<f8")
    if x.size != rows * cols:
        sys.exit(f"{meta['matrix']}: {x.size} values, expected {rows} x {cols}")
    x = x.reshape(rows, cols)
    train = np.asarray(meta["train_rows"], dtype=np.int64)
    ev = np.asarray(meta["eval_rows"], dtype=np.int64)
    y = np.asarray(meta["attack"], dtype=bool)
    groups = np.asarray(meta["group"], dtype=object)
    params = meta["params"]
    w = float(params["forest_weight"])
    if "ours_ensemble" in meta:
        # Our own scores, to check that both sides compute the figures alike.
        ours = np.asarray(meta["ours_ensemble"], dtype=float)
        print(json.dumps({"model": "ours_ensemble_check", "seed": -1,
                          "figures": figures(ours, y, groups), "n_iter": 0}), flush=True)
    for seed in [int(s) for s in args.seeds.split(",") if s]:
        forest, mlp = models(params, seed)
        forest.fit(x[train])
        if_train = -forest.score_samples(x[train])
        if_eval = -forest.score_samples(x[ev])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlp.fit(x[train], x[train])
        err_train = ((mlp.predict(x[train]) - x[train]) ** 2).mean(axis=1)
        err_eval = ((mlp.predict(x[ev]) - x[ev]) ** 2).mean(axis=1)
        ens = w * robust_z(if_eval, if_train) + (1 - w) * robust_z(
            np.log(err_eval + 1e-12), np.log(err_train + 1e-12)
        )
        for name, scores in [("isolation_forest", if_eval), ("mlp", err_eval), ("ensemble", ens)]:
            out = {"model": name, "seed": seed, "figures": figures(scores, y, groups),
                   "n_iter": int(mlp.n_iter_)}
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
