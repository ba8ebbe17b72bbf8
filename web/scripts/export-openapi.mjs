// Saves a running server's OpenAPI document as openapi.json (then: npm run gen:api).
//   node scripts/export-openapi.mjs [http://127.0.0.1:8080]
import { writeFileSync } from 'node:fs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const res = await fetch(base + '/api/v1/openapi.json');
if (!res.ok) throw new Error(`GET /api/v1/openapi.json: ${res.status}`);
const doc = await res.json();
writeFileSync(new URL('../openapi.json', import.meta.url), JSON.stringify(doc, null, 2) + '\n');
console.log('openapi.json written');
