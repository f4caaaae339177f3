"""Reference values for stats/classifiers/tree.ts and stats/metrics/table/regression-utility.ts, written to
test/fixtures/tree-regression-reference.json. Run: bench/.venv/bin/python bench/tree_regression_reference.py
(venv: python3 -m venv bench/.venv && bench/.venv/bin/pip install numpy scikit-learn).

Trees: sklearn DecisionTreeClassifier / DecisionTreeRegressor on small seeded data. sklearn breaks exact ties
between features with its random feature order; each case is kept only if 20 random_states give the same
tree, so the reference does not depend on tie-breaking (the data seed is advanced until that holds).
Regression: Insurance (target charges) in file order, real = rows 0..799, synthetic = rows 800..1099,
holdout = rows 1100..1337; ENC-SDM encoding (numeric columns as they are, then one-hot of each categorical
column over the training table's sorted levels) with an intercept; OLS by numpy.linalg.lstsq; R² and RMSE on
the holdout. sklearn RandomForestRegressor(random_state=0) R² is recorded as an informational reference.
"""
import csv
import json
import os

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "tree-regression-reference.json")
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "datasets")
if not os.path.isdir(SHARED):
    SHARED = os.path.join(HERE, "..", "..", "shared", "datasets")


def tree_dict(t):
    tr = t.tree_
    return {
        "node_count": int(tr.node_count),
        "feature": [int(f) for f in tr.feature],
        "threshold": [float(x) for x in tr.threshold],
        "left": [int(c) for c in tr.children_left],
        "right": [int(c) for c in tr.children_right],
        "depth": int(t.get_depth()),
    }


def stable_tree(make, X, y):
    trees = [make(rs).fit(X, y) for rs in range(20)]
    ref = tree_dict(trees[0])
    return trees[0] if all(tree_dict(t) == ref for t in trees[1:]) else None


def classifier_case(name, n, d, k, depth, integer):
    for data_seed in range(100):
        rng = np.random.default_rng(data_seed)
        X = rng.integers(0, 6, size=(n + 40, d)).astype(float) if integer else np.round(rng.normal(size=(n + 40, d)), 4)
        score = X[:, 0] + 0.8 * X[:, 1] - 0.5 * X[:, d - 1] + rng.normal(scale=0.7, size=n + 40)
        cuts = np.quantile(score, np.linspace(0, 1, k + 1)[1:-1])
        y = np.searchsorted(cuts, score).astype(int)
        t = stable_tree(lambda rs: DecisionTreeClassifier(max_depth=depth, random_state=rs), X[:n], y[:n])
        if t is None:
            continue
        return {
            "name": name, "data_seed": data_seed, "max_depth": depth, "n_classes": k,
            "X_train": X[:n].tolist(), "y_train": y[:n].tolist(), "X_test": X[n:].tolist(),
            "proba": t.predict_proba(X[n:]).tolist(), "predict": t.predict(X[n:]).tolist(),
            "tree": tree_dict(t),
        }
    raise RuntimeError(f"no tie-free data seed for {name}")


def regressor_case(name, n, d, depth):
    for data_seed in range(100):
        rng = np.random.default_rng(1000 + data_seed)
        X = np.round(rng.normal(size=(n + 40, d)), 4)
        y = np.round(2 * X[:, 0] - X[:, 1] ** 2 + rng.normal(scale=0.5, size=n + 40), 4)
        t = stable_tree(lambda rs: DecisionTreeRegressor(max_depth=depth, random_state=rs), X[:n], y[:n])
        if t is None:
            continue
        return {
            "name": name, "data_seed": data_seed, "max_depth": depth,
            "X_train": X[:n].tolist(), "y_train": y[:n].tolist(), "X_test": X[n:].tolist(),
            "predict": t.predict(X[n:]).tolist(), "tree": tree_dict(t),
        }
    raise RuntimeError(f"no tie-free data seed for {name}")


def read_insurance():
    with open(os.path.join(SHARED, "insurance.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


def encode(train_rows, rows):
    numeric = ["age", "bmi", "children"]
    coded = ["sex", "smoker", "region"]
    levels = {c: sorted({r[c] for r in train_rows}) for c in coded}
    out = []
    for r in rows:
        v = [float(r[c]) for c in numeric]
        for c in coded:
            v += [1.0 if r[c] == lv else 0.0 for lv in levels[c]]
        out.append(v)
    return np.array(out), np.array([float(r["charges"]) for r in rows])


def ols_scores(train_rows, test_rows):
    Xtr, ytr = encode(train_rows, train_rows)
    Xte, yte = encode(train_rows, test_rows)
    A = np.hstack([np.ones((len(Xtr), 1)), Xtr])
    coef, *_ = np.linalg.lstsq(A, ytr, rcond=None)
    pred = np.hstack([np.ones((len(Xte), 1)), Xte]) @ coef
    ss_res = float(np.sum((yte - pred) ** 2))
    ss_tot = float(np.sum((yte - yte.mean()) ** 2))
    rf = RandomForestRegressor(n_estimators=100, random_state=0).fit(Xtr, ytr)
    rf_pred = rf.predict(Xte)
    return {
        "linear": {"r2": 1 - ss_res / ss_tot, "rmse": float(np.sqrt(ss_res / len(yte))), "predictions": pred.tolist()},
        "random_forest_sklearn": {
            "r2": 1 - float(np.sum((yte - rf_pred) ** 2)) / ss_tot,
            "rmse": float(np.sqrt(np.mean((yte - rf_pred) ** 2))),
        },
    }


def main():
    rows = read_insurance()
    real, synthetic, holdout = rows[:800], rows[800:1100], rows[1100:]
    out = {
        "_generator": "bench/tree_regression_reference.py",
        "_versions": {"numpy": np.__version__, "sklearn": sklearn.__version__},
        "trees": {
            "classifiers": [
                classifier_case("binary_continuous_depth5", 80, 3, 2, 5, False),
                classifier_case("three_class_depth3", 90, 4, 3, 3, False),
                classifier_case("binary_integer_ties_depth4", 120, 3, 2, 4, True),
            ],
            "regressors": [regressor_case("regression_depth4", 80, 3, 4)],
        },
        "insurance": {
            "split": {"real": [0, 800], "synthetic": [800, 1100], "holdout": [1100, len(rows)]},
            "trtr": ols_scores(real, holdout),
            "tstr": ols_scores(synthetic, holdout),
        },
    }
    with open(OUT, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
