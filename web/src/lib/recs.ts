// Reading a recommendations answer, including the figures ranking v2 adds when the server has them
// (intervals, expected interviews, cost, the point of diminishing returns, the signal plan, the list's
// top reasons, notes, data vintage). A page shows a figure only when the server gave it: none is made
// up here, except the point of diminishing returns when the server does not name it (lib/curve.ts).
import type { Schemas } from "../api/client";
import { diminishingReturns, type CurvePoint } from "./curve";

type Extra = Record<string, unknown>;
export type Recommendations = Schemas["RecommendationsOut"] & Extra;
export type ProgramRec = Schemas["ProgramRecommendationOut"] & Extra;

interface Interval {
  low: number;
  high: number;
}

export interface SignalPlan {
  top_used: number;
  top_available: number;
  second_used: number;
  second_available: number;
  planned: boolean;
}

function num(o: Extra, name: string): number | null {
  return typeof o[name] === "number" ? (o[name] as number) : null;
}

function interval(value: unknown): [number, number] | null {
  const i = value as Interval | null | undefined;
  return i && typeof i.low === "number" && typeof i.high === "number" ? [i.low, i.high] : null;
}

export function matchInterval(p: ProgramRec): [number, number] | null {
  return interval(p.match_probability_interval);
}

/** "top" (gold, or a specialty's only signal), "second" (silver), or null. */
export function programSignal(p: ProgramRec): "top" | "second" | null {
  return p.signal === "top" || p.signal === "second" ? p.signal : null;
}

/** Where a program's facts come from, with their vintage. */
export function factSources(p: ProgramRec): string[] {
  const sources = Array.isArray(p.fact_sources) ? (p.fact_sources as { facts: string; source: string }[]) : [];
  return sources.map((f) => `${f.facts} (${f.source})`);
}

export interface ListFigures {
  listInterval: [number, number] | null;
  expectedInterviews: number | null;
  costUsd: number | null;
  feeSchedule: string | null;
  diminishingAt: number | null;
  diminishingFromServer: boolean;
  vintage: string | null;
  notes: string[];
  topReasons: { feature: string; text: string; effect: number }[];
  signalPlan: SignalPlan | null;
}

export function listFigures(r: Recommendations): ListFigures {
  const fromServer = num(r, "diminishing_returns_at");
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  return {
    listInterval: interval(r.list_match_probability_interval),
    expectedInterviews: num(r, "expected_interviews"),
    costUsd: num(r, "list_cost_usd"),
    feeSchedule: typeof r.fee_schedule === "string" && r.fee_schedule ? r.fee_schedule : null,
    diminishingAt: fromServer ?? diminishingReturns((r.curve ?? []) as CurvePoint[]),
    diminishingFromServer: fromServer !== null,
    vintage: typeof r.data_vintage === "string" && r.data_vintage ? r.data_vintage : null,
    notes: strings(r.notes),
    topReasons: Array.isArray(r.top_reasons) ? (r.top_reasons as ListFigures["topReasons"]) : [],
    signalPlan: r.signal_plan && typeof r.signal_plan === "object" ? (r.signal_plan as SignalPlan) : null,
  };
}
