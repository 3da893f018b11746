// The profile form's draft (what the person typed, as typed) and the API body made from it.
import { fieldErrors } from "./errors";
import { splitList } from "./format";

export const SETTINGS = [["academic", "Academic"], ["community_affiliated", "Community-affiliated"], ["community", "Community"]] as const;
export const SIZES = [["small", "Small"], ["medium", "Medium"], ["large", "Large"]] as const;
export type Setting = (typeof SETTINGS)[number][0];
export type Size = (typeof SIZES)[number][0];

export interface ProfileBody {
  degree_type: "MD" | "DO" | "IMG";
  step2_ck_score?: number | null;
  step1_result?: "pass" | "fail" | null;
  comlex_level2_score?: number | null;
  research_items?: number;
  aoa_member?: boolean;
  clerkship_honors?: number | null; // null: not said (the chances take a typical applicant's)
  visa_need?: "none" | "j1" | "h1b";
  years_since_graduation?: number;
  signals_sent?: number;
  has_home_program?: boolean | null;
  away_rotations?: number | null;
  medical_school_state?: string;
  preferences: {
    specialties: string[];
    preferred_states?: string[];
    application_budget: number;
    signaled_program_ids?: string[];
    home_city?: string;
    preferred_settings?: Setting[];
    preferred_sizes?: Size[];
  };
}

export interface Draft {
  degree_type: "MD" | "DO" | "IMG";
  step2_ck_score: string;
  step1_result: "" | "pass" | "fail";
  comlex_level2_score: string;
  research_items: string;
  aoa_member: boolean;
  clerkship_honors: string;
  visa_need: "none" | "j1" | "h1b";
  years_since_graduation: string;
  signals_sent: string;
  has_home_program: "" | "yes" | "no"; // "": not said
  away_rotations: string;
  medical_school_state: string;
  specialties: string;
  preferred_states: string;
  home_city: string;
  preferred_settings: Setting[];
  preferred_sizes: Size[];
  application_budget: string;
}

export const EMPTY_DRAFT: Draft = {
  degree_type: "MD",
  step2_ck_score: "",
  step1_result: "pass",
  comlex_level2_score: "",
  research_items: "0",
  aoa_member: false,
  clerkship_honors: "",
  visa_need: "none",
  years_since_graduation: "0",
  signals_sent: "0",
  has_home_program: "",
  away_rotations: "",
  medical_school_state: "",
  specialties: "",
  preferred_states: "",
  home_city: "",
  preferred_settings: [],
  preferred_sizes: [],
  application_budget: "30",
};

/** A number field: empty is null; anything else goes as typed, so the server's message names it. */
function numberOrNull(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : (trimmed as unknown as number);
}

function count(text: string): number {
  return numberOrNull(text) ?? 0;
}

export function bodyFromDraft(d: Draft): ProfileBody {
  return {
    degree_type: d.degree_type,
    step2_ck_score: numberOrNull(d.step2_ck_score),
    step1_result: d.step1_result || null,
    comlex_level2_score: numberOrNull(d.comlex_level2_score),
    research_items: count(d.research_items),
    aoa_member: d.aoa_member,
    clerkship_honors: numberOrNull(d.clerkship_honors),
    visa_need: d.visa_need,
    years_since_graduation: count(d.years_since_graduation),
    signals_sent: count(d.signals_sent),
    has_home_program: d.has_home_program === "" ? null : d.has_home_program === "yes",
    away_rotations: numberOrNull(d.away_rotations),
    // Left out when not given: an MD or DO has then not said it (docs/model.md).
    ...(d.medical_school_state.trim() ? { medical_school_state: d.medical_school_state.trim().toUpperCase() } : {}),
    preferences: {
      specialties: splitList(d.specialties),
      preferred_states: splitList(d.preferred_states).map((s) => s.toUpperCase()),
      application_budget: count(d.application_budget),
      // Left out when not given, so a body without them means what it always meant.
      ...(d.home_city.trim() ? { home_city: d.home_city.trim() } : {}),
      ...(d.preferred_settings.length ? { preferred_settings: d.preferred_settings } : {}),
      ...(d.preferred_sizes.length ? { preferred_sizes: d.preferred_sizes } : {}),
    },
  };
}

export function draftFromBody(p: ProfileBody): Draft {
  const text = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));
  return {
    degree_type: p.degree_type,
    step2_ck_score: text(p.step2_ck_score),
    step1_result: p.step1_result ?? "",
    comlex_level2_score: text(p.comlex_level2_score),
    research_items: text(p.research_items ?? 0),
    aoa_member: p.aoa_member ?? false,
    clerkship_honors: text(p.clerkship_honors),
    visa_need: p.visa_need ?? "none",
    years_since_graduation: text(p.years_since_graduation ?? 0),
    signals_sent: text(p.signals_sent ?? 0),
    has_home_program: p.has_home_program === null || p.has_home_program === undefined ? "" : p.has_home_program ? "yes" : "no",
    away_rotations: text(p.away_rotations),
    medical_school_state: p.medical_school_state ?? "",
    specialties: p.preferences.specialties.join(", "),
    preferred_states: (p.preferences.preferred_states ?? []).join(", "),
    home_city: p.preferences.home_city ?? "",
    preferred_settings: p.preferences.preferred_settings ?? [],
    preferred_sizes: p.preferences.preferred_sizes ?? [],
    application_budget: text(p.preferences.application_budget),
  };
}

/** Where a server message about a body field shows in the form. */
export function draftField(apiField: string): keyof Draft | "form" {
  const field = apiField.replace(/^preferences\./, "").replace(/(\[\d+\]|\.\d+)$/, ""); // a list item: its list
  return field in EMPTY_DRAFT ? (field as keyof Draft) : "form";
}

/** A 422's field messages, placed on the form's fields (the rest on the form as a whole). */
export function formErrors(detail: unknown): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(fieldErrors(detail))) errors[draftField(field)] ??= message;
  return errors;
}
