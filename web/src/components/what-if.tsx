// What-if controls: move a score, the research count or the budget and see the list re-scored at once
// (nothing is saved). Requests are debounced and a newer answer always wins over an older one.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import { errorMessage } from "../lib/errors";
import { percent } from "../lib/format";
import type { ProfileBody } from "../lib/profile";
import type { Recommendations } from "../lib/recs";

interface Props {
  studentId: string;
  saved: ProfileBody;
  onResult: (recs: Recommendations | null) => void;
}

export function WhatIf({ studentId, saved, onResult }: Props) {
  const [step2, setStep2] = useState(saved.step2_ck_score ?? 240);
  const [research, setResearch] = useState(saved.research_items ?? 0);
  const [budget, setBudget] = useState(saved.preferences.application_budget);
  const [result, setResult] = useState<Recommendations | null>(null);
  const [problem, setProblem] = useState("");
  const latest = useRef(0);
  const changed = step2 !== (saved.step2_ck_score ?? 240) || research !== (saved.research_items ?? 0) || budget !== saved.preferences.application_budget;

  useEffect(() => {
    if (!changed) {
      setResult(null);
      onResult(null);
      return;
    }
    const ticket = ++latest.current;
    const timer = setTimeout(async () => {
      const body = { ...saved, step2_ck_score: step2, research_items: research, preferences: { ...saved.preferences, application_budget: budget } };
      const { data, error } = await api.POST("/v1/students/{student_id}/what-if", { params: { path: { student_id: studentId } }, body: body as never });
      if (ticket !== latest.current) return; // a newer move is on its way
      if (data) {
        setProblem("");
        setResult(data as Recommendations);
        onResult(data as Recommendations);
      } else setProblem(errorMessage(error));
    }, 250);
    return () => clearTimeout(timer);
  }, [step2, research, budget]);

  const slider = (id: string, label: string, value: number, set: (n: number) => void, min: number, max: number) => (
    <div class="field">
      <label for={id}>{label}: <strong>{value}</strong></label>
      <input id={id} type="range" min={min} max={max} value={value} onInput={(e) => set(Number((e.target as HTMLInputElement).value))} />
    </div>
  );
  return (
    <section aria-labelledby="what-if-heading">
      <h2 id="what-if-heading">What if…</h2>
      <p class="lede">Move these to see how your chances change. Nothing here is saved.</p>
      <div class="grid">
        {slider("wi-step2", "Step 2 CK", step2, setStep2, 200, 280)}
        {slider("wi-research", "Research items", research, setResearch, 0, 60)}
        {slider("wi-budget", "Applications", budget, setBudget, 1, 120)}
      </div>
      <p aria-live="polite" data-testid="what-if-result">
        {problem && <span class="error">{problem}</span>}
        {result && <>With these: <strong>{percent(result.list_match_probability)}</strong> chance of at least one match over {result.application_list?.length ?? 0} programs (green dashes on the chart below).</>}
      </p>
    </section>
  );
}
