// One Vite build of every page (a multi-page app: each page loads only its own code) into dist/, which the
// gateway serves. Swagger UI's files are copied beside them so /docs needs no CDN.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = dirname(fileURLToPath(import.meta.url));
export const PAGES = ["index", "signin", "student", "advisor", "mentor", "admin"];
const SHARED = /node_modules\/(preact|openapi-fetch)\/|\/src\/(api|lib)\/|\/src\/components\/(page|field|profile-form)\.tsx$/;

function swaggerAssets(): Plugin {
  return {
    name: "swagger-ui-assets",
    apply: "build",
    closeBundle() {
      const from = resolve(root, "node_modules/swagger-ui-dist");
      const to = resolve(root, "dist/docs-assets");
      mkdirSync(to, { recursive: true });
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) copyFileSync(resolve(from, file), resolve(to, file));
    },
  };
}

export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    manifest: true,
    target: "es2022",
    // Browsers of the es2022 target preload modules themselves (one without it just loads them as imported).
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: Object.fromEntries(PAGES.map((p) => [p, resolve(root, `${p}.html`)])),
      // What several pages share, the libraries and the client's own modules, in one chunk: a page then loads
      // its entry, this and at most the list's chunk, not a request per small shared module (each one more
      // round trip before the page can render).
      output: { manualChunks: (id) => (SHARED.test(id) ? "shared" : undefined) },
    },
  },
  plugins: [swaggerAssets()],
});
