import { defineConfig } from 'vite';

// Relative base so viewer/dist works at `/` of the twin server and from any static folder.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
  test: { include: ['test/**/*.test.js'], environment: 'node' },
});
