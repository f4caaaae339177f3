/**
 * Hamilton's largest-remainder apportionment: `total` whole units split in proportion to non-negative weights,
 * each ⌊total·wᵢ/Σw⌋ plus one for the largest remainders (ties to the earlier weight), summing to `total`
 * exactly. Reference: M. Balinski and H. P. Young, Fair Representation (1982), ch. 2 (Hamilton's method).
 * Used for proposal counts (LLMSynthor) and for condition groups rescaled to a new row count.
 */
export function rescaleCounts(weights: readonly number[], total: number): number[] {
  if (!Number.isInteger(total) || total < 0)
    throw new RangeError(`total must be a non-negative integer, got ${total}`);
  let sum = 0;
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weights must be finite and ≥ 0, got ${w}`);
    sum += w;
  }
  if (weights.length === 0) return [];
  if (sum === 0) throw new RangeError("weights sum to 0");
  const out = new Array<number>(weights.length);
  const rem = new Float64Array(weights.length);
  let given = 0;
  for (let i = 0; i < weights.length; i++) {
    const quota = (total * weights[i]) / sum;
    out[i] = Math.floor(quota);
    rem[i] = quota - out[i];
    given += out[i];
  }
  const order = Array.from(rem.keys()).sort((a, b) => rem[b] - rem[a] || a - b);
  for (let k = 0; given < total; k++, given++) out[order[k % order.length]]++;
  return out;
}
