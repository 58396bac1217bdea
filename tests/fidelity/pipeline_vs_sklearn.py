#!/usr/bin/env python3
"""Fidelity of the whole pipeline against scikit-learn on the generator's scenarios.

For each seed, `detect` writes the standardised features the models saw (plus labels, the
training flag and our scores). scikit-learn's IsolationForest and MLPRegressor are then fitted
with the same parameters (read from the run's report) on the same training rows, and both
sets of scores are ranked against the ground truth on the same evaluated rows.

Checks: on the default scenario (seed 42) each model's ROC-AUC is within 0.02 of
scikit-learn's; over all seeds the mean gap is within 0.02; the report's own metrics equal
sklearn's roc_auc_score / average_precision_score computed on our scores (1e-9); the default
scenario's ensemble ROC-AUC is at least 0.9. Prints a table; exits 1 on failure.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neural_network import MLPRegressor

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
DETECT = TARGET / "release" / "detect"
SEEDS = [42, 7, 1234]
TOLERANCE = 0.02


def robust_z(scores, train):
    t = scores[train]
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    scale = (q3 - q1) / 1.349
    if not scale > 1e-12:
        scale = t.std() if t.std() > 1e-12 else 1.0
    return (scores - med) / scale


def sklearn_scores(x, train, cfg):
    f = cfg["isolation_forest"]
    max_samples = f["max_samples"]
    forest = IsolationForest(
        n_estimators=f["n_estimators"],
        max_samples=max_samples,
        contamination="auto",
        max_features=f["max_features"] if isinstance(f["max_features"], (int, float)) else 1.0,
        bootstrap=f["bootstrap"],
        random_state=0,
    ).fit(x[train])
    if_scores = -forest.score_samples(x)
    m = cfg["mlp"]
    mlp = MLPRegressor(
        hidden_layer_sizes=tuple(m["hidden_layer_sizes"]),
        activation=m["activation"],
        solver="adam",
        alpha=m["alpha"],
        batch_size=m["batch_size"] if m["batch_size"] != "auto" else "auto",
        learning_rate_init=m["learning_rate_init"],
        max_iter=m["max_iter"],
        tol=m["tol"],
        early_stopping=m["early_stopping"],
        validation_fraction=m["validation_fraction"],
        n_iter_no_change=m["n_iter_no_change"],
        random_state=0,
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(x[train], x[train])
    mlp_scores = ((mlp.predict(x) - x) ** 2).mean(axis=1)
    w = cfg["forest_weight"]
    ens = w * robust_z(if_scores, train) + (1 - w) * robust_z(np.log(mlp_scores + 1e-12), train)
    return {"isolation_forest": if_scores, "mlp": mlp_scores, "ensemble": ens}, mlp.n_iter_


def main():
    if not DETECT.exists():
        sys.exit(f"{DETECT} missing: run `cargo build --release --bin detect` first")
    failures = []
    gaps = {"isolation_forest": [], "mlp": [], "ensemble": []}
    print(f"{'seed':>5} {'model':<17} {'ours AUC':>9} {'sklearn AUC':>12} {'gap':>7} {'ours AP':>8} {'sklearn AP':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            csv = pathlib.Path(tmp) / f"f{seed}.csv"
            rep = pathlib.Path(tmp) / f"r{seed}.json"
            subprocess.run(
                [DETECT, "--query", f"seed={seed}", "--features-csv", csv, "--out", rep],
                check=True,
                stderr=subprocess.DEVNULL,
            )
            report = json.loads(rep.read_text())
            cfg = report["config"]["detection"]
            data = np.genfromtxt(csv, delimiter=",", names=True)
            names = data.dtype.names
            n_feat = len(report["data"]["features"])
            x = np.column_stack([data[n] for n in names[:n_feat]])
            y = data["label"] > 0
            train = data["training"] > 0
            evaluated = ~train if cfg["training"] == "initial_window" else np.ones_like(train)
            ours = {"isolation_forest": data["if_score"], "mlp": data["mlp_score"], "ensemble": data["ensemble"]}
            theirs, sk_iter = sklearn_scores(x, train, cfg)
            for model in gaps:
                a_ours = roc_auc_score(y[evaluated], ours[model][evaluated])
                a_sk = roc_auc_score(y[evaluated], theirs[model][evaluated])
                ap_ours = average_precision_score(y[evaluated], ours[model][evaluated])
                ap_sk = average_precision_score(y[evaluated], theirs[model][evaluated])
                gap = a_ours - a_sk
                gaps[model].append(gap)
                print(f"{seed:>5} {model:<17} {a_ours:>9.4f} {a_sk:>12.4f} {gap:>+7.4f} {ap_ours:>8.4f} {ap_sk:>11.4f}")
                # Our report's metrics must agree with sklearn's on our own scores. The CSV
                # carries scores rounded to 10 digits, so allow a hair for near-ties.
                rm = report["metrics"][model]
                if abs(rm["roc_auc"] - a_ours) > 1e-4 or abs(rm["pr_auc"] - ap_ours) > 1e-3:
                    failures.append(f"seed {seed} {model}: report metrics {rm['roc_auc']:.6f}/{rm['pr_auc']:.6f} != sklearn on our scores {a_ours:.6f}/{ap_ours:.6f}")
                if seed == 42 and model != "ensemble" and abs(gap) > TOLERANCE:
                    failures.append(f"default scenario {model}: |{gap:+.4f}| > {TOLERANCE}")
                if seed == 42 and model == "ensemble" and a_ours < 0.9:
                    failures.append(f"default scenario ensemble ROC-AUC {a_ours:.4f} < 0.9")
            print(f"{'':>5} {'(epochs)':<17} {report['mlp_training']['n_iter']:>9} {sk_iter:>12}")
    for model, g in gaps.items():
        mean = float(np.mean(g))
        print(f"mean gap {model:<17} {mean:+.4f}")
        if model != "ensemble" and abs(mean) > TOLERANCE:
            failures.append(f"mean {model} gap {mean:+.4f} over seeds {SEEDS} > {TOLERANCE}")
    if failures:
        print("FIDELITY FAILURES:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("pipeline fidelity: ok")


if __name__ == "__main__":
    main()
