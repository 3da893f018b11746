// The chance-against-applications curve: where more applications stop helping.

export interface CurvePoint {
  applications: number;
  match_probability: number;
}

/** Extra chance of a match below this per extra application counts as "no longer helping" (half a point). */
export const MIN_GAIN_PER_APPLICATION = 0.005;

/**
 * The smallest number of applications after which every further application adds less than `minGain`
 * to the chance of at least one match; null for a curve too short to tell. Used only when the server
 * does not name the point itself.
 */
export function diminishingReturns(curve: CurvePoint[], minGain = MIN_GAIN_PER_APPLICATION): number | null {
  if (curve.length < 2) return null;
  const points = [...curve].sort((a, b) => a.applications - b.applications);
  let knee = points[points.length - 1].applications;
  for (let i = points.length - 2; i >= 0; i--) {
    const steps = points[i + 1].applications - points[i].applications;
    const gain = (points[i + 1].match_probability - points[i].match_probability) / Math.max(steps, 1);
    if (gain >= minGain) break;
    knee = points[i].applications;
  }
  return knee;
}

/** The chance at a number of applications, read off the curve (the last point at or below it). */
export function chanceAt(curve: CurvePoint[], applications: number): number | null {
  let found: number | null = null;
  for (const p of curve) if (p.applications <= applications) found = p.match_probability;
  return found;
}
