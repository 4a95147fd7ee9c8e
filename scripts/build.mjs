// Builds trig: precompiles the definition schema into an Ajv standalone validator (so no
// schema is compiled at run time), then bundles the CLI with esbuild into dist/, one
// chunk per command so that each command loads only what it uses.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import Ajv2020 from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (p) => readFileSync(root + p, 'utf8');

export const SCHEMA_FILES = ['schemas/events.schema.json', 'schemas/definition.schema.json'];

export function schemaHash() {
  const hash = createHash('sha256');
  for (const file of SCHEMA_FILES) hash.update(read(file));
  return hash.digest('hex').slice(0, 16);
}

function compileValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, code: { source: true, esm: true } });
  const [events, definition] = SCHEMA_FILES.map((f) => JSON.parse(read(f)));
  ajv.addSchema(events);
  const validate = ajv.compile(definition);
  const dir = root + 'src/validate/generated/';
  mkdirSync(dir, { recursive: true });
  const code = standaloneCode(ajv, validate) + `\nexport const SCHEMA_HASH = ${JSON.stringify(schemaHash())};\n`;
  writeFileSync(dir + 'definition-validator.js', code);
  writeFileSync(
    dir + 'definition-validator.d.ts',
    "import type { ErrorObject } from 'ajv';\n" +
      'declare const validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };\n' +
      'export default validate;\nexport declare const SCHEMA_HASH: string;\n',
  );
}

async function bundle() {
  rmSync(root + 'dist', { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    chunkNames: 'chunks/[name]-[hash]',
    // Bundled CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import{createRequire as __trigRequire}from'node:module';const require=__trigRequire(import.meta.url);" },
    define: { TRIG_VERSION: JSON.stringify(JSON.parse(read('package.json')).version) },
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  compileValidator();
  await bundle();
}
