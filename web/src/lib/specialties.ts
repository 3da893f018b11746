// Specialty names for the forms' suggestions, from the API when it lists them (GET /v1/specialties).

export async function specialtyNames(): Promise<string[]> {
  try {
    const reply = await fetch("/v1/specialties", { credentials: "same-origin" });
    if (!reply.ok) return [];
    const body = (await reply.json()) as { specialties?: ({ name?: string } | string)[] };
    return (body.specialties ?? []).map((s) => (typeof s === "string" ? s : s.name ?? "")).filter(Boolean);
  } catch {
    return [];
  }
}
