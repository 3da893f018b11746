// An optimized list as a student reads it: the chance of a match, the curve, the signal plan, and each
// program with its tier, probabilities and the reasons that moved them. Always labelled an estimate.
import { dollars, interval, percent, tierLabel } from "../lib/format";
import { factSources, listFigures, matchInterval, programSignal, type ProgramRec, type Recommendations } from "../lib/recs";
import type { CurvePoint } from "../lib/curve";
import { CurveChart } from "./curve-chart";

interface Props {
  recs: Recommendations;
  compare?: CurvePoint[];
  maxRows?: number;
  heading?: string;
}

export function RecommendationsView({ recs, compare, maxRows, heading = "Your list" }: Props) {
  const figures = listFigures(recs);
  const programs = (recs.application_list ?? []) as ProgramRec[];
  const gold = programs.filter((p) => programSignal(p) === "top");
  const silver = programs.filter((p) => programSignal(p) === "second");
  const plan = figures.signalPlan;
  const shown = maxRows ? programs.slice(0, maxRows) : programs;
  return (
    <section aria-labelledby="list-heading">
      <h2 id="list-heading">{heading}</h2>
      <p class="note">
        <strong>Estimate.</strong> {recs.estimate_note} {recs.disclaimer}
      </p>
      <div class="summary">
        <div>
          <div class="figure" data-testid="list-chance">{percent(recs.list_match_probability)}</div>
          <div>chance of at least one match, applying to all {recs.total_programs ?? programs.length}</div>
          {figures.listInterval && <div class="muted">likely range {interval(...figures.listInterval)}</div>}
        </div>
        {figures.expectedInterviews !== null && (
          <div><div class="figure">{figures.expectedInterviews.toFixed(1)}</div><div>expected interview offers</div></div>
        )}
        {figures.costUsd !== null && (
          <div>
            <div class="figure">{dollars(figures.costUsd)}</div>
            <div>application fees for the list{figures.feeSchedule && <span class="muted"> ({figures.feeSchedule})</span>}</div>
          </div>
        )}
      </div>
      <p class="muted">
        Model <span data-testid="model-version">{recs.model_version ?? "–"}</span>
        {figures.vintage && <> · data as of {figures.vintage}</>}
        {Object.keys(recs.excluded ?? {}).length > 0 && (
          <> · left out: {Object.entries(recs.excluded ?? {}).map(([why, n]) => `${n} (${why})`).join(", ")}</>
        )}
      </p>
      {figures.notes.map((n) => <p class="note" key={n}>{n}</p>)}
      {figures.topReasons.length > 0 && (
        <><h3>What moves your list most</h3><ul>{figures.topReasons.map((r) => <li key={r.text}>{r.text}</li>)}</ul></>
      )}
      <h3>Chance against the number of applications</h3>
      <CurveChart curve={recs.curve ?? []} diminishingAt={figures.diminishingAt} compare={compare} />
      {!figures.diminishingFromServer && figures.diminishingAt !== null && (
        <p class="muted">The dashed line marks where each further application adds under half a percentage point.</p>
      )}
      {(plan || gold.length > 0 || silver.length > 0) && (
        <section aria-labelledby="signal-heading">
          <h3 id="signal-heading">Signal plan</h3>
          {plan && (
            <p>
              {plan.planned ? "Suggested signals" : "Your signals, as you sent them"}: {plan.top_used} of {plan.top_available} gold
              {plan.second_available > 0 && <>, {plan.second_used} of {plan.second_available} silver</>}.
            </p>
          )}
          <ul data-testid="signal-plan">
            {gold.map((p) => <li key={p.program_id}>Gold signal: {p.name}</li>)}
            {silver.map((p) => <li key={p.program_id}>Silver signal: {p.name}</li>)}
          </ul>
        </section>
      )}
      <h3>Programs, in the order to apply</h3>
      <div class="table-wrap">
        <table data-testid="program-list">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Program</th>
              <th scope="col">Tier</th>
              <th scope="col" class="num">Match (estimate)</th>
              <th scope="col" class="num hide-narrow">Interview</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p, i) => {
              const band = matchInterval(p);
              return (
                <tr key={p.program_id}>
                  <td>{i + 1}</td>
                  <td>{p.name}<div class="muted">{p.city}, {p.state}</div></td>
                  <td><span class={`tier tier-${p.tier}`}>{tierLabel(p.tier)}</span></td>
                  <td class="num">{percent(p.match_probability)}{band && <div class="muted">{interval(...band)}</div>}</td>
                  <td class="num hide-narrow">{percent(p.interview_probability)}</td>
                  <td>
                    {programSignal(p) && <div><strong>{programSignal(p) === "top" ? "Gold" : "Silver"} signal</strong></div>}
                    {p.reasons.length > 0 && (
                      <details>
                        <summary>{p.reasons[0].text}</summary>
                        <ul>{p.reasons.map((r) => <li key={r.feature}>{r.text} ({r.effect >= 0 ? "+" : "−"}{percent(Math.abs(r.effect))})</li>)}</ul>
                        {factSources(p).length > 0 && <p class="muted">Facts: {factSources(p).join("; ")}</p>}
                      </details>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {maxRows && programs.length > maxRows && <p class="muted">Showing the first {maxRows} of {programs.length}.</p>}
    </section>
  );
}
