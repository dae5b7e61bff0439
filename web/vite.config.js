// Builds the studio into static files that `tarn server` serves at /studio/
// (src/server/static_assets.h). scripts/build runs it with TARN_STUDIO_OUT set.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/studio/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.TARN_STUDIO_OUT || '../build/studio',
    emptyOutDir: true,
    assetsInlineLimit: 0, // no data: URLs: every file is served under the CSP
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
});
