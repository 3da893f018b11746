// The mentor's inbox: proposals to accept or decline, current mentees, and their own capacity.
import { useEffect, useState } from "preact/hooks";
import { api, requireSession, type Schemas, type Session } from "../api/client";
import { markContent, mount, Page } from "../components/page";
import { errorMessage } from "../lib/errors";
import { percent, splitList } from "../lib/format";

type Match = Schemas["MatchOut"];

function MentorInbox({ session }: { session: Session }) {
  const mentorId = session.mentor_id!;
  const path = { params: { path: { mentor_id: mentorId } } };
  const [pending, setPending] = useState<Match[]>([]);
  const [current, setCurrent] = useState<Match[]>([]);
  const [mentor, setMentor] = useState<Schemas["MentorOut"] | null>(null);
  const [capacity, setCapacity] = useState("");
  const [accepting, setAccepting] = useState(true);
  const [about, setAbout] = useState({ institution: "", state: "", research: "", languages: "", hours: "" });
  const [message, setMessage] = useState("");
  const [notes, setNotes] = useState<Record<string, string>>({});

  const refresh = async () => {
    const [inbox, me] = await Promise.all([api.GET("/v1/mentorship/mentors/{mentor_id}/inbox", path), api.GET("/v1/mentorship/mentors/{mentor_id}", path)]);
    setPending(inbox.data?.pending ?? []);
    setCurrent(inbox.data?.current ?? []);
    if (me.data) {
      setMentor(me.data);
      setCapacity(String(me.data.capacity));
      setAccepting(me.data.accepting_new_mentees ?? true);
      setAbout({
        institution: me.data.institution ?? "",
        state: me.data.state ?? "",
        research: (me.data.research_interests ?? []).join(", "),
        languages: (me.data.languages ?? []).join(", "),
        hours: String(me.data.availability_hours_per_month ?? ""),
      });
    }
  };
  useEffect(() => void refresh().then(markContent), []);

  const answer = async (match: Match, accept: boolean) => {
    const params = { params: { path: { match_id: match.match_id } } };
    const { data, error } = accept
      ? await api.POST("/v1/mentorship/matches/{match_id}/accept", params)
      : await api.POST("/v1/mentorship/matches/{match_id}/decline", { ...params, body: { note: notes[match.match_id] ?? "" } });
    setMessage(data ? (accept ? "Accepted: the student is told." : "Declined: the student is offered another mentor.") : errorMessage(error));
    await refresh();
  };
  const saveCapacity = async () => {
    if (!mentor) return;
    const body: Schemas["MentorIn"] = {
      display_name: mentor.display_name,
      specialty: mentor.specialty,
      subspecialties: mentor.subspecialties,
      institution: about.institution,
      state: about.state.trim().toUpperCase(),
      research_interests: splitList(about.research),
      languages: splitList(about.languages),
      goals: mentor.goals,
      capacity: Number(capacity),
      availability_hours_per_month: Number(about.hours),
      accepting_new_mentees: accepting,
      accepts_other_schools: mentor.accepts_other_schools,
    };
    const { data, error } = await api.PUT("/v1/mentorship/mentors/{mentor_id}", { ...path, body });
    setMessage(data ? "Saved." : errorMessage(error));
    if (data) setMentor(data);
  };

  return (
    <Page title="Your mentorship inbox" session={session}>
      <p aria-live="polite" data-testid="mentor-message">{message}</p>
      <h2>Waiting for your answer</h2>
      {pending.length === 0 && <p class="muted">No proposals waiting.</p>}
      {pending.map((m) => (
        <article class="card" key={m.match_id} data-testid="proposal">
          <h3>Proposed mentee (fit {percent(m.score)})</h3>
          <ul>{m.reasons.slice(0, 4).map((r) => <li key={r.criterion}>{r.text}</li>)}</ul>
          <div class="field">
            <label for={`note-${m.match_id}`}>Note if you decline (optional)</label>
            <input id={`note-${m.match_id}`} type="text" value={notes[m.match_id] ?? ""} onInput={(e) => setNotes({ ...notes, [m.match_id]: (e.target as HTMLInputElement).value })} />
          </div>
          <div class="actions">
            <button type="button" onClick={() => void answer(m, true)}>Accept</button>
            <button type="button" class="secondary" onClick={() => void answer(m, false)}>Decline</button>
          </div>
        </article>
      ))}
      <h2>Your mentees</h2>
      {current.length === 0 ? <p class="muted">None yet.</p> : <ul data-testid="current">{current.map((m) => <li key={m.match_id}>Mentee since {m.updated_at.slice(0, 10)} (fit {percent(m.score)})</li>)}</ul>}
      {mentor && (
        <section class="card" aria-labelledby="capacity-heading">
          <h2 id="capacity-heading">Capacity and profile</h2>
          <p>{mentor.display_name}, {mentor.specialty}: {mentor.held_slots} of {mentor.capacity} places in use.</p>
          <div class="grid">
            <div class="field">
              <label for="capacity">Most mentees at once</label>
              <input id="capacity" type="number" min={0} value={capacity} onInput={(e) => setCapacity((e.target as HTMLInputElement).value)} />
            </div>
            <div class="field check">
              <input id="accepting" type="checkbox" checked={accepting} onChange={(e) => setAccepting((e.target as HTMLInputElement).checked)} />
              <label for="accepting">Accepting new mentees</label>
            </div>
            {(
              [
                ["institution", "Institution"],
                ["state", "State (two letters)"],
                ["research", "Research interests (comma-separated)"],
                ["languages", "Languages (comma-separated)"],
                ["hours", "Hours a month for each mentee"],
              ] as const
            ).map(([key, label]) => (
              <div class="field" key={key}>
                <label for={`about-${key}`}>{label}</label>
                <input id={`about-${key}`} type="text" value={about[key]} onInput={(e) => setAbout({ ...about, [key]: (e.target as HTMLInputElement).value })} />
              </div>
            ))}
          </div>
          <div class="actions"><button type="button" onClick={() => void saveCapacity()}>Save</button></div>
        </section>
      )}
    </Page>
  );
}

void requireSession().then((session) => mount(<MentorInbox session={session} />));
