// The review page: one HTML file, one script, one style sheet, written to
// dist/ (committed, embedded by the Go package). No source maps, so that
// the committed bundle is only what the page loads.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    modulePreload: false,
    rollupOptions: { output: { manualChunks: undefined } },
  },
});
