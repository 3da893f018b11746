// The school's program facts as a CSV upload: all rows or none, and every wrong row named with its column.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { errorMessage } from "../lib/errors";

interface RowError {
  row: number;
  column: string;
  message: string;
}

export function ProgramFacts() {
  const [csv, setCsv] = useState("");
  const [rowErrors, setRowErrors] = useState<RowError[]>([]);
  const [message, setMessage] = useState("");

  const upload = async () => {
    const { data, error, response } = await api.PUT("/v1/programs/facts", {
      body: csv as never,
      bodySerializer: (text: unknown) => text as string,
      headers: { "Content-Type": "text/csv" },
    });
    if (data) {
      setRowErrors([]);
      const rescoring = (data as { rescoring_students?: number }).rescoring_students;
      setMessage(`Applied: ${data.updated_programs} programs updated.${rescoring ? ` ${rescoring} students' lists are being re-scored.` : ""}`);
      return;
    }
    const body = (error ?? {}) as { detail?: unknown; errors?: RowError[] };
    setRowErrors(response.status === 422 && Array.isArray(body.errors) ? body.errors : []);
    setMessage(typeof body.detail === "string" ? body.detail : errorMessage(error));
  };
  const pick = async (file: File | undefined) => file && setCsv(await file.text());

  return (
    <section aria-labelledby="facts-heading">
      <h2 id="facts-heading">Program facts</h2>
      <p class="lede">Your school's facts about programs (visa sponsorship, IMG/DO share, size, type) as CSV, one program per row.</p>
      <div class="field">
        <label for="facts-file">CSV file</label>
        <input id="facts-file" type="file" accept=".csv,text/csv" onChange={(e) => void pick((e.target as HTMLInputElement).files?.[0])} />
      </div>
      <div class="field">
        <label for="facts-csv">Or paste the CSV</label>
        <textarea id="facts-csv" rows={6} value={csv} onInput={(e) => setCsv((e.target as HTMLTextAreaElement).value)} />
      </div>
      <div class="actions"><button type="button" disabled={!csv.trim()} onClick={() => void upload()}>Upload facts</button></div>
      <p aria-live="polite" role="status" data-testid="facts-message">{message}</p>
      {rowErrors.length > 0 && (
        <div class="table-wrap">
          <table data-testid="row-errors">
            <caption>Rows to fix (nothing was applied)</caption>
            <thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
            <tbody>{rowErrors.map((e) => <tr key={`${e.row}-${e.column}`}><td>{e.row}</td><td>{e.column}</td><td>{e.message}</td></tr>)}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
