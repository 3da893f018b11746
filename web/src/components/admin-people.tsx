// The school's people: students and mentors (add them), and one-time sign-in links for anyone, staff too.
import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { errorMessage } from "../lib/errors";

type Role = "student" | "mentor" | "advisor" | "school_admin";

export function People({ schoolId }: { schoolId: string }) {
  const school = { params: { path: { school_id: schoolId } } };
  const [students, setStudents] = useState<Schemas["StudentOut"][]>([]);
  const [mentors, setMentors] = useState<Schemas["MentorOut"][]>([]);
  const [codes, setCodes] = useState<Schemas["SignInCodeOut"][]>([]);
  const [issued, setIssued] = useState<{ label: string; url: string; code: string } | null>(null);
  const [message, setMessage] = useState("");
  const [newStudent, setNewStudent] = useState({ display_name: "", external_ref: "", email: "" });
  const [staff, setStaff] = useState<{ role: Role; label: string }>({ role: "advisor", label: "" });

  const refresh = async () => {
    const [s, m, c] = await Promise.all([api.GET("/v1/students", { params: { query: { page_size: 500 } } }), api.GET("/v1/mentorship/mentors"), api.GET("/v1/schools/{school_id}/sign-in-codes", school)]);
    setStudents(s.data?.students ?? []);
    setMentors((m.data?.mentors ?? []).filter((x) => x.school_id === schoolId));
    setCodes(c.data?.codes ?? []);
  };
  useEffect(() => void refresh(), []);

  const issue = async (role: Role, label: string, ids: { student_id?: string; mentor_id?: string } = {}) => {
    const { data, error } = await api.POST("/v1/schools/{school_id}/sign-in-codes", { ...school, body: { role, label, ...ids } });
    if (data) {
      setIssued({ label: label || role, url: `${location.origin}${data.sign_in_path}`, code: data.code });
      setMessage("");
      await refresh();
    } else setMessage(errorMessage(error));
  };
  const addStudent = async () => {
    const { data, error } = await api.POST("/v1/students", { body: newStudent });
    setMessage(data ? `Added ${data.display_name}.` : errorMessage(error));
    if (data) {
      setNewStudent({ display_name: "", external_ref: "", email: "" });
      await refresh();
    }
  };
  const input = (id: string, label: string, value: string, set: (v: string) => void) => (
    <div class="field"><label for={id}>{label}</label><input id={id} type="text" value={value} onInput={(e) => set((e.target as HTMLInputElement).value)} /></div>
  );

  return (
    <section aria-labelledby="people-heading">
      <h2 id="people-heading">People and sign-in links</h2>
      <p aria-live="polite" class={message ? "error" : ""}>{message}</p>
      {issued && (
        <div class="note" role="status" data-testid="issued-link">
          Sign-in link for {issued.label} (works once; shown only now): <code>{issued.url}</code>
          <div>Or the code: <strong>{issued.code}</strong></div>
        </div>
      )}
      <h3>Staff</h3>
      <div class="actions">
        <div class="field">
          <label for="staff-role">Role</label>
          <select id="staff-role" value={staff.role} onChange={(e) => setStaff({ ...staff, role: (e.target as HTMLSelectElement).value as Role })}>
            <option value="advisor">Advisor</option>
            <option value="school_admin">School admin</option>
          </select>
        </div>
        {input("staff-label", "Name or email", staff.label, (label) => setStaff({ ...staff, label }))}
        <button type="button" onClick={() => void issue(staff.role, staff.label)}>Issue sign-in link</button>
      </div>
      <h3>Students</h3>
      <div class="actions">
        {input("new-name", "Name", newStudent.display_name, (display_name) => setNewStudent({ ...newStudent, display_name }))}
        {input("new-ref", "School id", newStudent.external_ref, (external_ref) => setNewStudent({ ...newStudent, external_ref }))}
        <button type="button" onClick={() => void addStudent()}>Add student</button>
      </div>
      <div class="table-wrap">
        <table data-testid="students">
          <thead><tr><th scope="col">Student</th><th scope="col">School id</th><th scope="col">Sign-in</th></tr></thead>
          <tbody>
            {students.map((s) => (
              <tr key={s.student_id}>
                <td>{s.display_name}</td><td>{s.external_ref}</td>
                <td><button type="button" class="secondary" aria-label={`Issue link for ${s.display_name}`} onClick={() => void issue("student", s.display_name, { student_id: s.student_id })}>Issue link</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Mentors</h3>
      <ul>
        {mentors.map((m) => (
          <li key={m.mentor_id}>
            {m.display_name} ({m.specialty}, {m.held_slots}/{m.capacity}){" "}
            <button type="button" class="secondary" aria-label={`Issue link for ${m.display_name}`} onClick={() => void issue("mentor", m.display_name, { mentor_id: m.mentor_id })}>Issue link</button>
          </li>
        ))}
      </ul>
      <h3>Links issued</h3>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">For</th><th scope="col">Role</th><th scope="col">Issued</th><th scope="col">Status</th></tr></thead>
          <tbody>
            {codes.map((c) => (
              <tr key={c.code_id}>
                <td>{c.label || "–"}</td><td>{c.role}</td><td>{c.created_at.slice(0, 16).replace("T", " ")}</td>
                <td>{c.used_at ? `used ${c.used_at.slice(0, 10)}` : new Date(c.expires_at) < new Date() ? "expired" : "not used yet"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
