"""Reference values for the MALLM-GAN MLE pool: stats/classifiers/svm.ts, stats/classifiers/boosting.ts and the
protocol's "real" row. Run: bench/.venv/bin/python bench/mallm_gan_mle_reference.py
(venv: python3 -m venv bench/.venv && bench/.venv/bin/pip install numpy pandas scikit-learn xgboost-cpu).

Writes two files:

test/fixtures/svm-boosting-reference.json -- small seeded cases:
  * sklearn SVC (libsvm) decision values, kernel rbf with gamma="scale" and kernel linear, C = 1, solved to
    tol = 1e-10 so the reference is the exact optimum, not libsvm's 1e-3 stopping point;
  * xgboost with tree_method="exact" (greedy enumeration of every split), binary:logistic and
    reg:squarederror, max_depth 3, learning_rate 0.1, lambda 1, min_child_weight 1: margins on test rows;
  * xgboost with its default tree_method (hist, 256 bins) on small-integer features, where the histogram
    holds every distinct value and must give the exact method's trees.

test/fixtures/mallm-gan-mle-reference.json -- the MALLM-GAN authors' MLE pool (eval_utils.compare_MLE in
github.com/yling1105/MALLM-GAN): LogisticRegression(max_iter=3000), RandomForestClassifier(max_depth=3),
SVC(), XGBClassifier(n_estimators=100, learning_rate=0.1, max_depth=3); LinearRegression,
DecisionTreeRegressor(max_depth=3), XGBRegressor(n_estimators=100, learning_rate=0.1, max_depth=3); weighted
F1 or R^2 on the 200 held-out rows; best over models per seed (random_state = seed, seeds 0..4), averaged.
Train on the real N rows of the authors' splits (datasets/mallm-gan/{adult,ins}{N}). Three encodings:
  * "train_levels": numeric columns, then one-hot of each categorical over the training split's levels
    (synthgraph's ENC-SDM); the reference for the protocol's own numbers;
  * "authors_aligned": pd.get_dummies with the columns of train + test (the authors' dummy_cols), aligned;
  * "authors_col_check": the authors' own code path: pd.get_dummies of each table separately, then
    col_check(df, dummy_cols), which appends the missing columns at the end without reordering, so a column
    index means different dummies in train and test whenever their level sets differ.
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import sklearn
import xgboost
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score, r2_score
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeRegressor
from xgboost import XGBClassifier, XGBRegressor

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "test", "fixtures")
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "datasets")
if not os.path.isdir(SHARED):
    SHARED = os.path.join(HERE, "..", "..", "shared", "datasets")
MALLM = os.path.join(SHARED, "mallm-gan")
SIZES = [100, 200, 400, 800]
SEEDS = list(range(5))


def svm_cases():
    out = []
    rng = np.random.default_rng(11)
    X = np.round(rng.normal(size=(70, 3)), 3)
    X[:, 2] *= 5  # unequal scales: gamma="scale" uses the variance of all entries
    y = (X[:, 0] ** 2 + X[:, 1] - 0.1 * X[:, 2] + rng.normal(scale=0.5, size=70) > 0.8).astype(int)
    Xtr, ytr, Xte = X[:50], y[:50], X[50:]
    for kernel in ["rbf", "linear"]:
        for C in [1.0, 0.5]:
            m = SVC(kernel=kernel, C=C, gamma="scale", tol=1e-10, max_iter=-1).fit(Xtr, ytr)
            out.append({
                "name": f"{kernel}_C{C}",
                "kernel": kernel,
                "C": C,
                "gamma": float(1.0 / (Xtr.shape[1] * Xtr.var())),
                "X_train": Xtr.tolist(), "y_train": ytr.tolist(), "X_test": Xte.tolist(),
                "decision": m.decision_function(Xte).tolist(),
                "decision_train": m.decision_function(Xtr).tolist(),
                "predict": m.predict(Xte).tolist(),
                "n_support": int(m.support_.size),
                "intercept": float(m.intercept_[0]),
            })
    return out


def booster_cases():
    out = []
    rng = np.random.default_rng(21)
    X = np.round(rng.normal(size=(120, 4)), 3)
    logit = 1.5 * X[:, 0] - X[:, 1] * X[:, 2] + 0.5 * rng.normal(size=120)
    yc = (logit > 0.2).astype(int)
    yr = np.round(3 * X[:, 0] + X[:, 1] ** 2 - 2 * (X[:, 3] > 0) + rng.normal(scale=0.3, size=120) + 5, 3)
    Xtr, Xte = X[:90], X[90:]
    common = dict(n_estimators=30, learning_rate=0.1, max_depth=3, n_jobs=1, tree_method="exact")
    c = XGBClassifier(objective="binary:logistic", eval_metric="logloss", **common).fit(Xtr, yc[:90])
    out.append({
        "name": "exact_logistic", "objective": "binary:logistic", "tree_method": "exact",
        "rounds": 30, "learning_rate": 0.1, "max_depth": 3,
        "X_train": Xtr.tolist(), "y_train": yc[:90].tolist(), "X_test": Xte.tolist(),
        "margin": c.predict(Xte, output_margin=True).tolist(),
        "proba": c.predict_proba(Xte)[:, 1].tolist(),
        "base_score": float(json.loads(c.get_booster().save_config())["learner"]["learner_model_param"]["base_score"].strip("[]")),
    })
    r = XGBRegressor(objective="reg:squarederror", **common).fit(Xtr, yr[:90])
    out.append({
        "name": "exact_squared_error", "objective": "reg:squarederror", "tree_method": "exact",
        "rounds": 30, "learning_rate": 0.1, "max_depth": 3,
        "X_train": Xtr.tolist(), "y_train": yr[:90].tolist(), "X_test": Xte.tolist(),
        "margin": r.predict(Xte).tolist(),
        "base_score": float(json.loads(r.get_booster().save_config())["learner"]["learner_model_param"]["base_score"].strip("[]")),
    })
    # Small integer features (a one-hot column, an ordinal with 6 levels): hist's bins are the distinct values.
    rng = np.random.default_rng(31)
    Xi = np.column_stack([rng.integers(0, 2, 150), rng.integers(0, 6, 150), rng.integers(0, 4, 150)]).astype(float)
    yi = ((Xi[:, 0] + 0.5 * Xi[:, 1] - 0.7 * Xi[:, 2] + rng.normal(scale=0.8, size=150)) > 1).astype(int)
    h = XGBClassifier(objective="binary:logistic", n_estimators=40, learning_rate=0.1, max_depth=3, n_jobs=1,
                      eval_metric="logloss").fit(Xi[:110], yi[:110])
    out.append({
        "name": "hist_integer_logistic", "objective": "binary:logistic", "tree_method": "hist",
        "rounds": 40, "learning_rate": 0.1, "max_depth": 3,
        "X_train": Xi[:110].tolist(), "y_train": yi[:110].tolist(), "X_test": Xi[110:].tolist(),
        "margin": h.predict(Xi[110:], output_margin=True).tolist(),
    })
    return out


def col_check(df, cols):
    # eval_utils.col_check of the MALLM-GAN repository, verbatim in effect: missing columns appended as zeros.
    missing = list(set(cols) - set(df.columns))
    for col in missing:
        df[col] = [0] * len(df)
    extra = list(set(df.columns) - set(cols))
    return df.drop(columns=extra)


def encodings(train, test, target):
    x = [c for c in train.columns if c != target]
    cat = [c for c in x if not pd.api.types.is_numeric_dtype(train[c])]
    num = [c for c in x if c not in cat]

    def train_levels(df):
        parts = [df[num].astype(float)]
        for c in cat:
            for lv in sorted(train[c].unique()):
                parts.append((df[c] == lv).astype(float).rename(f"{c}_{lv}"))
        return pd.concat(parts, axis=1).to_numpy(dtype=float)

    dummy_cols = list(pd.get_dummies(pd.concat([train, test])[x]).columns)
    aligned = lambda df: pd.get_dummies(df[x]).reindex(columns=dummy_cols, fill_value=0).to_numpy(dtype=float)
    checked = lambda df: col_check(pd.get_dummies(df[x]), dummy_cols).to_numpy(dtype=float)
    return {
        "train_levels": (train_levels(train), train_levels(test)),
        "authors_aligned": (aligned(train), aligned(test)),
        "authors_col_check": (checked(train), checked(test)),
    }


def classifiers(seed):
    return {
        "logistic": LogisticRegression(random_state=seed, max_iter=3000),
        "random_forest": RandomForestClassifier(max_depth=3, random_state=seed),
        "svm": SVC(random_state=seed),
        "xgboost": XGBClassifier(objective="binary:logistic", n_estimators=100, learning_rate=0.1, max_depth=3,
                                 eval_metric="logloss", random_state=seed, n_jobs=1),
        "xgboost_exact": XGBClassifier(objective="binary:logistic", n_estimators=100, learning_rate=0.1,
                                       max_depth=3, eval_metric="logloss", random_state=seed, n_jobs=1,
                                       tree_method="exact"),
        # The same objective solved to its optimum: lbfgs stops early on the unscaled matrix (capital-gain
        # reaches 99,999), so "logistic" above is an unconverged iterate.
        "logistic_optimum": LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000),
    }


def regressors(seed):
    return {
        "linear": LinearRegression(),
        "tree": DecisionTreeRegressor(max_depth=3, random_state=seed),
        "xgboost": XGBRegressor(objective="reg:squarederror", n_estimators=100, learning_rate=0.1, max_depth=3,
                                random_state=seed, n_jobs=1),
        "xgboost_exact": XGBRegressor(objective="reg:squarederror", n_estimators=100, learning_rate=0.1,
                                      max_depth=3, random_state=seed, n_jobs=1, tree_method="exact"),
    }


# The pool of compare_MLE; "xgboost_exact" and "logistic_optimum" are reported beside it, never in the best-of.
POOL = {"classification": ["logistic", "random_forest", "svm", "xgboost"], "regression": ["linear", "tree", "xgboost"]}


def mle_reference():
    out = {}
    for name, prefix, target, task in [("adult", "adult", "Income", "classification"),
                                       ("insurance", "ins", "charges", "regression")]:
        out[name] = {"target": target, "task": task, "pool": POOL[task], "sizes": {}}
        for n in SIZES:
            train = pd.read_csv(os.path.join(MALLM, f"{prefix}{n}", "train.csv"))
            test = pd.read_csv(os.path.join(MALLM, f"{prefix}{n}", "test.csv"))
            if task == "classification":
                ytr = (train[target] == ">50K").astype(int).to_numpy()
                yte = (test[target] == ">50K").astype(int).to_numpy()
            else:
                ytr, yte = train[target].to_numpy(dtype=float), test[target].to_numpy(dtype=float)
            per_enc = {}
            for enc, (Xtr, Xte) in encodings(train, test, target).items():
                per_seed = []
                for seed in SEEDS:
                    models = classifiers(seed) if task == "classification" else regressors(seed)
                    scores = {}
                    for m, model in models.items():
                        pred = model.fit(Xtr, ytr).predict(Xte)
                        scores[m] = float(f1_score(yte, pred, average="weighted") if task == "classification"
                                          else r2_score(yte, pred))
                    scores["best"] = max(scores[m] for m in POOL[task])
                    per_seed.append(scores)
                per_enc[enc] = {
                    "width": [int(Xtr.shape[1]), int(Xte.shape[1])],
                    "per_seed": per_seed,
                    "mean": {k: float(np.mean([s[k] for s in per_seed])) for k in per_seed[0]},
                }
            out[name]["sizes"][str(n)] = per_enc
            print(name, n, {e: round(v["mean"]["best"], 3) for e, v in per_enc.items()}, flush=True)
    return out


def main():
    versions = {"numpy": np.__version__, "pandas": pd.__version__, "sklearn": sklearn.__version__,
                "xgboost": xgboost.__version__}
    small = {"_generator": "bench/mallm_gan_mle_reference.py", "_versions": versions,
             "svm": svm_cases(), "boosting": booster_cases()}
    path = os.path.join(FIXTURES, "svm-boosting-reference.json")
    with open(path, "w") as f:
        json.dump(small, f)
        f.write("\n")
    print("wrote", path)
    mle = {"_generator": "bench/mallm_gan_mle_reference.py", "_versions": versions, "seeds": SEEDS,
           **mle_reference()}
    path = os.path.join(FIXTURES, "mallm-gan-mle-reference.json")
    with open(path, "w") as f:
        json.dump(mle, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
