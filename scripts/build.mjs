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

// ---------------------------------------------------------------------------
// Fewer files on the common paths. esbuild makes one chunk for each set of entry points
// (the CLI and every dynamic import) that reaches a module, so the fire path crossed many
// small chunks: a recorded fire loaded 43 files of dist/, at some 0.1 ms each to resolve,
// read and wrap. Chunks that the paths below always load together are packed into one
// file, where each stays a module of its own, evaluated when first required as before
// (its code is compiled with the pack: every chunk of a pack is loaded on the same listed
// paths). Each path lists the dynamic imports a command crosses, by source file. Any other
// dynamic import may need one chunk of a pack and not the rest: PACK_SLACK bounds what it
// then compiles in vain, so that no command not listed loads the run stage, SQLite or the schema
// validator where it did not before.

const PACK_SLACK = 8 * 1024;
const LOAD_PATHS = (() => {
  const fire = ['src/cli/fire.ts'];
  const planned = [...fire, 'src/plan/matched.ts'];
  const store = ['src/store/place.ts', 'src/store/sqlite.ts'];
  return [
    // trig validate
    ['src/cli/validate.ts'],
    // trig fire that matches nothing, the cron entry's tick, a dry run that matches, a fire that runs and records
    fire,
    [...fire, 'src/integrations/cron/tick.ts'],
    planned,
    [...planned, ...store, 'src/fire/record.ts', 'src/store/ids.ts', 'src/execute/execute.ts'],
    // a recorded fire that runs nothing (a delivery seen before)
    [...planned, ...store, 'src/fire/record.ts', 'src/store/ids.ts'],
    // trig runs, logs, history
    ['src/cli/runs.ts', ...store],
    ['src/cli/logs.ts', ...store],
    ['src/cli/history.ts', ...store],
  ];
})();

/** The output files of `outputs` (a metafile's), with chunks packed: { file: code }. */
function packChunks(outputs, code) {
  const entryOf = new Map(Object.entries(outputs).map(([o, v]) => [v.entryPoint, o]));
  const closure = (start) => {
    const seen = new Set([start]);
    for (const o of seen) for (const i of outputs[o].imports) if (i.kind === 'import-statement' && !i.external) seen.add(i.path);
    return seen;
  };
  const cli = Object.keys(outputs).find((o) => outputs[o].entryPoint === 'src/cli/main.ts');
  const always = closure(cli);
  const listed = LOAD_PATHS.map((entries) =>
    entries.map((e) => {
      if (!entryOf.has(e)) throw new Error(`LOAD_PATHS in scripts/build.mjs: ${e} is not a dynamic import any more`);
      return entryOf.get(e);
    }),
  );
  // Which listed paths load each chunk: only chunks with the same answer may share a pack.
  const signature = new Map();
  for (const [i, entries] of listed.entries()) {
    for (const o of entries.flatMap((e) => [...closure(e)])) if (o !== cli) signature.set(o, [...(signature.get(o) ?? []), i]);
  }
  const classes = new Map();
  for (const [o, paths] of signature) {
    const key = always.has(o) ? 'always' : [...new Set(paths)].join(',');
    classes.set(key, [...(classes.get(key) ?? []), o]);
  }
  // Any other dynamic import may load a chunk of a pack without the rest: a chunk joins a
  // pack only while none of them would load (and compile) more than PACK_SLACK bytes of it
  // that it did not load before.
  const others = [...entryOf.values()].filter((o) => o !== cli && !listed.some((entries) => entries.includes(o))).map(closure);
  const bytes = (members) => members.reduce((sum, m) => sum + code[m].length, 0);
  const fits = (members) =>
    others.every((need) => !members.some((m) => need.has(m)) || bytes(members.filter((m) => !need.has(m))) <= PACK_SLACK);
  const packOf = new Map();
  for (const chunks of classes.values()) {
    const packs = [];
    for (const chunk of chunks.sort((a, b) => code[b].length - code[a].length || (a < b ? -1 : 1))) {
      const pack = packs.find((members) => fits([...members, chunk]));
      if (pack) pack.push(chunk);
      else packs.push([chunk]);
    }
    for (const members of packs) {
      if (members.length < 2) continue;
      const hash = createHash('sha256');
      for (const m of [...members].sort()) hash.update(m);
      const file = `dist/chunks/pack-${hash.digest('hex').slice(0, 8)}.cjs`;
      for (const m of members) packOf.set(m, file);
    }
  }
  // A chunk's require() of a packed chunk becomes the pack's loader, called at the same point.
  const rewrite = (from, text) =>
    text.replace(/require\("(\.\/(?:chunks\/)?)([\w-]+\.cjs)"\)/g, (call, dir, name) => {
      const target = path.posix.join(path.posix.dirname(from), dir, name);
      const pack = packOf.get(target);
      return pack ? `require("${dir}${path.posix.basename(pack)}")(${JSON.stringify(name)})` : call;
    });
  const files = {};
  const packs = new Map();
  for (const [o, text] of Object.entries(code)) {
    const pack = packOf.get(o);
    if (!pack) files[o] = rewrite(o, text);
    else packs.set(pack, [...(packs.get(pack) ?? []), o]);
  }
  for (const [pack, members] of packs) {
    // The parentheses make V8 compile each chunk with the pack, as it compiles a file's top level.
    const table = members
      .map(
        (m) =>
          `${JSON.stringify(path.posix.basename(m))}:(function(exports,require,module,__filename,__dirname){${rewrite(m, code[m])}\n})`,
      )
      .join(',\n');
    files[pack] =
      `var chunks={${table}};var loaded=Object.create(null);` +
      'module.exports=function(name){var m=loaded[name];if(m)return m.exports;m=loaded[name]={exports:{}};' +
      'chunks[name].call(m.exports,m.exports,require,m,__filename,__dirname);return m.exports};\n';
  }
  // A require() of a packed chunk in another form than the one rewritten would fail at run time.
  for (const [file, text] of Object.entries(files)) {
    for (const member of packOf.keys()) {
      if (text.includes(`/${path.posix.basename(member)}"`)) throw new Error(`${file} still requires ${member}, which is packed`);
    }
  }
  return { files, packOf };
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
  const code = Object.fromEntries(
    result.outputFiles.map((o) => [path.relative(root, o.path).split(path.sep).join('/'), toCommonJs(o.text)]),
  );
  const { files, packOf } = packChunks(result.metafile.outputs, code);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(root + file), { recursive: true });
    writeFileSync(root + file, text);
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
  // `packs` gives the file that holds each packed chunk.
  writeFileSync(root + 'dist/meta.json', JSON.stringify({ ...result.metafile, packs: Object.fromEntries(packOf) }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  compileValidator();
  await bundle();
}
