/**
 * Binary classification scores and seeded stratified folds (docs/metrics.md §3.6–§3.8). Labels are 0/1 bytes.
 */
import { createRng, permutation } from "../primitives/rng.ts";

// AUC = U/(n₁n₀), U = Σ midrank(positives) − n₁(n₁+1)/2, ties count ½ (Mann–Whitney; sklearn roc_auc_score).
export function rocAuc(scores: ArrayLike<number>, labels: Uint8Array): number {
  const n = labels.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let nPos = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    const midrank = (start + 1 + end) / 2; // ranks start+1..end share their mean
    for (let k = start; k < end; k++) {
      if (labels[order[k]] === 1) {
        rankSumPos += midrank;
        nPos++;
      }
    }
    start = end;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

// accuracy = #{pred_i = truth_i}/n (sklearn accuracy_score).
export function accuracy(pred: Uint8Array, truth: Uint8Array): number {
  let hit = 0;
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) hit++;
  return truth.length === 0 ? Number.NaN : hit / truth.length;
}

// macro-F1 = mean over classes present in truth ∪ pred of 2TP/(2TP+FP+FN) (sklearn f1_score average="macro").
export function f1Macro(pred: Uint8Array, truth: Uint8Array): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] === 1;
    if (pred[i] === 1) {
      if (t) tp++;
      else fp++;
    } else if (t) fn++;
    else tn++;
  }
  // Class 1's F1 uses (tp, fp, fn); class 0's swaps the roles: its TP is tn, its FP is fn, its FN is fp.
  const present1 = tp + fp + fn > 0;
  const present0 = tn + fn + fp > 0;
  let sum = 0;
  let k = 0;
  if (present1) {
    sum += (2 * tp) / (2 * tp + fp + fn);
    k++;
  }
  if (present0) {
    sum += (2 * tn) / (2 * tn + fn + fp);
    k++;
  }
  return k === 0 ? Number.NaN : sum / k;
}

// k folds of ascending test indices: each class (0 then 1) seeded-shuffled and dealt round-robin, continuing
// across classes, so fold sizes differ by ≤ 1 overall and per class (like sklearn StratifiedKFold, other RNG).
export function stratifiedKFold(labels: Uint8Array, k: number, seed: number): number[][] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`stratifiedKFold: k must be an integer ≥ 2, got ${k}`);
  if (labels.length < k) throw new Error(`stratifiedKFold: ${labels.length} rows cannot make ${k} folds`);
  const folds: number[][] = Array.from({ length: k }, () => []);
  const rng = createRng(seed);
  let dealt = 0;
  for (const cls of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === cls) members.push(i);
    const perm = permutation(members.length, rng);
    for (let p = 0; p < members.length; p++) folds[(dealt + p) % k].push(members[perm[p]]);
    dealt += members.length;
  }
  for (const f of folds) f.sort((a, b) => a - b);
  return folds;
}
