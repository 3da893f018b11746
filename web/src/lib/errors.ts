// The API's error bodies, made into what a person can act on: a message per form field, or one sentence.

export type FieldErrors = Record<string, string>;

interface Violation {
  loc?: (string | number)[];
  msg?: string;
}

/** FastAPI's 422 detail (a list of violations, loc ["body", ...path]) as dotted field -> message. */
export function fieldErrors(detail: unknown): FieldErrors {
  if (!Array.isArray(detail)) return {};
  const errors: FieldErrors = {};
  for (const v of detail as Violation[]) {
    const loc = (v.loc ?? []).filter((part, i) => !(i === 0 && (part === "body" || part === "query")));
    const field = loc.join(".") || "form";
    if (!errors[field]) errors[field] = (v.msg ?? "is not valid").replace(/^Value error, /, "");
  }
  return errors;
}

/** One readable sentence for any error body. */
export function errorMessage(error: unknown, fallback = "Something went wrong; please try again."): string {
  const detail = (error as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  const fields = fieldErrors(detail);
  const entries = Object.entries(fields);
  if (entries.length) return entries.map(([f, m]) => `${f}: ${m}`).join("; ");
  return fallback;
}
