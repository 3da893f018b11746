// Mentorship rounds (run a draft, review it, publish it), the matching weights, and the cohort's risk threshold.
import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { errorMessage } from "../lib/errors";
import { percent } from "../lib/format";

const CRITERIA = ["specialty", "subspecialty", "research", "geography", "institution", "goals", "availability", "language"];

export function Matching() {
  const [round, setRound] = useState<Schemas["RoundOut"] | null>(null);
  const [policy, setPolicy] = useState<Schemas["PolicyIn"] | null>(null);
  const [threshold, setThreshold] = useState("");
  const [message, setMessage] = useState("");

  useEffect(() => {
    void api.GET("/v1/mentorship/policy").then(({ data }) => data && setPolicy(data));
    void api.GET("/v1/cohort/settings").then(({ data }) => data && setThreshold(String(Math.round(data.risk_threshold * 100))));
  }, []);

  const run = async () => {
    const { data, error } = await api.POST("/v1/mentorship/rounds");
    setRound(data ?? null);
    setMessage(data ? `Draft round: ${data.proposals.length} proposals for ${data.cohort_size} students; review, then publish.` : errorMessage(error));
  };
  const publish = async () => {
    if (!round) return;
    const { data, error } = await api.POST("/v1/mentorship/rounds/{round_id}/publish", { params: { path: { round_id: round.round_id } } });
    if (data) setRound(data);
    setMessage(data ? "Published: mentors see their proposals now." : errorMessage(error));
  };
  const savePolicy = async () => {
    if (!policy) return;
    const { data, error } = await api.PUT("/v1/mentorship/policy", { body: policy });
    setMessage(data ? "Weights saved." : errorMessage(error));
  };
  const saveThreshold = async () => {
    const { data, error } = await api.PUT("/v1/cohort/settings", { body: { risk_threshold: Number(threshold) / 100 } });
    setMessage(data ? `Students below ${percent(data.risk_threshold)} are flagged at risk.` : errorMessage(error));
  };

  return (
    <section aria-labelledby="matching-heading">
      <h2 id="matching-heading">Mentorship rounds and settings</h2>
      <p aria-live="polite" role="status" data-testid="matching-message">{message}</p>
      <div class="actions">
        <button type="button" onClick={() => void run()}>Run a round</button>
        {round?.status === "draft" && <button type="button" onClick={() => void publish()}>Publish round</button>}
      </div>
      {round && (
        <div class="table-wrap">
          <table data-testid="round">
            <caption>Round {round.round_id.slice(0, 8)}: {round.status}, total fit {round.total_score}</caption>
            <thead><tr><th scope="col">Student</th><th scope="col">Mentor</th><th scope="col" class="num">Fit</th></tr></thead>
            <tbody>{round.proposals.map((p) => <tr key={p.match_id}><td><code>{p.student_id.slice(0, 8)}</code></td><td>{p.mentor_name}</td><td class="num">{percent(p.score)}</td></tr>)}</tbody>
          </table>
        </div>
      )}
      {policy && (
        <fieldset class="card">
          <legend>Matching weights</legend>
          <div class="grid">
            {CRITERIA.map((c) => (
              <div class="field" key={c}>
                <label for={`w-${c}`}>{c}</label>
                <input id={`w-${c}`} type="number" min={0} step={0.1} value={policy.weights[c] ?? 0} onInput={(e) => setPolicy({ ...policy, weights: { ...policy.weights, [c]: Number((e.target as HTMLInputElement).value) } })} />
              </div>
            ))}
          </div>
          <div class="actions"><button type="button" onClick={() => void savePolicy()}>Save weights</button></div>
        </fieldset>
      )}
      <fieldset class="card">
        <legend>Risk threshold for advisors</legend>
        <div class="field">
          <label for="threshold">Flag students whose chance of a match is below (%)</label>
          <input id="threshold" type="number" min={1} max={99} value={threshold} onInput={(e) => setThreshold((e.target as HTMLInputElement).value)} />
        </div>
        <div class="actions"><button type="button" onClick={() => void saveThreshold()}>Save threshold</button></div>
      </fieldset>
    </section>
  );
}
