// A labelled form field whose error (the server's message, usually) is announced and tied to the input.
import type { ComponentChildren } from "preact";

interface Props {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: (aria: Record<string, string | boolean | undefined>) => ComponentChildren;
  check?: boolean;
}

export function Field({ id, label, error, hint, children, check }: Props) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  const control = children({ id, "aria-invalid": error ? "true" : undefined, "aria-describedby": described });
  return (
    <div class={check ? "field check" : "field"}>
      {check && control}
      <label for={id}>{label}</label>
      {!check && control}
      {hint && <span class="hint" id={`${id}-hint`}>{hint}</span>}
      {error && <span class="error" id={`${id}-error`} role="alert">{error}</span>}
    </div>
  );
}
