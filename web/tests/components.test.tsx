// @vitest-environment jsdom
import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";

vi.mock("../src/components/curve-chart", () => ({ CurveChart: () => <figure data-testid="chart" /> }));

const { ProfileForm } = await import("../src/components/profile-form");
const { RecommendationsView } = await import("../src/components/recommendations");
const { EMPTY_DRAFT } = await import("../src/lib/profile");

function mountIn(node: preact.ComponentChild): HTMLElement {
  const root = document.createElement("div");
  document.body.append(root);
  act(() => render(node, root));
  return root;
}

describe("the profile form", () => {
  it("shows a server message beside its field, tied to the input, keeping the value", () => {
    const draft = { ...EMPTY_DRAFT, step2_ck_score: "400" };
    const root = mountIn(<ProfileForm draft={draft} onChange={() => {}} errors={{ step2_ck_score: "must be between 1 and 300, got 400" }} onSubmit={() => {}} submitLabel="Save" busy={false} />);
    const input = root.querySelector<HTMLInputElement>("#f-step2_ck_score")!;
    expect(input.value).toBe("400");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const error = root.querySelector(`#${input.getAttribute("aria-describedby")!.split(" ").pop()}`)!;
    expect(error.textContent).toBe("must be between 1 and 300, got 400");
    expect(root.querySelector(`label[for="f-step2_ck_score"]`)!.textContent).toBe("USMLE Step 2 CK");
  });
  it("offers the catalog's cities and takes settings and sizes as choices, with their server message", () => {
    const changes: unknown[] = [];
    const draft = { ...EMPTY_DRAFT, preferred_settings: ["academic" as const] };
    const root = mountIn(<ProfileForm draft={draft} onChange={(d) => changes.push(d)} errors={{ home_city: "unknown city 'Bostn, MA'", preferred_sizes: "name each one once" }} onSubmit={() => {}} submitLabel="Save" busy={false} cities={["Boston, MA"]} />);
    const city = root.querySelector<HTMLInputElement>("input[name=home_city]")!; // ids repeat across the mounted forms
    expect(city.getAttribute("list")).toBe("city-names");
    expect([...root.querySelector("datalist[id=city-names]")!.children].map((o) => o.getAttribute("value"))).toEqual(["Boston, MA"]);
    expect(city.getAttribute("aria-invalid")).toBe("true");
    const settings = [...root.querySelectorAll<HTMLInputElement>("input[name=preferred_settings]")];
    expect(settings.map((s) => [s.value, s.checked])).toEqual([["academic", true], ["community_affiliated", false], ["community", false]]);
    act(() => settings[2].click());
    expect(changes.pop()).toMatchObject({ preferred_settings: ["academic", "community"] });
    act(() => settings[0].click());
    expect(changes.pop()).toMatchObject({ preferred_settings: [] });
    const sizes = [...root.querySelectorAll("fieldset")].find((f) => f.querySelector("input[name=preferred_sizes]"))!;
    expect(sizes.querySelector("legend")!.textContent).toContain("sizes");
    expect(sizes.querySelector("[role=alert]")!.textContent).toBe("name each one once");
  });
});

describe("the list", () => {
  const recs = {
    status: "ready",
    profile_version: 2,
    model_version: "m-1",
    estimate_note: "Estimated probability.",
    list_match_probability: 0.72,
    curve: [{ applications: 1, match_probability: 0.3 }, { applications: 2, match_probability: 0.72 }],
    excluded: {},
    application_list: [
      { program_id: "p1", name: "North Program", specialty: "Dermatology", city: "A", state: "CA", interview_probability: 0.5, match_probability: 0.3, tier: "target", reasons: [{ feature: "step2_ck_score", text: "Step 2 CK 260", effect: 0.05 }], match_probability_interval: { low: 0.2, high: 0.4 }, signal: "second" },
      { program_id: "p2", name: "South Program", specialty: "Dermatology", city: "B", state: "NY", interview_probability: 0.7, match_probability: 0.6, tier: "likely", reasons: [], signal: "top" },
    ],
    signal_plan: { top_used: 1, top_available: 2, second_used: 1, second_available: 5, planned: true },
    list_cost_usd: 1234,
    data_vintage: "NRMP 2025",
  };
  it("shows each program's tier, estimate and interval when the server gives one, the signal plan and the vintage", () => {
    const root = mountIn(<RecommendationsView recs={recs as never} />);
    const rows = [...root.querySelectorAll("tbody tr")].map((r) => r.textContent);
    expect(rows[0]).toContain("North Program");
    expect(rows[0]).toContain("Target");
    expect(rows[0]).toContain("20%–40%");
    expect(rows[1]).toContain("Likely");
    expect(rows[1]).not.toContain("–4");
    expect(root.querySelector("[data-testid=list-chance]")!.textContent).toBe("72%");
    expect(root.textContent).toContain("Gold signal: South Program");
    expect(root.textContent).toContain("Silver signal: North Program");
    expect(root.textContent).toContain("data as of NRMP 2025");
    expect(root.textContent).toContain("Suggested signals: 1 of 2 gold, 1 of 5 silver.");
    expect(root.textContent).toContain("$1,234");
    expect(root.textContent).toContain("Estimate.");
  });
});
