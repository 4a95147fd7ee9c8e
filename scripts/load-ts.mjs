// Imports a TypeScript module of the project from a build script, by bundling it with
// esbuild: the scripts then share the code the CLI uses. The bundle is written under
// node_modules/.cache (and removed once imported) rather than imported from memory, so
// that its imports of packages (`yaml`, `croner`) resolve from node_modules.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function loadTs(entry) {
  const dir = path.join(root, 'node_modules', '.cache', 'trig-load-ts');
  mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, `${path.basename(entry, '.ts')}-${process.pid}.mjs`);
  await build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    outfile,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    logLevel: 'error',
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}
