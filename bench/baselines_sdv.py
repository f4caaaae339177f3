"""SDV's GaussianCopulaSynthesizer on one bench input (run by bench/baselines.bench.ts):
    python bench/baselines_sdv.py <workdir> <rows> <seed>
Reads <workdir>/real.csv with <workdir>/sdv_metadata.json, times fit + sample only (not imports or CSV I/O),
writes <workdir>/sdv_copula.csv and prints {seconds, rss_before_mb, peak_rss_mb, sdv} as JSON.
SDV defaults are kept (default_distribution 'beta', enforce_min_max_values, enforce_rounding).
"""
import json
import pathlib
import resource
import sys
import time

import numpy as np
import pandas as pd
import sdv
from sdv.metadata import Metadata
from sdv.single_table import GaussianCopulaSynthesizer


def read(path, meta):
    cols = meta["columns"]
    dtype = {c: "string" for c, m in cols.items() if m["sdtype"] in ("categorical", "id")}
    df = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    for c, m in cols.items():
        if m["sdtype"] == "categorical":
            df[c] = df[c].astype(object).where(df[c].notna(), np.nan)
        if m["sdtype"] == "datetime":
            df[c] = pd.to_datetime(df[c], utc=True).dt.tz_localize(None)
    return df


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main():
    work, rows, seed = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    meta = json.loads((work / "sdv_metadata.json").read_text())
    real = read(work / "real.csv", meta)
    np.random.seed(seed)
    before = rss_mb()
    t0 = time.perf_counter()
    synth = GaussianCopulaSynthesizer(Metadata.load_from_dict(meta, "table"))
    # SDV 2 takes and returns {table name: DataFrame}; 1.x took and returned the DataFrame.
    try:
        synth.fit({"table": real})
    except Exception:
        synth.fit(real)
    out = synth.sample(num_rows=rows)
    if isinstance(out, dict):
        out = out["table"]
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.to_csv(work / "sdv_copula.csv", index=False)
    print(json.dumps({"seconds": seconds, "rss_before_mb": before, "peak_rss_mb": peak, "sdv": sdv.__version__}))


if __name__ == "__main__":
    main()
