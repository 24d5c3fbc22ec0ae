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
    rollupOptions: {
      // Mantine marks its modules "use client" for React Server Components, which a SPA has none of.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      output: {
        // The libraries change less often than the console: their own hashed file stays cached.
        manualChunks: { vendor: ["react", "react-dom", "react-router", "@tanstack/react-query", "@mantine/core", "@mantine/hooks"] },
      },
    },
  },
  // `npm run dev`: the console with hot reload on :5173, the API of a `make run` on :8080 behind it
  // (same origin for the browser, so the signature's host is the dev server's: COC_PUBLIC_HOSTS unset).
  server: {
    proxy: { "/v1": { target: process.env.COC_API ?? "http://127.0.0.1:8080", changeOrigin: false } },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
