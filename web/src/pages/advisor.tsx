// The advisor's cohort: their own school's students, each one's chance of at least one match, flagged
// below the school's threshold; sort, filter, drill into a student's list, export what is shown as CSV.
import { useEffect, useState } from "preact/hooks";
import { api, requireSession, type Session } from "../api/client";
import { markContent, mount, Page } from "../components/page";
import { RecommendationsView } from "../components/recommendations";
import { cohortCsv, visibleStudents, type CohortStudent, type CohortView, type SortKey } from "../lib/cohort";
import { download } from "../lib/csv";
import { errorMessage } from "../lib/errors";
import { percent } from "../lib/format";
import type { Recommendations } from "../lib/recs";

const COLUMNS: [SortKey, string][] = [["display_name", "Student"], ["specialty", "Specialties"], ["status", "Status"], ["list_match_probability", "Chance of a match"]];

const cohortPage = (token?: string) => api.GET("/v1/cohort", { params: { query: { page_size: 100, page_token: token } } });

/** The first page is asked for by the caller, as soon as the session is known (not after the first paint). */
function Advisor({ session, firstPage }: { session: Session; firstPage: ReturnType<typeof cohortPage> }) {
  const [students, setStudents] = useState<CohortStudent[]>([]);
  const [threshold, setThreshold] = useState(0);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState("");
  const [view, setView] = useState<CohortView>({ query: "", atRiskOnly: false, sort: "list_match_probability", descending: false });
  const [open, setOpen] = useState<{ student: CohortStudent; recs: Recommendations | null; note: string } | null>(null);

  useEffect(() => {
    (async () => {
      let token: string | undefined;
      const all: CohortStudent[] = [];
      do {
        const { data, error } = await (token === undefined ? firstPage : cohortPage(token));
        if (!data) {
          setProblem(errorMessage(error));
          break;
        }
        all.push(...(data.students as CohortStudent[]));
        setThreshold(data.risk_threshold);
        setStudents([...all]);
        token = data.next_page_token ?? undefined;
      } while (token);
      setLoading(false);
    })();
  }, []);
  useEffect(() => {
    if (!loading) markContent(); // after the render that shows the whole cohort
  }, [loading]);

  const drill = async (student: CohortStudent) => {
    setOpen({ student, recs: null, note: "Loading…" });
    const { data, response } = await api.GET("/v1/students/{student_id}/recommendations", { params: { path: { student_id: student.student_id } } });
    if (response.status === 200 && data) setOpen({ student, recs: data as Recommendations, note: "" });
    else setOpen({ student, recs: null, note: student.status === "no_profile" ? "No profile yet." : "Not scored yet; try again in a moment." });
  };
  const sortBy = (key: SortKey) => setView({ ...view, sort: key, descending: view.sort === key && !view.descending });
  const shown = visibleStudents(students, view);
  const atRisk = students.filter((s) => s.at_risk).length;

  return (
    <Page title="Your school's cohort" session={session}>
      <p class="lede">
        {students.length} students · <span class="flag">{atRisk} at risk</span> (estimated chance of at least one match below {percent(threshold)}, the threshold your school set).
        Figures are estimates from public aggregate data.
      </p>
      {problem && <p class="error" role="alert">{problem}</p>}
      <div class="actions">
        <div class="field">
          <label for="filter">Filter by name, id or specialty</label>
          <input id="filter" type="text" value={view.query} onInput={(e) => setView({ ...view, query: (e.target as HTMLInputElement).value })} />
        </div>
        <div class="field check">
          <input id="at-risk-only" type="checkbox" checked={view.atRiskOnly} onChange={(e) => setView({ ...view, atRiskOnly: (e.target as HTMLInputElement).checked })} />
          <label for="at-risk-only">At risk only</label>
        </div>
        <button type="button" class="secondary" onClick={() => download("cohort.csv", cohortCsv(shown, threshold))}>Export CSV</button>
      </div>
      <div class="table-wrap">
        <table data-testid="cohort">
          <caption class="muted">{loading ? "Loading…" : `${shown.length} shown`}</caption>
          <thead>
            <tr>
              {COLUMNS.map(([key, label]) => (
                <th scope="col" key={key} class={key === "list_match_probability" ? "num" : ""} aria-sort={view.sort === key ? (view.descending ? "descending" : "ascending") : "none"}>
                  <button type="button" onClick={() => sortBy(key)}>{label}{view.sort === key ? (view.descending ? " ▼" : " ▲") : ""}</button>
                </th>
              ))}
              <th scope="col">Risk</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.student_id}>
                <td><button type="button" class="secondary" onClick={() => void drill(s)}>{s.display_name}</button><div class="muted">{s.external_ref}</div></td>
                <td>{s.specialties.join(", ") || "–"}</td>
                <td>{s.status.replace("_", " ")}</td>
                <td class="num">{percent(s.list_match_probability)}</td>
                <td>{s.at_risk ? <span class="flag">At risk</span> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open && (
        <section class="card" aria-labelledby="drill-heading">
          <h2 id="drill-heading">{open.student.display_name}</h2>
          {open.note && <p>{open.note}</p>}
          {open.recs && <RecommendationsView recs={open.recs} maxRows={25} heading="Their list" />}
        </section>
      )}
    </Page>
  );
}

void requireSession().then((session) => mount(<Advisor session={session} firstPage={cohortPage()} />));
