"""Reference values for stats/primitives/confidence.ts (test/stats/primitives/confidence.test.ts).

Wilson intervals from scipy.stats.binomtest(k, n).proportion_ci(method="wilson"); mean intervals from
scipy.stats.norm.interval(0.95, loc=mean, scale=scipy.stats.sem(x)) on seeded normal and exponential samples.
Run: python bench/confidence_reference.py > test/fixtures/confidence-intervals.json (needs numpy and scipy).
"""
import json

import numpy as np
from scipy import stats

wilson = []
for k, n in [(0, 10), (3, 10), (10, 10), (1, 1), (4711, 10000), (17, 50000), (250, 1000)]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    wilson.append({"k": k, "n": n, "lo": float(ci.low), "hi": float(ci.high)})

rng = np.random.default_rng(20240601)
means = []
for x in [rng.normal(3.0, 2.0, 25), rng.exponential(1.5, 400), np.array([1.0, 2.0])]:
    lo, hi = stats.norm.interval(0.95, loc=float(np.mean(x)), scale=float(stats.sem(x)))
    means.append({"x": [float(v) for v in x], "lo": float(lo), "hi": float(hi)})

print(json.dumps({"wilson": wilson, "mean": means}, indent=1))
