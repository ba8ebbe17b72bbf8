// Writes a .gz sibling beside each compressible file of dist/ (kyso serve sends it to clients
// that accept gzip) and prints the first-load bytes: index.html's scripts and styles, gzipped.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const compressible = /\.(js|css|html|svg|json|txt)$/;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (compressible.test(name)) {
      const gz = gzipSync(readFileSync(path), { level: constants.Z_BEST_COMPRESSION });
      writeFileSync(path + '.gz', gz);
    }
  }
}
walk(dist);
const index = readFileSync(join(dist, 'index.html'), 'utf8');
const refs = [...index.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let bytes = 0;
for (const ref of refs) bytes += statSync(join(dist, ref + '.gz')).size;
console.log(`first load (JS+CSS, gzip): ${bytes} bytes in ${refs.length} files`);
if (bytes > 200 * 1024) {
  console.error('first load exceeds 200 KB');
  process.exit(1);
}
