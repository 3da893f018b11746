// The JavaScript budget, checked on every build: for each page, its entry chunk and every chunk it imports
// statically (what the browser must load before the page works), gzip-compressed, against budget.json.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));
const { page_js_gzip_kb: budget } = JSON.parse(readFileSync(new URL("../budget.json", import.meta.url), "utf8"));

function chunksOf(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const imported of manifest[key].imports ?? []) chunksOf(imported, seen);
  return seen;
}

const gzipKb = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length / 1000;
let over = false;
for (const [key, chunk] of Object.entries(manifest)) {
  if (!chunk.isEntry) continue;
  const total = [...chunksOf(key)].reduce((sum, k) => sum + gzipKb(manifest[k].file), 0);
  const verdict = total <= budget ? "ok" : "OVER BUDGET";
  over ||= total > budget;
  console.log(`js budget: ${key.padEnd(14)} ${total.toFixed(1).padStart(5)} kB gzip of ${budget} kB  ${verdict}`);
}
if (over) {
  console.error("A page's JavaScript is over budget (web/budget.json): make it smaller, or argue for a new budget in docs/web.md.");
  process.exit(1);
}
