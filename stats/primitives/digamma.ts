/**
 * Digamma ψ(x) = d/dx lnΓ(x) and trigamma ψ'(x) for x > 0, the score and information of the gamma and beta
 * maximum-likelihood equations. Recurrence ψ(x) = ψ(x+1) − 1/x (ψ'(x) = ψ'(x+1) + 1/x²) up to x >= 20, then
 * the asymptotic series (Abramowitz & Stegun 6.3.18 and 6.4.12):
 *   ψ(x) ~ ln x − 1/(2x) − Σ B₂ₖ/(2k·x^2k),  ψ'(x) ~ 1/x + 1/(2x²) + Σ B₂ₖ/x^(2k+1),
 * truncated after B₁₀, first omitted term below 3e-18 at x >= 20. Tests compare with scipy.special.psi / polygamma.
 */

/** ψ(x) for x > 0. */
export function digamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  let acc = 0;
  while (x < 20) {
    acc -= 1 / x;
    x += 1;
  }
  const z = 1 / (x * x);
  // B2/2, B4/4, B6/6, B8/8, B10/10
  const series = z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z * (1 / 132)))));
  return acc + Math.log(x) - 0.5 / x - series;
}

/** ψ'(x) for x > 0. */
export function trigamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  let acc = 0;
  while (x < 20) {
    acc += 1 / (x * x);
    x += 1;
  }
  const z = 1 / (x * x);
  // B2, B4, B6, B8, B10 = 1/6, −1/30, 1/42, −1/30, 5/66
  const series = z * (1 / 6 - z * (1 / 30 - z * (1 / 42 - z * (1 / 30 - z * (5 / 66)))));
  return acc + 1 / x + 0.5 * z + series / x;
}
