// Try it, no account: score a profile against the public catalog; nothing is stored.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import { markContent, mount, Page } from "../components/page";
import { ProfileForm } from "../components/profile-form";
import { RecommendationsView } from "../components/recommendations";
import { errorMessage } from "../lib/errors";
import { bodyFromDraft, EMPTY_DRAFT, formErrors, type Draft } from "../lib/profile";
import type { Recommendations } from "../lib/recs";
import { cityNames, specialtyNames } from "../lib/specialties";

const START: Draft = { ...EMPTY_DRAFT, step2_ck_score: "250", research_items: "8", specialties: "Dermatology", application_budget: "40" };

function TryIt() {
  const [draft, setDraft] = useState<Draft>(START);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [recs, setRecs] = useState<Recommendations | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  const [specialties, setSpecialties] = useState<string[]>([]);
  const [cities, setCities] = useState<string[]>([]);
  useEffect(() => {
    markContent();
    void specialtyNames().then(setSpecialties);
    void cityNames().then(setCities);
  }, []);

  const score = async () => {
    setBusy(true);
    setProblem("");
    const { data, error, response } = await api.POST("/v1/try-it", { body: bodyFromDraft(draft) as never });
    setBusy(false);
    if (data) {
      setErrors({});
      setRecs(data as Recommendations);
      return;
    }
    if (response.status === 422) setErrors(formErrors((error as { detail?: unknown }).detail));
    else if (response.status === 429)
      setProblem(`Too many tries from your address just now; try again in ${response.headers.get("Retry-After") ?? "a few"} seconds.`);
    else setProblem(errorMessage(error));
  };

  return (
    <Page title="Where could you match? Try it, no account needed">
      <p class="lede">100% free to try. Enter your scores and what you are applying for; get an optimized, explained list at once.</p>
      <p class="note" data-testid="nothing-kept">
        <strong>Nothing is kept.</strong> What you enter here is scored and forgotten: it is not stored, logged or
        shared. Sign in through your school to save a profile.
      </p>
      <ProfileForm draft={draft} onChange={setDraft} errors={errors} onSubmit={() => void score()} submitLabel="Show my list" busy={busy} specialties={specialties} cities={cities} />
      <div aria-live="polite">
        {problem && <p class="error" role="alert">{problem}</p>}
        {recs && <RecommendationsView recs={recs} />}
      </div>
    </Page>
  );
}

mount(<TryIt />);
