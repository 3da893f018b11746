// The typed API client: generated types (schema.d.ts, from the gateway's OpenAPI) over openapi-fetch.
// Every state-changing request carries the session's CSRF token; a 401 sends the person to sign in and back.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Session = Schemas["SessionOut"];

let csrfToken = "";
// Set while signing out: the page's requests still in flight then answer 401, and must not send the
// person to sign in and back to the page they just left.
let signingOut = false;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function signInUrl(next: string): string {
  return `/signin?next=${encodeURIComponent(next)}`;
}

const session: Middleware = {
  onRequest({ request }) {
    if (!["GET", "HEAD", "OPTIONS"].includes(request.method) && csrfToken) {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
  onResponse({ response, request }) {
    const path = new URL(request.url).pathname;
    if (response.status === 401 && !signingOut && path !== "/v1/sessions" && path !== "/v1/session") {
      window.location.assign(signInUrl(window.location.pathname + window.location.search));
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: typeof window === "undefined" ? "" : window.location.origin });
api.use(session);

/** The signed-in person, or a trip to the sign-in page (and back here afterwards). */
export async function requireSession(): Promise<Session> {
  const { data } = await api.GET("/v1/session");
  if (!data) {
    window.location.assign(signInUrl(window.location.pathname + window.location.search));
    return new Promise(() => {});
  }
  setCsrfToken(data.csrf_token);
  return data;
}

export async function signOut(): Promise<void> {
  signingOut = true;
  await api.DELETE("/v1/session");
  window.location.assign("/signin");
}
