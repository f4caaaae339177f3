"""Reference values for the copula's marginals, computed by scipy (run: bench/.venv/bin/python bench/copula_reference.py).

Writes test/fixtures/copula/marginals.json: special functions (ndtr, ndtri, betainc, betaincinv, gammaincinv,
psi, polygamma(1)) on a grid, and for seeded samples of several shapes the scipy fits our estimators solve
(norm.fit, uniform.fit, gamma.fit with floc, beta.fit with floc and fscale; truncnorm by moments), each
family's cdf/ppf at probe points and the KS statistic scipy.stats.kstest reports.
"""
import json
import pathlib

import numpy as np
import scipy
from scipy import special, stats

out = {"scipy": scipy.__version__, "numpy": np.__version__}

xs = [-40.0, -8.5, -3.0, -1.0, -0.3, 0.0, 0.2, 1.0, 2.5, 6.0, 9.0]
out["ndtr"] = [{"x": x, "y": float(special.ndtr(x))} for x in xs]
ps = [1e-300, 1e-20, 1e-10, 1e-3, 0.05, 0.13, 0.3, 0.5, 0.77, 0.9, 0.999999, 1 - 1e-12]
out["ndtri"] = [{"p": p, "x": float(special.ndtri(p))} for p in ps]

beta_cases = []
for a, b in [(0.5, 0.5), (1.0, 1.0), (2.0, 5.0), (5.0, 2.0), (0.2, 3.0), (30.0, 40.0), (150.0, 2.5)]:
    for x in [0.001, 0.05, 0.3, 0.5, 0.7, 0.95, 0.999]:
        beta_cases.append({"a": a, "b": b, "x": x, "i": float(special.betainc(a, b, x))})
    for p in [1e-6, 0.01, 0.25, 0.5, 0.75, 0.99, 1 - 1e-6]:
        beta_cases.append({"a": a, "b": b, "p": p, "xinv": float(special.betaincinv(a, b, p))})
out["beta"] = beta_cases

gamma_cases = []
for a in [0.3, 1.0, 2.5, 10.0, 200.0]:
    for p in [1e-6, 0.01, 0.25, 0.5, 0.75, 0.99, 1 - 1e-6]:
        gamma_cases.append({"a": a, "p": p, "x": float(special.gammaincinv(a, p))})
out["gammaincinv"] = gamma_cases

zs = [0.05, 0.4, 1.0, 2.5, 9.7, 10.0, 33.3, 1000.0]
out["polygamma"] = [{"x": z, "psi": float(special.psi(z)), "psi1": float(special.polygamma(1, z))} for z in zs]

rng = np.random.default_rng(20261203)
samples = {
    "normal": rng.normal(50.0, 12.0, 400),
    "skewed": rng.gamma(2.0, 3.0, 500) + 10.0,
    "bounded": rng.beta(2.0, 5.0, 300) * 80.0 - 5.0,
    "flat": rng.uniform(-3.0, 7.0, 250),
}

fits = []
for name, x in samples.items():
    x = np.asarray(x, dtype=float)
    n = len(x)
    lo, hi = float(x.min()), float(x.max())
    pad = (hi - lo) / (n + 1)
    mean, sd = float(x.mean()), float(x.std())
    models = {
        "norm": stats.norm(*stats.norm.fit(x)),
        "uniform": stats.uniform(*stats.uniform.fit(x)),
        "gamma": stats.gamma(*stats.gamma.fit(x, floc=lo - pad)),
        "beta": stats.beta(*stats.beta.fit(x, floc=lo - pad, fscale=hi - lo + 2 * pad)),
        "truncnorm": stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd),
    }
    params = {
        "norm": dict(zip(["loc", "scale"], stats.norm.fit(x))),
        "uniform": dict(zip(["loc", "scale"], stats.uniform.fit(x))),
        "gamma": dict(zip(["a", "loc", "scale"], stats.gamma.fit(x, floc=lo - pad))),
        "beta": dict(zip(["a", "b", "loc", "scale"], stats.beta.fit(x, floc=lo - pad, fscale=hi - lo + 2 * pad))),
        "truncnorm": {"a": (lo - mean) / sd, "b": (hi - mean) / sd, "loc": mean, "scale": sd},
    }
    probes_x = list(np.quantile(x, [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0]))
    probes_u = [1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-6]
    fam = {}
    for f, m in models.items():
        fam[f] = {
            "params": {k: float(v) for k, v in params[f].items()},
            "cdf": [float(m.cdf(v)) for v in probes_x],
            "ppf": [float(m.ppf(u)) for u in probes_u],
            "ks": float(stats.kstest(x, m.cdf).statistic),
        }
    best = min(fam, key=lambda f: fam[f]["ks"])
    fits.append({"name": name, "x": [float(v) for v in x], "probe_x": [float(v) for v in probes_x],
                 "probe_u": probes_u, "families": fam, "best_by_ks": best})
out["fits"] = fits

path = pathlib.Path(__file__).resolve().parent.parent / "test/fixtures/copula/marginals.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
