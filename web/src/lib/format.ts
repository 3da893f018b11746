// How figures read on the pages: probabilities as whole percentages (an estimate is never more precise).

export function percent(p: number | null | undefined): string {
  if (p === null || p === undefined || Number.isNaN(p)) return "–";
  if (p > 0 && p < 0.01) return "<1%";
  if (p < 1 && p > 0.99) return ">99%";
  return `${Math.round(p * 100)}%`;
}

export function interval(low: number | null | undefined, high: number | null | undefined): string {
  if (low === null || low === undefined || high === null || high === undefined) return "";
  return `${percent(low)}–${percent(high)}`;
}

export const TIER_LABELS: Record<string, string> = { reach: "Reach", target: "Target", likely: "Likely" };

export function tierLabel(tier: string): string {
  return TIER_LABELS[tier] ?? tier;
}

export function dollars(amount: number | null | undefined): string {
  if (amount === null || amount === undefined) return "–";
  return amount.toLocaleString("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
}

export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
