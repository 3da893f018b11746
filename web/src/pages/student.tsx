// The student's page: the profile form, the list (pending while the workers score, updated without a
// reload), the what-if controls and the mentors. The saved profile is asked for alone, first: what else the page
// needs (specialty names, the mentors) is asked for once it has shown, so it never queues in front of it. The
// profile is asked for as soon as the session is known, while the page renders, not after its first paint.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, requireSession, type Session } from "../api/client";
import { Mentors } from "../components/mentors";
import { markContent, mount, Page } from "../components/page";
import { ProfileForm } from "../components/profile-form";
import { RecommendationsView } from "../components/recommendations";
import { WhatIf } from "../components/what-if";
import { errorMessage } from "../lib/errors";
import { pollUntilReady } from "../lib/poll";
import { bodyFromDraft, draftFromBody, EMPTY_DRAFT, formErrors, type Draft, type ProfileBody } from "../lib/profile";
import type { Recommendations } from "../lib/recs";
import { cityNames, specialtyNames } from "../lib/specialties";

const savedProfile = (studentId: string) => api.GET("/v1/students/{student_id}/profile", { params: { path: { student_id: studentId } } });

function Student({ session, profile }: { session: Session; profile: ReturnType<typeof savedProfile> }) {
  const studentId = session.student_id!;
  const path = { params: { path: { student_id: studentId } } };
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [saved, setSaved] = useState<ProfileBody | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saveNote, setSaveNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [recs, setRecs] = useState<Recommendations | null>(null);
  const [pendingVersion, setPendingVersion] = useState<number | null>(null);
  const [whatIf, setWhatIf] = useState<Recommendations | null>(null);
  const [specialties, setSpecialties] = useState<string[]>([]);
  const [cities, setCities] = useState<string[]>([]);
  const [loaded, setLoaded] = useState(false);
  const polling = useRef<AbortController | null>(null);

  const follow = (version: number) => {
    polling.current?.abort();
    const control = (polling.current = new AbortController());
    setPendingVersion(version);
    void pollUntilReady(async () => {
      const { data, response } = await api.GET("/v1/students/{student_id}/recommendations", path);
      const ready = response.status === 200 && data && data.profile_version >= version ? (data as Recommendations) : null;
      return { ready, retryAfterSeconds: Number(response.headers.get("Retry-After") ?? 1) };
    }, control.signal).then((ready) => {
      if (!ready) return;
      setRecs(ready);
      setPendingVersion(null);
    });
  };

  useEffect(() => {
    void profile.then(({ data }) => {
      setLoaded(true);
      if (!data) return; // no profile yet: the empty form
      const body = data.profile as ProfileBody;
      setDraft(draftFromBody(body));
      setSaved(body);
      follow(data.version);
    });
    return () => polling.current?.abort();
  }, []);
  useEffect(() => {
    if (!loaded) return;
    markContent(); // after the render that shows the saved profile
    void specialtyNames().then(setSpecialties);
    void cityNames().then(setCities);
  }, [loaded]);

  const save = async () => {
    setBusy(true);
    setSaveNote("");
    const body = bodyFromDraft(draft);
    const { data, error, response } = await api.PUT("/v1/students/{student_id}/profile", {
      params: { path: { student_id: studentId }, header: { "Idempotency-Key": crypto.randomUUID() } },
      body: body as never,
    });
    setBusy(false);
    if (data) {
      setErrors({});
      setSaved(body);
      setSaveNote(data.created ? `Saved as version ${data.version}.` : `No change (version ${data.version}).`);
      follow(data.version);
    } else if (response.status === 422) {
      setErrors(formErrors((error as { detail?: unknown }).detail));
      setSaveNote("Not saved: fix the fields marked below. What you typed is kept.");
    } else setSaveNote(`Not saved: ${errorMessage(error)} What you typed is kept.`);
  };

  return (
    <Page title="Your residency list" session={session}>
      <section aria-labelledby="profile-heading">
        <h2 id="profile-heading">Your profile</h2>
        <ProfileForm draft={draft} onChange={setDraft} errors={errors} onSubmit={() => void save()} submitLabel="Save profile" busy={busy} specialties={specialties} cities={cities} />
        <p aria-live="polite" data-testid="save-note">{saveNote}</p>
      </section>
      <div aria-live="polite">
        {pendingVersion !== null && (
          <p class="status" role="status" data-testid="pending">Scoring version {pendingVersion} of your profile… this page updates by itself.</p>
        )}
      </div>
      {saved && recs && <WhatIf studentId={studentId} saved={saved} onResult={setWhatIf} />}
      {recs && <RecommendationsView recs={recs} compare={whatIf?.curve} />}
      {!saved && <p class="muted">Save your profile to get your list.</p>}
      {loaded && <Mentors studentId={studentId} />}
    </Page>
  );
}

void requireSession().then((session) => mount(<Student session={session} profile={savedProfile(session.student_id!)} />));
