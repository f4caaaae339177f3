/**
 * Vega-Lite specs rendered to static SVG in Node (vega-lite compile → vega parse → headless View.toSVG): the
 * report carries no script and loads nothing. Data values enter specs only as rows under fixed field names
 * (x, y, group, ...): a column name is never a field path, so dots or brackets in untrusted names cannot be
 * read as nested-field syntax, and names reach the picture only as text that vega's SVG writer escapes.
 */
import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import { compile } from "vega-lite";

/** Okabe & Ito (2008) colour-blind-safe palette: real, synthetic, holdout, then the rest. */
export const OKABE_ITO = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#D55E00",
  "#F0E442",
  "#000000",
] as const;

const CONFIG = {
  font: "sans-serif",
  background: "white",
  range: { category: [...OKABE_ITO] },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 140 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 160 },
  title: { fontSize: 14, anchor: "start" as const },
  view: { stroke: null },
};

/** Renders one Vega-Lite spec (its `config` merged over the report's) to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const full = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(full).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
