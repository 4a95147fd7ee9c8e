// Builds trig: precompiles the definition schema into an Ajv standalone validator (so no
// schema is compiled at run time), then bundles the CLI with esbuild into dist/, one
// chunk per command so that each command loads only what it uses.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transformSync } from 'esbuild';
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

// ---------------------------------------------------------------------------
// The compiled copy of the schema. Start-up cost grows with the size of the generated
// code (V8 scans all of it, and compiles each function called), so the copy handed to
// Ajv drops annotations and names every repeated subschema once under $defs; together
// with `inlineRefs: false` each definition becomes one small function compiled only when
// a document uses it. Validation and error messages are unchanged (only schemaPath, which
// restarts at every $ref target anyway, differs); test/build/validator.test.ts checks the
// result against Ajv compiling the source schemas.

const ANNOTATIONS = ['title', 'description', '$comment', 'examples', 'deprecated'];
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
const SCHEMA_VALUES = new Set([
  'additionalProperties',
  'items',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
]);
const SCHEMA_LISTS = new Set(['anyOf', 'allOf', 'oneOf', 'prefixItems']);
const KEYWORD =
  /^(\$.*|type|enum|const|required|pattern.*|min.*|max.*|multipleOf|format|uniqueItems|dependent.*|default|title|description|examples|deprecated|properties|additionalProperties|items|prefixItems|contains|not|if|then|else|propertyNames|unevaluated.*|anyOf|allOf|oneOf)$/;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
// A $defs entry may group definitions (events.schema.json has $defs/filters/<event>).
const isGroup = (v) => isObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => !KEYWORD.test(k));
const mapValues = (o, fn) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v)]));

/** Applies `fn` to every direct subschema of `schema`. */
function mapSubschemas(schema, fn) {
  if (!isObject(schema)) return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$defs') out[key] = mapValues(value, (d) => (isGroup(d) ? mapValues(d, fn) : fn(d)));
    else if (SCHEMA_MAPS.has(key)) out[key] = mapValues(value, fn);
    else if (SCHEMA_VALUES.has(key)) out[key] = fn(value);
    else if (SCHEMA_LISTS.has(key)) out[key] = value.map(fn);
    else out[key] = value;
  }
  return out;
}

function stripAnnotations(schema) {
  const out = mapSubschemas(schema, stripAnnotations);
  if (isObject(out)) for (const key of ANNOTATIONS) delete out[key];
  return out;
}

const canonical = (v) =>
  JSON.stringify(v, (_, x) =>
    isObject(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );

/** Moves subschemas that occur more than once (and are not trivial) to $defs/trig-shared-N. */
function shareRepeated(document) {
  const counts = new Map();
  const count = (s) => {
    if (isObject(s)) {
      const key = canonical(s);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      mapSubschemas(s, count);
    }
    return s;
  };
  mapSubschemas(document, count);
  const shared = new Map();
  const replace = (s) => {
    if (!isObject(s)) return s;
    const key = canonical(s);
    // Short schemas such as {type: string} cost less inline than as a call.
    if (counts.get(key) > 1 && key.length > 80 && !key.includes('"$id"') && !key.includes('"$anchor"')) {
      let entry = shared.get(key);
      if (!entry) {
        entry = { name: `trig-shared-${shared.size}` };
        shared.set(key, entry);
        entry.schema = mapSubschemas(s, replace);
      }
      return { $ref: `#/$defs/${entry.name}` };
    }
    return mapSubschemas(s, replace);
  };
  const out = mapSubschemas(document, replace);
  if (shared.size > 0) out.$defs = { ...out.$defs, ...Object.fromEntries([...shared.values()].map((e) => [e.name, e.schema])) };
  return out;
}

export function compiledSchemas() {
  return SCHEMA_FILES.map((f) => shareRepeated(stripAnnotations(JSON.parse(read(f)))));
}

export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true };

function compileValidator() {
  const ajv = new Ajv2020({ ...AJV_OPTIONS, inlineRefs: false, code: { source: true, esm: true } });
  const [events, definition] = compiledSchemas();
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

// ---------------------------------------------------------------------------
// Keeping start-up small.

// commander requires node:child_process at load time only to run executable
// subcommands, which trig has none of; loading it costs about as much as the rest of
// `trig --version`, so it is required on first use instead.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/') ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "let m;module.exports=new Proxy({},{get:(_,k)=>(m??=require('node:child_process'))[k]});",
      loader: 'js',
    }));
  },
};

// croner is required synchronously (src/lang/cron.ts) the first time a schedule is
// evaluated. esbuild cannot follow a createRequire() call, so croner is emitted on its
// own next to the chunks and the call becomes a plain require() of that file (the output
// is CommonJS): the bundle needs no node_modules, and croner is still read only when a
// schedule is evaluated.
const CRONER_CALL = "createRequire(import.meta.url)('croner')";
const CRONER_FILE = './croner.cjs';
const vendoredCroner = {
  name: 'vendored-croner',
  setup(b) {
    let vendored = false;
    b.onLoad({ filter: /src[\\/]lang[\\/]cron\.ts$/ }, (args) => {
      vendored = true;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(CRONER_CALL)) {
        throw new Error(`${args.path} no longer loads croner with ${CRONER_CALL}; update vendoredCroner in scripts/build.mjs`);
      }
      return { contents: source.replace(CRONER_CALL, `require('${CRONER_FILE}')`), loader: 'ts' };
    });
    b.onResolve({ filter: /^\.\/croner\.cjs$/ }, () => ({ path: CRONER_FILE, external: true }));
    // A moved or renamed module would otherwise leave createRequire() in the bundle.
    b.onEnd(() => {
      if (!vendored)
        throw new Error('vendoredCroner in scripts/build.mjs matched no module: update its filter to the module that loads croner');
    });
  },
};

// better-sqlite3 (the store's SQLite binding) is bundled but for its compiled addon: its
// JavaScript, a dozen small files, cost some 5 ms to resolve and load at every recorded
// fire. The package finds its addon through the `bindings` package, which searches from the
// caller's own folder and would search trig's; the bundle requires the addon by its path in
// the installed package instead, built there for the Node.js that installed it. The JavaScript
// and the addon must be the same version: package.json pins it, and the build checks.
const SQLITE_ADDON = 'better-sqlite3/build/Release/better_sqlite3.node';
const BINDINGS_CALL = "require('bindings')('better_sqlite3.node')";
const bundledSqlite = {
  name: 'bundled-sqlite',
  setup(b) {
    let patched = false;
    b.onStart(() => {
      const pinned = JSON.parse(read('package.json')).dependencies['better-sqlite3'];
      const installed = JSON.parse(read('node_modules/better-sqlite3/package.json')).version;
      if (pinned !== installed) {
        return { errors: [{ text: `better-sqlite3 ${installed} is installed, package.json pins ${pinned}: run npm ci` }] };
      }
    });
    b.onLoad({ filter: /node_modules[\\/]better-sqlite3[\\/]lib[\\/]database\.js$/ }, (args) => {
      patched = true;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(BINDINGS_CALL)) {
        throw new Error(`${args.path} no longer loads its addon with ${BINDINGS_CALL}; update bundledSqlite in scripts/build.mjs`);
      }
      return { contents: source.replace(BINDINGS_CALL, `require('${SQLITE_ADDON}')`), loader: 'js' };
    });
    b.onResolve({ filter: /^better-sqlite3\/build\/Release\/better_sqlite3\.node$/ }, (args) => ({ path: args.path, external: true }));
    b.onEnd(() => {
      if (!patched) throw new Error('bundledSqlite in scripts/build.mjs matched no module: better-sqlite3 was not bundled');
    });
  },
};

/**
 * Identifies this build's behaviour: the sources, schemas and manifest it is made of, and
 * this script, which transforms them (a build that vendored croner wrongly must not leave
 * its results to the next). The check cache keeps results per build id, so a changed trig
 * never reads another's results.
 */
function buildId() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(root + dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (/\.(ts|js|json)$/.test(entry.name)) hash.update(rel).update('\0').update(read(rel));
    }
  };
  walk('src');
  walk('schemas');
  hash.update(read('package.json'));
  hash.update(read('scripts/build.mjs'));
  return hash.digest('hex').slice(0, 16);
}

// dist/ is CommonJS: Node 20 spends some 15 ms setting up its ES module loader for the
// first import, a fifth of what `trig validate` costs. esbuild splits code into chunks
// only for ES modules, so the bundle is split as ES modules and each chunk is then
// rewritten as CommonJS, its dynamic imports becoming require() calls made when reached.
function toCommonJs(code) {
  return transformSync(code, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  }).code;
}

async function bundle() {
  rmSync(root + 'dist', { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    chunkNames: 'chunks/[name]-[hash]',
    write: false,
    define: {
      TRIG_VERSION: JSON.stringify(JSON.parse(read('package.json')).version),
      TRIG_BUILD_ID: JSON.stringify(buildId()),
    },
    plugins: [lazyChildProcess, vendoredCroner, bundledSqlite],
    logLevel: 'warning',
    metafile: true,
  });
  for (const output of result.outputFiles) {
    mkdirSync(path.dirname(output.path), { recursive: true });
    writeFileSync(output.path, toCommonJs(output.text));
  }
  await build({
    entryPoints: [createRequire(import.meta.url).resolve('croner')],
    outfile: root + 'dist/chunks/croner.cjs',
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    logLevel: 'warning',
  });
  // Read by test/build/bundle.test.ts, which checks what each command loads; not packed.
  writeFileSync(root + 'dist/meta.json', JSON.stringify(result.metafile));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  compileValidator();
  await bundle();
}
