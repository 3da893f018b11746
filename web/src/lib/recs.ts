// Reading a recommendations answer, including the figures ranking v2 adds when the server has them
// (intervals, expected interviews, cost, the point of diminishing returns, the signal plan, notes,
// data vintage). A page shows a figure only when the server gave it: none is made up here.
import type { Schemas } from "../api/client";
import { diminishingReturns, type CurvePoint } from "./curve";

type Extra = Record<string, unknown>;
export type Recommendations = Schemas["RecommendationsOut"] & Extra;
export type ProgramRec = Schemas["ProgramRecommendationOut"] & Extra;

function num(o: Extra, ...names: string[]): number | null {
  for (const n of names) if (typeof o[n] === "number") return o[n] as number;
  return null;
}

function str(o: Extra, ...names: string[]): string | null {
  for (const n of names) if (typeof o[n] === "string" && o[n]) return o[n] as string;
  return null;
}

export function matchInterval(p: ProgramRec): [number, number] | null {
  const low = num(p, "match_probability_low");
  const high = num(p, "match_probability_high");
  return low !== null && high !== null ? [low, high] : null;
}

export interface ListFigures {
  expectedInterviews: number | null;
  costUsd: number | null;
  diminishingAt: number | null;
  diminishingFromServer: boolean;
  vintage: string | null;
  notes: string[];
  topReasons: { text: string }[];
  gold: string[];
  silver: string[];
}

export function listFigures(r: Recommendations): ListFigures {
  const fromServer = num(r, "diminishing_returns_applications", "diminishing_returns_at");
  const plan = (r.signal_plan ?? {}) as Extra;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  return {
    expectedInterviews: num(r, "expected_interviews"),
    costUsd: num(r, "list_cost_usd", "application_cost_usd", "cost_usd"),
    diminishingAt: fromServer ?? diminishingReturns((r.curve ?? []) as CurvePoint[]),
    diminishingFromServer: fromServer !== null,
    vintage: str(r, "data_vintage", "vintage"),
    notes: strings(r.notes),
    topReasons: Array.isArray(r.top_reasons) ? (r.top_reasons as { text: string }[]) : [],
    gold: strings(plan.gold_program_ids),
    silver: strings(plan.silver_program_ids),
  };
}
