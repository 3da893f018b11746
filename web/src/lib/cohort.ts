// The advisor's cohort table: sorting, filtering and the CSV of what is shown.
import { toCsv } from "./csv";

export interface CohortStudent {
  student_id: string;
  display_name: string;
  external_ref: string;
  status: string;
  profile_version: number;
  scored_version: number;
  specialties: string[];
  list_match_probability?: number | null;
  model_version?: string | null;
  at_risk: boolean;
}

export type SortKey = "display_name" | "list_match_probability" | "status" | "specialty";

export interface CohortView {
  query: string;
  atRiskOnly: boolean;
  sort: SortKey;
  descending: boolean;
}

function sortValue(s: CohortStudent, key: SortKey): string | number {
  switch (key) {
    case "list_match_probability":
      return s.list_match_probability ?? -1; // students without figures sort below everyone
    case "specialty":
      return (s.specialties[0] ?? "").toLowerCase();
    default:
      return String(s[key]).toLowerCase();
  }
}

export function visibleStudents(students: CohortStudent[], view: CohortView): CohortStudent[] {
  const query = view.query.trim().toLowerCase();
  const shown = students.filter(
    (s) =>
      (!view.atRiskOnly || s.at_risk) &&
      (!query ||
        s.display_name.toLowerCase().includes(query) ||
        s.external_ref.toLowerCase().includes(query) ||
        s.specialties.some((sp) => sp.toLowerCase().includes(query))),
  );
  const sign = view.descending ? -1 : 1;
  return shown.sort((a, b) => {
    const x = sortValue(a, view.sort);
    const y = sortValue(b, view.sort);
    if (x === y) return a.display_name.localeCompare(b.display_name);
    return (x < y ? -1 : 1) * sign;
  });
}

export function cohortCsv(students: CohortStudent[], threshold: number): string {
  return toCsv(
    ["student_id", "external_ref", "name", "specialties", "status", "chance_of_a_match", "at_risk", "risk_threshold", "model_version"],
    students.map((s) => [
      s.student_id,
      s.external_ref,
      s.display_name,
      s.specialties.join("; "),
      s.status,
      s.list_match_probability === null || s.list_match_probability === undefined ? "" : s.list_match_probability.toFixed(4),
      s.at_risk,
      threshold,
      s.model_version ?? "",
    ]),
  );
}
