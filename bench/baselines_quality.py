"""SDMetrics' QualityReport of synthetic tables against one real table (run by bench/baselines.bench.ts):
    python bench/baselines_quality.py <workdir> <synthetic.csv> [<synthetic.csv> ...]
Prints {file: {score, column_shapes, column_pair_trends}} as JSON.
"""
import json
import math
import pathlib
import sys
import warnings

import sdmetrics
from sdmetrics.reports.single_table import QualityReport

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from baselines_sdv import read  # noqa: E402

warnings.filterwarnings("ignore")


def main():
    work = pathlib.Path(sys.argv[1])
    meta = json.loads((work / "sdv_metadata.json").read_text())
    real = read(work / "real.csv", meta)
    out = {"sdmetrics": sdmetrics.__version__}
    for name in sys.argv[2:]:
        synth = read(work / name, meta)
        report = QualityReport()
        report.generate(real, synth, meta, verbose=False)
        props = report.get_properties().set_index("Property")["Score"]
        # NaN (e.g. a property with no eligible columns) is not JSON: written as null.
        def num(x):
            x = float(x)
            return None if math.isnan(x) else x

        out[name] = {
            "score": num(report.get_score()),
            "column_shapes": num(props["Column Shapes"]),
            "column_pair_trends": num(props["Column Pair Trends"]),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
