// Specialty and city names for the forms' suggestions, from GET /v1/specialties and GET /v1/cities where the
// API has them and the person may read them (signed in); none otherwise, and the server's message names an
// unknown specialty or city and the closest known ones.

async function names(path: "/v1/specialties" | "/v1/cities"): Promise<string[]> {
  try {
    const reply = await fetch(path, { credentials: "same-origin" });
    if (!reply.ok) return [];
    const body = (await reply.json()) as { name?: string }[];
    return Array.isArray(body) ? body.map((s) => s.name ?? "").filter(Boolean) : [];
  } catch {
    return [];
  }
}

export const specialtyNames = () => names("/v1/specialties");
export const cityNames = () => names("/v1/cities");
