// Sign in with the one-time code (or link) a school issued; then on to the page that sent you here.
import { useEffect, useState } from "preact/hooks";
import { api, type Session } from "../api/client";
import { Field } from "../components/field";
import { markContent, mount, Page } from "../components/page";
import { errorMessage } from "../lib/errors";
import { codeFromHash, safeNext } from "../lib/next";

function SignIn() {
  const [code, setCode] = useState(() => codeFromHash(location.hash));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const next = new URLSearchParams(location.search).get("next");

  const submit = async (typed: string) => {
    setBusy(true);
    setError("");
    const { data, error: failure } = await api.POST("/v1/sessions", { body: { code: typed.trim() } });
    setBusy(false);
    if (data) {
      history.replaceState(null, "", location.pathname + location.search); // the code leaves the address bar
      location.assign(safeNext(next, data.home));
    } else setError(errorMessage(failure));
  };

  const [current, setCurrent] = useState<Session | null>(null);
  useEffect(() => {
    markContent();
    if (code) void submit(code); // a sign-in link: sign in at once
    else void api.GET("/v1/session").then(({ data }) => setCurrent(data ?? null));
  }, []);

  return (
    <Page title="Sign in">
      <p class="lede">Use the sign-in link or code your school gave you. Each works once.</p>
      {next && <p class="note">Your session ended; sign in again to go back where you were.</p>}
      {current && !next && (
        <p class="note">
          You are signed in{current.label ? ` as ${current.label}` : ""}. <a href={current.home}>Go to your page</a>.
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit(code);
        }}
      >
        <Field id="code" label="Sign-in code" error={error} hint="For example ABCD-EFGH-IJKL-MNOP-QRST-UVWX">
          {(aria) => <input {...aria} type="text" name="code" autoComplete="one-time-code" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />}
        </Field>
        <div class="actions"><button type="submit" disabled={busy || !code.trim()}>{busy ? "Signing in…" : "Sign in"}</button></div>
      </form>
      <p>No account? <a href="/">Try Smart Pick without one</a>.</p>
    </Page>
  );
}

mount(<SignIn />);
