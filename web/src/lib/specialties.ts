// Specialty names for the forms' suggestions, from GET /v1/specialties where the API has it and the
// person may read it (signed in); none otherwise, and the server's message names an unknown specialty.

export async function specialtyNames(): Promise<string[]> {
  try {
    const reply = await fetch("/v1/specialties", { credentials: "same-origin" });
    if (!reply.ok) return [];
    const body = (await reply.json()) as { name?: string }[];
    return Array.isArray(body) ? body.map((s) => s.name ?? "").filter(Boolean) : [];
  } catch {
    return [];
  }
}
