#!/usr/bin/env python3
"""Parity of our Isolation Forest and MLP autoencoder with scikit-learn's.

Builds the native `model_check` binary, then for several seeds generates Gaussian blobs with
planted outliers (numpy) and compares, model against model:

* IsolationForest: ROC-AUC ours vs sklearn (mean |diff| <= 0.01); offset_/decision/predict
  semantics for contamination "auto" (offset -0.5) and 0.1 (offset = 10th percentile of the
  training scores, share flagged on the training data = 0.1 within 1/n).
* IsolationForest parameter variants (max_features as share and count, bootstrap, integer
  max_samples, all combined; 5 seeds each, mean AUC diff <= 0.01); on the generator's scenarios
  (`detect --features-csv`, 5 seeds, 5000-row samples); and on NSL-KDD (KDDTest+ samples,
  numeric columns) from SHARED_DATA or <repo>/../shared/data, skipped with a printed reason
  when absent.
* MLPRegressor, exact: started from the same initial weights with shuffle=False (nothing
  random left), the loss curve, stopping epoch and predictions must equal sklearn's up to
  summation order (relative 1e-9), for relu, tanh, logistic and identity, and (relu, tanh)
  as a regressor on 3 targets that are not its inputs.
* MLPRegressor autoencoder (adam), activation relu and tanh, with and without early
  stopping, each side with its own random init: ROC-AUC of the reconstruction error (mean |diff| <= 0.02), first-epoch and final
  training loss (mean relative diff <= 25%), n_iter of the same order (ratio of means within
  [1/3, 3]).

The two implementations draw different random numbers, so results are compared in
distribution (means over seeds), not bit for bit. Prints a table; exits non-zero on failure.

Usage: python3 tests/fidelity/models_vs_sklearn.py [--seeds 10] [--binary PATH] [--no-build]
       [--only iforest|mlp]   (honours CARGO_TARGET_DIR)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[2]

IF_AUC_TOL = 0.01
MLP_AUC_TOL = 0.02
LOSS_REL_TOL = 0.25
N_ITER_RATIO = 3.0

MLP_HIDDEN = [16, 4, 16]
MLP_MAX_ITER = 200
EXACT_REL_TOL = 1e-9


class FixedInitMLP(MLPRegressor):
    """MLPRegressor whose `_init_coef` hands out given weights, layer by layer, instead of
    drawing them: everything else (`_initialize`, the epoch loop, stopping) is sklearn's."""

    def _init_coef(self, fan_in, fan_out, dtype):
        coef, intercept = self.fixed_init.pop(0)
        assert coef.shape == (fan_in, fan_out)
        return coef.astype(dtype), intercept.astype(dtype)


def glorot(units: list[int], activation: str, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """sklearn's `_init_coef` draws, reproduced with its RandomState."""
    rng = np.random.RandomState(seed)
    factor = 2.0 if activation == "logistic" else 6.0
    layers = []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        layers.append((rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)))
    return layers


def build(binary: Path | None, no_build: bool) -> Path:
    if binary is not None:
        return binary
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not no_build:
        subprocess.run(
            ["cargo", "build", "--release", "--bin", "model_check", "--bin", "detect"],
            cwd=ROOT, check=True,
        )
    path = target_dir / "release" / "model_check"
    if not path.exists():
        sys.exit(f"model_check not found at {path}")
    return path


def make_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 8-D plus 5% outliers: half scattered uniformly in a wide box,
    half just outside a blob (harder), so ROC-AUC is high but not saturated."""
    rng = np.random.default_rng(seed)
    d, n_in, n_out = 8, 1900, 100
    centers = rng.uniform(-4, 4, size=(3, d))
    scales = rng.uniform(0.6, 1.4, size=3)
    which = rng.integers(0, 3, size=n_in)
    inliers = centers[which] + rng.normal(size=(n_in, d)) * scales[which, None]
    far = rng.uniform(-9, 9, size=(n_out // 2, d))
    near_c = rng.integers(0, 3, size=n_out - n_out // 2)
    direction = rng.normal(size=(len(near_c), d))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    near = centers[near_c] + direction * scales[near_c, None] * rng.uniform(4.5, 6.0, (len(near_c), 1))
    x = np.vstack([inliers, far, near])
    y = np.r_[np.zeros(n_in), np.ones(n_out)]
    order = rng.permutation(len(x))
    return x[order], y[order]


def run_ours(binary: Path, model: str, train: np.ndarray, params: dict, tmp: Path,
             init: list[tuple[np.ndarray, np.ndarray]] | None = None,
             target: np.ndarray | None = None) -> dict:
    train_path = tmp / "train.csv"
    np.savetxt(train_path, train, delimiter=",", fmt="%.17g")
    cmd = [str(binary), "--model", model, "--train", str(train_path), "--score", str(train_path),
           "--params", json.dumps(params)]
    if target is not None:
        target_path = tmp / "target.csv"
        np.savetxt(target_path, target, delimiter=",", fmt="%.17g")
        cmd += ["--target", str(target_path)]
    if init is not None:
        init_path = tmp / "init.json"
        init_path.write_text(json.dumps({
            "coefs": [c.tolist() for c, _ in init],
            "intercepts": [b.tolist() for _, b in init],
        }))
        cmd += ["--init", str(init_path)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.failures.append(what)
        return ok


def mark(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def iforest_checks(binary: Path, seeds: list[int], tmp: Path, report: Report) -> None:
    print("\n== Isolation Forest (n_estimators=100, max_samples=auto) ==")
    print(f"{'seed':>4} {'AUC ours':>9} {'AUC sk':>9} {'diff':>8} {'sk2-sk':>8}   {'offset0.1 ours':>14} {'sk':>9}"
          f"   {'flag0.1 ours':>12} {'sk':>7}   {'flag auto ours':>14} {'sk':>7}")
    diffs, sk_diffs = [], []
    for seed in seeds:
        x, y = make_data(seed)
        n = len(x)
        sk_auto = IsolationForest(random_state=seed).fit(x)
        sk_auc = roc_auc_score(y, -sk_auto.score_samples(x))
        # sklearn against itself with another seed: the noise floor for the AUC difference.
        sk2 = IsolationForest(random_state=seed + 1000).fit(x)
        sk_diffs.append(roc_auc_score(y, -sk2.score_samples(x)) - sk_auc)
        ours_auto = run_ours(binary, "iforest", x, {"random_state": seed}, tmp)
        scores = np.array(ours_auto["scores"])
        our_auc = roc_auc_score(y, -scores)
        diffs.append(our_auc - sk_auc)

        # contamination = auto: offset -0.5, decision = score + 0.5, predict = sign rule.
        dec = np.array(ours_auto["decision"])
        pred = np.array(ours_auto["predict"])
        report.check(ours_auto["offset"] == -0.5, f"iforest seed {seed}: auto offset != -0.5")
        report.check(np.array_equal(dec, scores - (-0.5)), f"iforest seed {seed}: auto decision")
        report.check(np.array_equal(pred, np.where(dec < 0, -1, 1)), f"iforest seed {seed}: auto predict")
        flag_auto = np.mean(pred == -1)
        flag_auto_sk = np.mean(sk_auto.predict(x) == -1)

        # contamination = 0.1: offset is numpy's 10th percentile of the training scores.
        sk_c = IsolationForest(random_state=seed, contamination=0.1).fit(x)
        flag_sk = np.mean(sk_c.predict(x) == -1)
        ours_c = run_ours(binary, "iforest", x, {"random_state": seed, "contamination": 0.1}, tmp)
        sc = np.array(ours_c["scores"])
        off = ours_c["offset"]
        report.check(abs(off - np.percentile(sc, 10.0)) <= 1e-15,
                     f"iforest seed {seed}: offset != np.percentile(scores, 10)")
        dc = np.array(ours_c["decision"])
        pc = np.array(ours_c["predict"])
        report.check(np.array_equal(dc, sc - off), f"iforest seed {seed}: decision != score - offset")
        report.check(np.array_equal(pc, np.where(dc < 0, -1, 1)), f"iforest seed {seed}: predict rule")
        flag = np.mean(pc == -1)
        report.check(abs(flag - 0.1) <= 1.0 / n + 1e-12, f"iforest seed {seed}: flagged {flag} != 0.1")
        report.check(abs(flag_sk - 0.1) <= 1.0 / n + 1e-12, f"sklearn seed {seed}: flagged {flag_sk}")
        print(f"{seed:>4} {our_auc:9.4f} {sk_auc:9.4f} {our_auc - sk_auc:+8.4f} {sk_diffs[-1]:+8.4f}   {off:14.4f} {sk_c.offset_:9.4f}"
              f"   {flag:12.4f} {flag_sk:7.4f}   {flag_auto:14.4f} {flag_auto_sk:7.4f}")
    mean_diff = float(np.mean(diffs))
    ok = report.check(abs(mean_diff) <= IF_AUC_TOL, f"iforest mean AUC diff {mean_diff:+.4f}")
    print(f"mean AUC diff {mean_diff:+.4f} (tol {IF_AUC_TOL}; sklearn vs itself, other seed: "
          f"{np.mean(sk_diffs):+.4f})  {mark(ok)}")


def shared_data_dir() -> Path:
    """SHARED_DATA, or `<repo>/../shared/data` (the checkout sits next to the shared data)."""
    return Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))


def load_nsl_kdd(seed: int, rows: int = 4000) -> tuple[np.ndarray, np.ndarray] | None:
    """A seeded sample of NSL-KDD's KDDTest+: the 38 numeric columns (protocol, service and
    flag dropped), label 1 for any attack. None when the file is absent."""
    path = shared_data_dir() / "nsl_kdd" / "KDDTest+.txt"
    if not path.exists():
        return None
    cache = getattr(load_nsl_kdd, "cache", None)
    if cache is None:
        raw = np.genfromtxt(path, delimiter=",", dtype=str)
        numeric = np.delete(raw[:, :-2], [1, 2, 3], axis=1).astype(float)
        labels = (raw[:, -2] != "normal").astype(int)
        cache = load_nsl_kdd.cache = (numeric, labels)
    numeric, labels = cache
    idx = np.random.RandomState(seed).choice(len(numeric), rows, replace=False)
    return numeric[idx], labels[idx]


def iforest_nsl_kdd_checks(binary: Path, seeds: list[int], tmp: Path, report: Report) -> None:
    print("\n== Isolation Forest on NSL-KDD (KDDTest+ samples of 4000 rows, numeric columns) ==")
    if load_nsl_kdd(0) is None:
        print(f"skipped: {shared_data_dir() / 'nsl_kdd' / 'KDDTest+.txt'} not found (set SHARED_DATA)")
        return
    print(f"{'seed':>4} {'AUC ours':>9} {'AUC sk':>9} {'diff':>8} {'sk2-sk':>8}")
    diffs, sk_diffs = [], []
    for seed in seeds:
        x, y = load_nsl_kdd(seed)
        sk_auc = roc_auc_score(y, -IsolationForest(random_state=seed).fit(x).score_samples(x))
        # sklearn against itself with another seed: the noise floor (large on this data).
        sk2 = roc_auc_score(y, -IsolationForest(random_state=seed + 1000).fit(x).score_samples(x))
        sk_diffs.append(sk2 - sk_auc)
        ours = run_ours(binary, "iforest", x, {"random_state": seed}, tmp)
        our_auc = roc_auc_score(y, -np.array(ours["scores"]))
        diffs.append(our_auc - sk_auc)
        print(f"{seed:>4} {our_auc:9.4f} {sk_auc:9.4f} {our_auc - sk_auc:+8.4f} {sk_diffs[-1]:+8.4f}")
    mean_diff = float(np.mean(diffs))
    ok = report.check(abs(mean_diff) <= IF_AUC_TOL, f"iforest NSL-KDD mean AUC diff {mean_diff:+.4f}")
    print(f"mean AUC diff {mean_diff:+.4f} (tol {IF_AUC_TOL}; sklearn vs itself, other seed: "
          f"{np.mean(sk_diffs):+.4f})  {mark(ok)}")


IF_VARIANTS = [
    {"max_features": 0.5},
    {"max_features": 3},
    {"bootstrap": True},
    {"max_samples": 64, "n_estimators": 50},
    {"max_features": 0.5, "bootstrap": True, "max_samples": 0.3},
]


def iforest_param_checks(binary: Path, seeds: list[int], tmp: Path, report: Report) -> None:
    print("\n== Isolation Forest parameter variants (mean over seeds) ==")
    print(f"{'params':<60} {'AUC ours':>9} {'AUC sk':>9} {'diff':>8}  check")
    for params in IF_VARIANTS:
        rows = []
        for seed in seeds:
            x, y = make_data(seed)
            sk = IsolationForest(random_state=seed, **params).fit(x)
            sk_auc = roc_auc_score(y, -sk.score_samples(x))
            ours = run_ours(binary, "iforest", x, {"random_state": seed, **params}, tmp)
            rows.append((roc_auc_score(y, -np.array(ours["scores"])), sk_auc))
        o, s_ = np.mean(rows, axis=0)
        ok = report.check(abs(o - s_) <= IF_AUC_TOL, f"iforest {params}: mean AUC diff {o - s_:+.4f}")
        print(f"{json.dumps(params):<60} {o:9.4f} {s_:9.4f} {o - s_:+8.4f}  {mark(ok)}")


def iforest_generator_checks(binary: Path, seeds: list[int], tmp: Path, report: Report) -> None:
    """The generator's scenarios: `detect` writes the standardised features of a seeded demo
    run; both forests are fitted on a seeded 5000-row sample of them and ranked against the
    ground-truth labels."""
    print("\n== Isolation Forest on generator scenarios (detect --features-csv, 5000-row samples) ==")
    detect = binary.parent / "detect"
    if not detect.exists():
        print(f"skipped: {detect} not found (build with `cargo build --release --bin detect`)")
        return
    print(f"{'seed':>4} {'AUC ours':>9} {'AUC sk':>9} {'diff':>8}")
    diffs = []
    for seed in seeds:
        csv, rep = tmp / f"features{seed}.csv", tmp / f"report{seed}.json"
        subprocess.run([str(detect), "--query", f"seed={seed + 1}", "--features-csv", str(csv),
                        "--out", str(rep)], check=True, stderr=subprocess.DEVNULL)
        n_feat = len(json.loads(rep.read_text())["data"]["features"])
        data = np.genfromtxt(csv, delimiter=",", names=True)
        names = data.dtype.names
        x_all = np.column_stack([data[n] for n in names[:n_feat]])
        y_all = (data["label"] > 0).astype(int)
        idx = np.random.RandomState(seed).choice(len(x_all), min(5000, len(x_all)), replace=False)
        x, y = x_all[idx], y_all[idx]
        if y.min() == y.max():
            print(f"{seed:>4} skipped: the sample has one class only")
            continue
        sk_auc = roc_auc_score(y, -IsolationForest(random_state=seed).fit(x).score_samples(x))
        ours = run_ours(binary, "iforest", x, {"random_state": seed}, tmp)
        our_auc = roc_auc_score(y, -np.array(ours["scores"]))
        diffs.append(our_auc - sk_auc)
        print(f"{seed:>4} {our_auc:9.4f} {sk_auc:9.4f} {our_auc - sk_auc:+8.4f}")
    mean_diff = float(np.mean(diffs)) if diffs else 0.0
    ok = report.check(len(diffs) >= 5 and abs(mean_diff) <= IF_AUC_TOL,
                      f"iforest generator: mean AUC diff {mean_diff:+.4f} over {len(diffs)} seeds")
    print(f"mean AUC diff {mean_diff:+.4f} over {len(diffs)} seeds (tol {IF_AUC_TOL})  {mark(ok)}")


def mlp_checks(binary: Path, seeds: list[int], tmp: Path, report: Report) -> None:
    print(f"\n== MLP autoencoder (adam, hidden {MLP_HIDDEN}, max_iter {MLP_MAX_ITER}) ==")
    header = (f"{'config':<18} {'AUC ours':>9} {'AUC sk':>9} {'diff':>8}  {'loss1 ours':>10} {'sk':>8} {'rel':>6}"
              f"  {'final ours':>10} {'sk':>8} {'rel':>6}  {'n_iter ours':>11} {'sk':>6}  {'val R2 ours':>11} {'sk':>7}  check")
    print(header)
    for activation in ["relu", "tanh"]:
        for early_stopping in [False, True]:
            rows = {"ours": [], "sk": []}
            for seed in seeds:
                x, y = make_data(seed)
                xs = StandardScaler().fit_transform(x)
                params = {
                    "hidden_layer_sizes": MLP_HIDDEN,
                    "activation": activation,
                    "max_iter": MLP_MAX_ITER,
                    "random_state": seed,
                    "early_stopping": early_stopping,
                }
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    sk = MLPRegressor(**params).fit(xs, xs)
                sk_err = ((xs - sk.predict(xs)) ** 2).mean(axis=1)
                ours = run_ours(binary, "mlp", xs, params, tmp)
                our_err = np.array(ours["reconstruction_errors"])
                for who, auc, curve, n_iter, val in [
                    ("sk", roc_auc_score(y, sk_err), sk.loss_curve_, sk.n_iter_,
                     sk.best_validation_score_ if early_stopping else np.nan),
                    ("ours", roc_auc_score(y, our_err), ours["loss_curve"], ours["n_iter"],
                     ours["best_validation_score"] if early_stopping else np.nan),
                ]:
                    rows[who].append((auc, curve[0], curve[-1], n_iter, val))
            o = np.array(rows["ours"], dtype=float).mean(axis=0)
            s = np.array(rows["sk"], dtype=float).mean(axis=0)
            name = f"{activation}{' +early_stop' if early_stopping else ''}"
            auc_ok = report.check(abs(o[0] - s[0]) <= MLP_AUC_TOL, f"mlp {name}: AUC diff {o[0] - s[0]:+.4f}")
            rel1 = abs(o[1] - s[1]) / s[1]
            first_ok = report.check(rel1 <= LOSS_REL_TOL, f"mlp {name}: first-epoch loss rel diff {rel1:.3f}")
            relf = abs(o[2] - s[2]) / s[2]
            final_ok = report.check(relf <= LOSS_REL_TOL, f"mlp {name}: final loss rel diff {relf:.3f}")
            ratio = o[3] / s[3]
            iter_ok = report.check(1 / N_ITER_RATIO <= ratio <= N_ITER_RATIO, f"mlp {name}: n_iter ratio {ratio:.2f}")
            ok = auc_ok and first_ok and final_ok and iter_ok
            val = f"{o[4]:11.4f} {s[4]:7.4f}" if early_stopping else f"{'-':>11} {'-':>7}"
            print(f"{name:<18} {o[0]:9.4f} {s[0]:9.4f} {o[0] - s[0]:+8.4f}  {o[1]:10.4f} {s[1]:8.4f} {rel1:6.3f}"
                  f"  {o[2]:10.4f} {s[2]:8.4f} {relf:6.3f}  {o[3]:11.1f} {s[3]:6.1f}  {val}  {mark(ok)}")
    print("(means over seeds; rel = |ours - sk| / sk)")


def mlp_exact_checks(binary: Path, seeds: list[int], tmp: Path, report: Report) -> None:
    """Same starting weights, no shuffling, no early stopping: nothing random is left, so the
    whole training run (loss per epoch, stopping epoch, final weights) must match sklearn's up
    to floating-point summation order."""
    print(f"\n== MLP exact trajectory (same initial weights, shuffle=False, hidden {MLP_HIDDEN}) ==")
    print(f"{'config':<18} {'n_iter ours':>11} {'sk':>5} {'loss curve max rel diff':>24} {'pred max abs diff':>18}  check")
    for activation, regression in [("relu", False), ("tanh", False), ("logistic", False),
                                   ("identity", False), ("relu", True), ("tanh", True)]:
        for seed in seeds[:2]:
            x, _ = make_data(seed)
            xs = StandardScaler().fit_transform(x)
            # Regression: 3 targets that are not the inputs (a nonlinear map of them).
            ys = np.column_stack([np.tanh(xs[:, 0] * xs[:, 1]), xs[:, 2] ** 2 - 1, xs[:, 3:].sum(axis=1)]) \
                if regression else xs
            params = {"hidden_layer_sizes": MLP_HIDDEN, "activation": activation,
                      "max_iter": MLP_MAX_ITER, "random_state": seed, "shuffle": False}
            init = glorot([xs.shape[1], *MLP_HIDDEN, ys.shape[1]], activation, seed)
            sk = FixedInitMLP(**params)
            sk.fixed_init = [(c.copy(), b.copy()) for c, b in init]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                sk.fit(xs, ys)
            ours = run_ours(binary, "mlp", xs, params, tmp, init=init,
                            target=ys if regression else None)
            a, b = np.array(ours["loss_curve"]), np.array(sk.loss_curve_)
            same_len = report.check(len(a) == len(b), f"exact {activation} seed {seed}: n_iter {len(a)} vs {len(b)}")
            k = min(len(a), len(b))
            rel = float(np.max(np.abs(a[:k] - b[:k]) / np.abs(b[:k])))
            pred = float(np.max(np.abs(np.array(ours["predictions"]) - sk.predict(xs))))
            ok = report.check(rel <= EXACT_REL_TOL and pred <= 1e-6,
                              f"exact {activation} regression={regression} seed {seed}: loss rel diff {rel:.2e}, pred diff {pred:.2e}")
            activation_name = activation + (" ->y" if regression else "")
            print(f"{activation_name + ' seed ' + str(seed):<18} {len(a):>11} {len(b):>5} {rel:>24.2e} {pred:>18.2e}  "
                  f"{mark(ok and same_len)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10, help="number of seeds (>= 5)")
    ap.add_argument("--binary", type=Path, help="use this model_check binary instead of building")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build")
    ap.add_argument("--only", choices=["iforest", "mlp"], help="run one model's checks")
    args = ap.parse_args()

    binary = build(args.binary, args.no_build)
    seeds = list(range(args.seeds))
    report = Report()
    start = time.time()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.only in (None, "iforest"):
            iforest_checks(binary, seeds, tmp, report)
            iforest_param_checks(binary, seeds[:5], tmp, report)
            iforest_generator_checks(binary, seeds[:5], tmp, report)
            iforest_nsl_kdd_checks(binary, seeds, tmp, report)
        if args.only in (None, "mlp"):
            mlp_exact_checks(binary, seeds, tmp, report)
            mlp_checks(binary, seeds, tmp, report)
    print(f"\n{len(seeds)} seeds, {time.time() - start:.0f}s")
    if report.failures:
        print("FAILED:")
        for f in report.failures:
            print("  -", f)
        return 1
    print("all parity checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
