// Where to go after signing in: only a path on this site (never another origin), else the role's page.

export function safeNext(next: string | null, fallback: string): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  return next;
}

/** The sign-in code a link carries after '#code=' (the fragment never reaches a server's logs). */
export function codeFromHash(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, "")).get("code") ?? "";
}
