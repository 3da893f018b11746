// What every page shares: the header (with sign-out for people signed in), the main landmark, mounting.
import type { ComponentChildren } from "preact";
import { render } from "preact";
import { signOut, type Session } from "../api/client";
import "../styles.css";

const LINKS: Record<string, [string, string][]> = {
  student: [["/student", "My list"]],
  advisor: [["/advisor", "Cohort"]],
  mentor: [["/mentor", "Inbox"]],
  school_admin: [["/admin", "Admin"], ["/advisor", "Cohort"]],
};

export function Page(props: { session?: Session; title: string; children: ComponentChildren }) {
  const { session } = props;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/">Smart Pick</a>
        <nav aria-label="Pages">
          {(session ? LINKS[session.role] ?? [] : [["/", "Try it"], ["/signin", "Sign in"]]).map(([href, text]) => (
            <a href={href} key={href} aria-current={location.pathname === href ? "page" : undefined}>{text}</a>
          ))}
          <a href="/docs">API</a>
        </nav>
        {session && (
          <>
            <span class="who">{session.label || session.role}</span>
            <button class="secondary" type="button" onClick={() => void signOut()}>Sign out</button>
          </>
        )}
      </header>
      <main id="main">
        <h1>{props.title}</h1>
        {props.children}
      </main>
    </>
  );
}

export function mount(node: ComponentChildren): void {
  const root = document.getElementById("app")!;
  root.textContent = ""; // the static "Loading…" goes; Preact would keep it beside the page
  render(node, root);
}

/** Marks the moment the page shows what it is for (read by the browser tests' paint measurement). */
export function markContent(): void {
  if (!performance.getEntriesByName("smartpick:content").length) performance.mark("smartpick:content");
}
