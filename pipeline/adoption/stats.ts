/** Two-sided 95% quantile of Student's t for 1..30 degrees of freedom (beyond, a close approximation). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function t975(df: number): number {
  const d = Math.max(1, Math.floor(df));
  return T975[d - 1] ?? 1.96 + 2.4 / d;
}

export interface LinearFit {
  slope: number;
  intercept: number;
  /** Residual standard error, n - 2 degrees of freedom. */
  sigma: number;
  n: number;
  meanX: number;
  sxx: number;
}

/** Ordinary least squares y = intercept + slope x; null below three points (no error estimate). */
export function fitLine(points: readonly { x: number; y: number }[]): LinearFit | null {
  const n = points.length;
  if (n < 3) return null;
  const meanX = points.reduce((a, p) => a + p.x, 0) / n;
  const meanY = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - meanX) ** 2, 0);
  if (sxx === 0) return null;
  const slope = points.reduce((a, p) => a + (p.x - meanX) * (p.y - meanY), 0) / sxx;
  const intercept = meanY - slope * meanX;
  const sse = points.reduce((a, p) => a + (p.y - intercept - slope * p.x) ** 2, 0);
  return { slope, intercept, sigma: Math.sqrt(sse / (n - 2)), n, meanX, sxx };
}

/** The fitted value at x with its 95% prediction interval (a new week, not the mean line). */
export function predict(fit: LinearFit, x: number): { value: number; low: number; high: number } {
  const value = fit.intercept + fit.slope * x;
  const half = t975(fit.n - 2) * fit.sigma * Math.sqrt(1 + 1 / fit.n + (x - fit.meanX) ** 2 / fit.sxx);
  return { value, low: value - half, high: value + half };
}

/** Difference of two means with a Welch 95% confidence interval. */
export function welchDifference(
  a: { n: number; mean: number; variance: number },
  b: { n: number; mean: number; variance: number },
): { value: number; low: number; high: number } | null {
  if (a.n < 2 || b.n < 2) return null;
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se = Math.sqrt(va + vb);
  const value = a.mean - b.mean;
  if (se === 0) return { value, low: value, high: value };
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const half = t975(df) * se;
  return { value, low: value - half, high: value + half };
}
