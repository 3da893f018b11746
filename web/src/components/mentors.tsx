// The student's mentorship: ask for a mentor (goals, specialties), the suggested mentors with their
// reasons, and the matches made (proposed, accepted, ended).
import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { errorMessage } from "../lib/errors";
import { percent, splitList } from "../lib/format";

const GOALS = [["applications", "Applications"], ["research", "Research"], ["interviews", "Interviews"], ["wellbeing", "Wellbeing"]] as const;
type Goal = (typeof GOALS)[number][0];

export function Mentors({ studentId }: { studentId: string }) {
  const path = { params: { path: { student_id: studentId } } };
  const [goals, setGoals] = useState<Goal[]>(["applications"]);
  const [specialties, setSpecialties] = useState("");
  const [requested, setRequested] = useState(false);
  const [suggestions, setSuggestions] = useState<Schemas["SuggestionOut"][]>([]);
  const [matches, setMatches] = useState<Schemas["MatchOut"][]>([]);
  const [message, setMessage] = useState("");

  const refresh = async () => {
    const [s, m] = await Promise.all([api.GET("/v1/students/{student_id}/mentor-suggestions", path), api.GET("/v1/students/{student_id}/mentor-matches", path)]);
    setSuggestions(s.data?.suggestions ?? []);
    setMatches(m.data?.matches ?? []);
  };
  useEffect(() => {
    void api.GET("/v1/students/{student_id}/mentorship-request", path).then(({ data }) => {
      if (!data) return;
      setRequested(true);
      setGoals(data.request.goals as Goal[]);
      setSpecialties((data.request.preferred_specialties ?? []).join(", "));
    });
    void refresh();
  }, []);

  const ask = async () => {
    const { data, error } = await api.PUT("/v1/students/{student_id}/mentorship-request", { ...path, body: { goals, preferred_specialties: splitList(specialties) } });
    if (data) {
      setRequested(true);
      setMessage("Request saved: your school's next matching round includes you.");
      await refresh();
    } else setMessage(errorMessage(error));
  };
  const toggle = (g: Goal) => setGoals(goals.includes(g) ? goals.filter((x) => x !== g) : [...goals, g]);

  return (
    <section aria-labelledby="mentors-heading">
      <h2 id="mentors-heading">Mentors</h2>
      <fieldset class="card">
        <legend>{requested ? "Your mentorship request" : "Ask for a mentor"}</legend>
        <div class="grid">
          {GOALS.map(([g, label]) => (
            <div class="field check" key={g}>
              <input id={`goal-${g}`} type="checkbox" checked={goals.includes(g)} onChange={() => toggle(g)} />
              <label for={`goal-${g}`}>{label}</label>
            </div>
          ))}
          <div class="field">
            <label for="mentor-specialties">Mentor specialties</label>
            <input id="mentor-specialties" type="text" value={specialties} onInput={(e) => setSpecialties((e.target as HTMLInputElement).value)} />
          </div>
        </div>
        <div class="actions">
          <button type="button" onClick={() => void ask()}>{requested ? "Update request" : "Request a mentor"}</button>
          <span aria-live="polite" data-testid="mentor-message">{message}</span>
        </div>
      </fieldset>
      {matches.length > 0 && (
        <>
          <h3>Your matches</h3>
          <ul data-testid="matches">{matches.map((m) => <li key={m.match_id}>{m.mentor_name} ({m.mentor_specialty}): {m.status}</li>)}</ul>
        </>
      )}
      <h3>Suggested mentors</h3>
      {suggestions.length === 0 ? (
        <p class="muted">No mentor with a free place fits yet.</p>
      ) : (
        <ul data-testid="suggestions">
          {suggestions.map((s) => (
            <li key={s.mentor.mentor_id}>
              <strong>{s.mentor.display_name}</strong>, {s.mentor.specialty}{s.mentor.institution && `, ${s.mentor.institution}`}: fit {percent(s.score)}
              <div class="muted">{s.reasons.slice(0, 3).map((r) => r.text).join(" · ")}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
