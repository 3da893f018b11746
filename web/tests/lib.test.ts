import { describe, expect, it } from "vitest";
import { cohortCsv, visibleStudents, type CohortStudent } from "../src/lib/cohort";
import { toCsv } from "../src/lib/csv";
import { chanceAt, diminishingReturns } from "../src/lib/curve";
import { errorMessage, fieldErrors } from "../src/lib/errors";
import { interval, percent } from "../src/lib/format";
import { codeFromHash, safeNext } from "../src/lib/next";
import { pollUntilReady } from "../src/lib/poll";
import { bodyFromDraft, draftFromBody, EMPTY_DRAFT, formErrors } from "../src/lib/profile";
import { listFigures } from "../src/lib/recs";

describe("percent", () => {
  it("rounds to whole points and never claims 0% or 100% for a non-zero estimate", () => {
    expect(percent(0.456)).toBe("46%");
    expect(percent(0.004)).toBe("<1%");
    expect(percent(0.996)).toBe(">99%");
    expect(percent(0)).toBe("0%");
    expect(percent(null)).toBe("–");
    expect(interval(0.1, 0.25)).toBe("10%–25%");
  });
});

describe("server errors", () => {
  it("turn FastAPI's 422 detail into a message per field", () => {
    const detail = [
      { loc: ["body", "step2_ck_score"], msg: "must be between 1 and 300, got 400" },
      { loc: ["body", "preferences", "application_budget"], msg: "Value error, must be at least 1" },
    ];
    expect(fieldErrors(detail)).toEqual({ step2_ck_score: "must be between 1 and 300, got 400", "preferences.application_budget": "must be at least 1" });
    expect(formErrors(detail)).toEqual({ step2_ck_score: "must be between 1 and 300, got 400", application_budget: "must be at least 1" });
    expect(formErrors([{ loc: ["body", "mystery"], msg: "no" }])).toEqual({ form: "no" });
    expect(formErrors([{ loc: ["body", "preferences", "specialties[0]"], msg: "unknown specialty" }])).toEqual({ specialties: "unknown specialty" });
    expect(formErrors([{ loc: ["body", "preferences", "specialties", 1], msg: "too long" }])).toEqual({ specialties: "too long" });
    expect(errorMessage({ detail: "not found" })).toBe("not found");
    expect(errorMessage(undefined)).toMatch(/try again/);
  });
});

describe("the profile draft", () => {
  it("keeps what was typed and round-trips a stored profile", () => {
    const draft = { ...EMPTY_DRAFT, step2_ck_score: " 251 ", specialties: "Dermatology, Internal Medicine", preferred_states: "ca, ny" };
    const body = bodyFromDraft(draft);
    expect(body.step2_ck_score).toBe(251);
    expect(body.preferences).toEqual({ specialties: ["Dermatology", "Internal Medicine"], preferred_states: ["CA", "NY"], application_budget: 30 });
    expect(bodyFromDraft({ ...draft, step2_ck_score: "" }).step2_ck_score).toBeNull();
    expect(bodyFromDraft({ ...draft, step2_ck_score: "25x" }).step2_ck_score).toBe("25x"); // the server names it
    expect(bodyFromDraft(draftFromBody(body))).toEqual(body);
  });
  it("sends a blank honors, home program or away rotations as not said (null), and round-trips it", () => {
    const draft = { ...EMPTY_DRAFT, specialties: "Dermatology" };
    const body = bodyFromDraft(draft);
    expect([body.clerkship_honors, body.has_home_program, body.away_rotations]).toEqual([null, null, null]);
    const said = bodyFromDraft({ ...draft, clerkship_honors: "0", has_home_program: "no", away_rotations: "2" });
    expect([said.clerkship_honors, said.has_home_program, said.away_rotations]).toEqual([0, false, 2]);
    expect(bodyFromDraft({ ...draft, has_home_program: "yes" }).has_home_program).toBe(true);
    expect(bodyFromDraft(draftFromBody(body))).toEqual(body);
    expect(bodyFromDraft(draftFromBody(said))).toEqual(said);
  });
  it("sends the medical school's state only when given, upper-cased, and round-trips it", () => {
    const draft = { ...EMPTY_DRAFT, specialties: "Dermatology" };
    expect("medical_school_state" in bodyFromDraft(draft)).toBe(false);
    const body = bodyFromDraft({ ...draft, medical_school_state: " ny " });
    expect(body.medical_school_state).toBe("NY");
    expect(bodyFromDraft(draftFromBody(body))).toEqual(body);
    expect(formErrors([{ loc: ["body", "medical_school_state"], msg: "use a state code" }])).toEqual({ medical_school_state: "use a state code" });
  });
  it("sends a home city, settings and sizes only when given, and round-trips them", () => {
    const draft = { ...EMPTY_DRAFT, specialties: "Internal Medicine", home_city: " Boston, MA ", preferred_settings: ["academic" as const], preferred_sizes: ["small" as const, "large" as const] };
    const body = bodyFromDraft(draft);
    expect(body.preferences).toMatchObject({ home_city: "Boston, MA", preferred_settings: ["academic"], preferred_sizes: ["small", "large"] });
    expect(bodyFromDraft(draftFromBody(body))).toEqual(body);
    expect(Object.keys(bodyFromDraft({ ...EMPTY_DRAFT, specialties: "Internal Medicine" }).preferences)).toEqual(["specialties", "preferred_states", "application_budget"]);
    expect(formErrors([{ loc: ["body", "preferences", "home_city"], msg: "unknown city" }])).toEqual({ home_city: "unknown city" });
    expect(formErrors([{ loc: ["body", "preferences", "preferred_sizes", 0], msg: "bad size" }])).toEqual({ preferred_sizes: "bad size" });
  });
});

describe("the curve", () => {
  const curve = [0, 0.2, 0.35, 0.45, 0.5, 0.503, 0.505, 0.506].map((p, i) => ({ applications: i + 1, match_probability: p }));
  it("finds where each further application adds under half a point", () => {
    expect(diminishingReturns(curve)).toBe(5);
    expect(diminishingReturns(curve, 0.0001)).toBe(8);
    expect(diminishingReturns(curve.slice(0, 1))).toBeNull();
  });
  it("reads the chance at a number of applications", () => {
    expect(chanceAt(curve, 3)).toBe(0.35);
    expect(chanceAt(curve, 0)).toBeNull();
  });
  it("prefers the server's own point when it names one", () => {
    const figures = listFigures({ status: "ready", profile_version: 1, curve, diminishing_returns_at: 7 } as never);
    expect(figures.diminishingAt).toBe(7);
    expect(figures.diminishingFromServer).toBe(true);
    expect(listFigures({ status: "ready", profile_version: 1, curve } as never).diminishingAt).toBe(5);
  });
});

describe("CSV", () => {
  it("quotes as RFC 4180 says and neutralises formulas", () => {
    expect(toCsv(["a", "b"], [["x,y", 'say "hi"'], ["=SUM(A1)", -1]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n\'=SUM(A1),-1\r\n');
  });
});

const student = (name: string, chance: number | null, atRisk: boolean, specialty = "Dermatology"): CohortStudent => ({
  student_id: name.toLowerCase(),
  display_name: name,
  external_ref: `ref-${name}`,
  status: chance === null ? "no_profile" : "ready",
  profile_version: chance === null ? 0 : 1,
  scored_version: chance === null ? 0 : 1,
  specialties: chance === null ? [] : [specialty],
  list_match_probability: chance,
  at_risk: atRisk,
});

describe("the cohort table", () => {
  const cohort = [student("Ann", 0.9, false), student("Bo", 0.2, true, "Orthopaedic Surgery"), student("Cy", null, false)];
  it("sorts by chance with students without figures lowest, and filters", () => {
    const view = { query: "", atRiskOnly: false, sort: "list_match_probability" as const, descending: false };
    expect(visibleStudents(cohort, view).map((s) => s.display_name)).toEqual(["Cy", "Bo", "Ann"]);
    expect(visibleStudents(cohort, { ...view, descending: true }).map((s) => s.display_name)).toEqual(["Ann", "Bo", "Cy"]);
    expect(visibleStudents(cohort, { ...view, atRiskOnly: true }).map((s) => s.display_name)).toEqual(["Bo"]);
    expect(visibleStudents(cohort, { ...view, query: "ortho" }).map((s) => s.display_name)).toEqual(["Bo"]);
  });
  it("exports what is shown", () => {
    const lines = cohortCsv([cohort[1]], 0.5).trim().split("\r\n");
    expect(lines).toEqual([
      "student_id,external_ref,name,specialties,status,chance_of_a_match,at_risk,risk_threshold,model_version",
      "bo,ref-Bo,Bo,Orthopaedic Surgery,ready,0.2000,true,0.5,",
    ]);
  });
});

describe("signing in", () => {
  it("goes back only to a path of this site", () => {
    expect(safeNext("/student?x=1", "/admin")).toBe("/student?x=1");
    expect(safeNext("//evil.example", "/admin")).toBe("/admin");
    expect(safeNext("https://evil.example", "/admin")).toBe("/admin");
    expect(safeNext(null, "/admin")).toBe("/admin");
    expect(codeFromHash("#code=ABCD-EFGH")).toBe("ABCD-EFGH");
    expect(codeFromHash("")).toBe("");
  });
});

describe("waiting for the workers", () => {
  it("asks again until the answer is ready", async () => {
    let calls = 0;
    const ready = await pollUntilReady(async () => ({ ready: ++calls === 3 ? "done" : null, retryAfterSeconds: 0 }), new AbortController().signal);
    expect(ready).toBe("done");
    expect(calls).toBe(3);
  });
  it("stops when the page no longer needs it", async () => {
    const control = new AbortController();
    control.abort();
    expect(await pollUntilReady(async () => ({ ready: "never asked", retryAfterSeconds: 0 }), control.signal)).toBeNull();
  });
});
