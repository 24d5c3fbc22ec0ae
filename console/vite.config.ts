import { defineConfig } from "vitest/config";

// Served under /console/ by coc-local and from the bucket's console/ prefix on AWS.
// JSX is compiled by Vite's own esbuild (automatic runtime), so no framework plugin is needed.
export default defineConfig({
  base: "/console/",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    // Every script is a file of its own: the CSP allows no inline script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
