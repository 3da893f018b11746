// The school's API keys for machines: issue (the secret shown once), see when each expires, and revoke.
import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { errorMessage } from "../lib/errors";

const expired = (k: Schemas["ApiKeyRecordOut"]) => new Date(k.expires_at) <= new Date();
const status = (k: Schemas["ApiKeyRecordOut"]) =>
  k.revoked_at ? `revoked ${k.revoked_at.slice(0, 10)}` : expired(k) ? `expired ${k.expires_at.slice(0, 10)}` : `active until ${k.expires_at.slice(0, 10)}`;

export function ApiKeys({ schoolId }: { schoolId: string }) {
  const school = { params: { path: { school_id: schoolId } } };
  const [keys, setKeys] = useState<Schemas["ApiKeyRecordOut"][]>([]);
  const [role, setRole] = useState<"advisor" | "school_admin">("advisor");
  const [label, setLabel] = useState("");
  const [secret, setSecret] = useState("");
  const [message, setMessage] = useState("");

  const refresh = async () => setKeys((await api.GET("/v1/schools/{school_id}/api-keys", school)).data?.keys ?? []);
  useEffect(() => void refresh(), []);

  const issue = async () => {
    const { data, error } = await api.POST("/v1/schools/{school_id}/api-keys", { ...school, body: { role, label } });
    if (data) setSecret(data.api_key);
    setMessage(data ? "" : errorMessage(error));
    await refresh();
  };
  const revoke = async (keyId: string) => {
    const { error, response } = await api.DELETE("/v1/schools/{school_id}/api-keys/{key_id}", { params: { path: { school_id: schoolId, key_id: keyId } } });
    setMessage(response.status === 204 ? `Key ${keyId} revoked.` : errorMessage(error));
    await refresh();
  };

  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <p class="lede">For the school's systems (an advising CRM, scripts). People sign in with links instead.</p>
      <div class="actions">
        <div class="field">
          <label for="key-role">Role</label>
          <select id="key-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as typeof role)}>
            <option value="advisor">Advisor (read)</option>
            <option value="school_admin">School admin</option>
          </select>
        </div>
        <div class="field"><label for="key-label">Label</label><input id="key-label" type="text" value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} /></div>
        <button type="button" onClick={() => void issue()}>Issue key</button>
      </div>
      {secret && <p class="note" role="status">New key (shown only now): <code data-testid="new-key">{secret}</code></p>}
      <p aria-live="polite">{message}</p>
      <div class="table-wrap">
        <table data-testid="keys">
          <thead><tr><th scope="col">Key</th><th scope="col">Role</th><th scope="col">Label</th><th scope="col">Status</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.key_id}>
                <td><code>{k.key_id}</code></td><td>{k.role}</td><td>{k.label}</td>
                <td>{status(k)}</td>
                <td>{!k.revoked_at && !expired(k) && <button type="button" class="danger" aria-label={`Revoke key ${k.key_id}`} onClick={() => void revoke(k.key_id)}>Revoke</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
