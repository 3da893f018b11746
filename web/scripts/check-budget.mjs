// The JavaScript budget, checked on every build against budget.json: for each page, its entry chunk and
// every chunk it imports statically (what the browser loads before the page works), and the same plus the
// chunks it imports lazily (the chart), gzip-compressed.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));
const budget = JSON.parse(readFileSync(new URL("../budget.json", import.meta.url), "utf8"));

function chunksOf(key, lazy, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  const chunk = manifest[key];
  for (const imported of [...(chunk.imports ?? []), ...(lazy ? chunk.dynamicImports ?? [] : [])]) chunksOf(imported, lazy, seen);
  return seen;
}

const gzipKb = (key) => (manifest[key].file.endsWith(".js") ? gzipSync(readFileSync(new URL(manifest[key].file, dist)), { level: 9 }).length / 1000 : 0);
const total = (keys) => [...keys].reduce((sum, k) => sum + gzipKb(k), 0);
let over = false;
for (const [key, chunk] of Object.entries(manifest)) {
  if (!chunk.isEntry) continue;
  const initial = total(chunksOf(key, false));
  const withLazy = total(chunksOf(key, true));
  const ok = initial <= budget.page_js_gzip_kb && withLazy <= budget.page_js_with_lazy_gzip_kb;
  over ||= !ok;
  console.log(
    `js budget: ${key.padEnd(13)} ${initial.toFixed(1).padStart(5)} kB gzip at load (budget ${budget.page_js_gzip_kb}),` +
      ` ${withLazy.toFixed(1).padStart(5)} kB with the chart (budget ${budget.page_js_with_lazy_gzip_kb})  ${ok ? "ok" : "OVER BUDGET"}`,
  );
}
if (over) {
  console.error("A page's JavaScript is over budget (web/budget.json): make it smaller, or argue for a new budget in docs/web.md.");
  process.exit(1);
}
