// The applicant's profile form, shared by the try-it page and the student's page. It keeps what was typed
// and shows each server message beside its field.
import type { JSX } from "preact";
import { SETTINGS, SIZES, type Draft } from "../lib/profile";
import { Field } from "./field";

interface Props {
  draft: Draft;
  onChange: (draft: Draft) => void;
  errors: Record<string, string>;
  onSubmit: () => void;
  submitLabel: string;
  busy: boolean;
  specialties?: string[];
  cities?: string[];
}

type TextKey = { [K in keyof Draft]: Draft[K] extends string ? K : never }[keyof Draft];

// The inputs a student may leave unsaid (docs/model.md): the chances then take a typical applicant's value.
const NOT_SAID = "Blank: not said; a typical applicant's is used";

const LISTS: Partial<Record<keyof Draft, string>> = { specialties: "specialty-names", home_city: "city-names" };

export function ProfileForm({ draft, onChange, errors, onSubmit, submitLabel, busy, specialties = [], cities = [] }: Props) {
  const set = (key: keyof Draft, value: string | boolean | string[]) => onChange({ ...draft, [key]: value });
  const text = (key: TextKey, label: string, hint?: string, inputMode: "numeric" | "text" = "numeric") => (
    <Field id={`f-${key}`} label={label} hint={hint} error={errors[key]}>
      {(aria) => (
        <input
          {...aria}
          type="text"
          inputMode={inputMode}
          name={key}
          value={draft[key]}
          list={LISTS[key]}
          onInput={(e) => set(key, (e.target as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
  const check = (key: "aoa_member", label: string) => (
    <Field id={`f-${key}`} label={label} error={errors[key]} check>
      {(aria) => (
        <input {...aria} type="checkbox" name={key} checked={draft[key]} onChange={(e) => set(key, (e.target as HTMLInputElement).checked)} />
      )}
    </Field>
  );
  const select = (key: "degree_type" | "step1_result" | "visa_need" | "has_home_program", label: string, options: [string, string][], hint?: string) => (
    <Field id={`f-${key}`} label={label} hint={hint} error={errors[key]}>
      {(aria) => (
        <select {...aria} name={key} value={draft[key]} onChange={(e) => set(key, (e.target as HTMLSelectElement).value)}>
          {options.map(([value, name]) => <option value={value} key={value}>{name}</option>)}
        </select>
      )}
    </Field>
  );
  // A group of checkboxes for a list preference; its server message shows under the group.
  const choices = <K extends "preferred_settings" | "preferred_sizes">(key: K, label: string, options: readonly (readonly [Draft[K][number], string])[]) => (
    <fieldset class="field choices" aria-describedby={errors[key] ? `f-${key}-error` : undefined}>
      <legend>{label}</legend>
      {options.map(([value, name]) => (
        <label key={value}>
          <input
            type="checkbox"
            name={key}
            value={value}
            checked={(draft[key] as string[]).includes(value)}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              const kept = (draft[key] as string[]).filter((v) => v !== value);
              set(key, on ? [...kept, value] : kept);
            }}
          />
          {name}
        </label>
      ))}
      {errors[key] && <span class="error" id={`f-${key}-error`} role="alert">{errors[key]}</span>}
    </fieldset>
  );
  const submit = (e: JSX.TargetedEvent<HTMLFormElement, Event>) => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <form onSubmit={submit} noValidate aria-label="Applicant profile">
      <datalist id="specialty-names">
        {specialties.map((s) => <option value={s} key={s} />)}
      </datalist>
      <datalist id="city-names">
        {cities.map((c) => <option value={c} key={c} />)}
      </datalist>
      <div class="grid">
        {select("degree_type", "Degree", [["MD", "MD"], ["DO", "DO"], ["IMG", "International graduate"]])}
        {text("step2_ck_score", "USMLE Step 2 CK", "Leave empty if not taken")}
        {select("step1_result", "Step 1", [["pass", "Pass"], ["fail", "Fail"], ["", "Not taken"]])}
        {draft.degree_type === "DO" && text("comlex_level2_score", "COMLEX Level 2-CE")}
        {text("research_items", "Research items", "Abstracts, presentations, publications")}
        {text("clerkship_honors", "Clerkship honors", NOT_SAID)}
        {text("signals_sent", "Signals sent")}
        {text("away_rotations", "Away rotations", NOT_SAID)}
        {text("years_since_graduation", "Years since graduation")}
        {text("medical_school_state", "Medical school state", "Two-letter code, e.g. NY; blank for a school abroad, or not said", "text")}
        {select("visa_need", "Visa needed", [["none", "None"], ["j1", "J-1"], ["h1b", "H-1B"]])}
        {check("aoa_member", "AOA member")}
        {select("has_home_program", "Home program in the specialty", [["", "Not said"], ["yes", "Yes"], ["no", "No"]], NOT_SAID)}
      </div>
      <h3>What you are applying for</h3>
      <div class="grid">
        {text("specialties", "Specialties", 'Comma-separated, e.g. "Dermatology"', "text")}
        {text("preferred_states", "Preferred states", "Two-letter codes, comma-separated", "text")}
        {text("application_budget", "Application budget", "Most programs you will apply to")}
        {text("home_city", "Home city", 'A city with programs, e.g. "Boston, MA": nearer programs come first', "text")}
      </div>
      <div class="grid">
        {choices("preferred_settings", "Preferred settings", SETTINGS)}
        {choices("preferred_sizes", "Preferred program sizes (for the specialty)", SIZES)}
      </div>
      {errors.form && <p class="error" role="alert">{errors.form}</p>}
      <div class="actions">
        <button type="submit" disabled={busy}>{busy ? "Working…" : submitLabel}</button>
      </div>
    </form>
  );
}
