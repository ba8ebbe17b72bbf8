import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Hashed names under dist/assets/ (served "immutable" by kyso serve); no inline scripts or
// styles, so the server's strict Content-Security-Policy holds (modulepreload polyfill off:
// it is an inline script in older Vite versions and every browser we support has it).
export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/ca': 'http://127.0.0.1:8080',
      '/crl': 'http://127.0.0.1:8080',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
