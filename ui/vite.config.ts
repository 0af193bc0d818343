import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The transport is chosen at build time: `npm run build` talks HTTP to `balai serve`;
// `VITE_TRANSPORT=tauri npm run build -- --outDir dist-tauri` talks to the Tauri shell.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: 'es2021', sourcemap: false },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
