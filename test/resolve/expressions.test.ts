import { describe, expect, it } from 'vitest';
import { KNOWN_NAMESPACES, namespaceKind, scanExpressions, suggestNamespace } from '../../src/lang/expressions.js';
import { resolveDeep, resolveString, type ResolveScope } from '../../src/resolve/expressions.js';

describe('scanExpressions', () => {
  it('finds mixed text and several expressions with offsets', () => {
    const text = 'refs/heads/<+trigger.branch>-<+inputs.suffix>';
    expect(scanExpressions(text)).toEqual([
      { start: 11, end: 28, raw: '<+trigger.branch>', ref: { namespace: 'trigger', path: ['branch'] } },
      { start: 29, end: 45, raw: '<+inputs.suffix>', ref: { namespace: 'inputs', path: ['suffix'] } },
    ]);
    expect(text.slice(11, 28)).toBe('<+trigger.branch>');
  });

  it('returns nothing for text without expressions', () => {
    expect(scanExpressions('echo a < b && c > d')).toEqual([]);
  });

  it.each([
    ['<+trigger.payload.commits.0.id>', { namespace: 'trigger', path: ['payload', 'commits', '0', 'id'] }],
    ['<+trigger.payload.commits[0].id>', { namespace: 'trigger', path: ['payload', 'commits', '0', 'id'] }],
    ["<+trigger.payload.headers['X-GitHub-Event']>", { namespace: 'trigger', path: ['payload', 'headers', 'X-GitHub-Event'] }],
    ['<+trigger.payload.head-commit>', { namespace: 'trigger', path: ['payload', 'head-commit'] }],
    ['<+ inputs.anthropicKey >', { namespace: 'inputs', path: ['anthropicKey'] }],
    ['<+secrets.getValue("slack_token")>', { namespace: 'secrets', path: ['getValue'], secretId: 'slack_token' }],
    ["<+secrets.getValue('org.a>b')>", { namespace: 'secrets', path: ['getValue'], secretId: 'org.a>b' }],
    ['<+pipeline.sequenceId>', { namespace: 'pipeline', path: ['sequenceId'] }],
    ['<+input>', { namespace: 'input', path: [] }],
    ['<+triger.branch>', { namespace: 'triger', path: ['branch'] }],
  ])('parses %s', (text, ref) => {
    const [only, ...rest] = scanExpressions(text);
    expect(rest).toEqual([]);
    expect(only).toEqual({ start: 0, end: text.length, raw: text, ref });
  });

  it.each([
    ['<+pipeline.name.toLowerCase()>', { namespace: 'pipeline', path: ['name'] }],
    ['<+<+pipeline.name>.concat("-x")>', { namespace: 'pipeline', path: ['name'] }],
    ['<+pipeline.stages.build.status == "SUCCEEDED">', { namespace: 'pipeline', path: ['stages', 'build', 'status'] }],
  ])('accepts Harness-only syntax in runtime namespace %s as complex', (text, ref) => {
    expect(scanExpressions(text)).toEqual([{ start: 0, end: text.length, raw: text, ref, complex: true }]);
  });

  it.each([
    ['<+>', 'empty expression "<+>": write a reference such as <+trigger.branch> or <+inputs.name>'],
    ['<+trigger..x>', 'empty path segment in "<+trigger..x>": remove the extra "."'],
    ['<+trigger.x.>', '"<+trigger.x.>" ends with ".": remove it or add the missing name'],
    [
      '<+trigger.x!>',
      'illegal character "!" in "<+trigger.x!>": names may contain only letters, digits, "_" and "-" (use [\'…\'] for other keys)',
    ],
    ['<+trigger.br anch>', 'unexpected space in "<+trigger.br anch>": names cannot contain spaces'],
    ['<+1abc>', '"<+1abc>" must start with a namespace name such as trigger or inputs, not "1"'],
    ['<+inputs>', '"<+inputs>" needs a field after the namespace, e.g. <+inputs.name>'],
    ['<+trigger>', '"<+trigger>" needs a field after the namespace, e.g. <+trigger.branch>'],
    ['<+secrets.token>', '"<+secrets.token>" is not a secret reference: write <+secrets.getValue("my_secret")>'],
    ['<+secrets.getValue("")>', 'empty secret id in "<+secrets.getValue("")>": write <+secrets.getValue("my_secret")>'],
    [
      '<+trigger.branch.toLowerCase()>',
      'method calls are not supported in "<+trigger.branch.toLowerCase()>": trig only evaluates plain references such as <+trigger.name>',
    ],
    [
      '<+trigger.event == "push">',
      'operator "==" is not supported inside "<+trigger.event == "push">": keep one reference per <+…>; in an if: condition write the operator outside, e.g. <+trigger.event> == "push"',
    ],
    [
      '<+trigger.payload.<+inputs.key>>',
      'nested expression in "<+trigger.payload.<+inputs.key>>": trig cannot evaluate expressions built from other expressions',
    ],
    ['<+trigger.payload.a[x]>', '"[x]" must hold an array index like [0] or a quoted key like [\'name\'] in "<+trigger.payload.a[x]>"'],
  ])('reports malformed %s', (text, error) => {
    expect(scanExpressions(text)).toEqual([{ start: 0, end: text.length, raw: text, error }]);
  });

  it('reports an unterminated expression and still finds the next one', () => {
    const text = 'x <+trigger.branch and <+inputs.y>';
    expect(scanExpressions(text)).toEqual([
      { start: 2, end: 18, raw: '<+trigger.branch', error: 'unterminated expression "<+trigger.branch": add the closing ">"' },
      { start: 23, end: 34, raw: '<+inputs.y>', ref: { namespace: 'inputs', path: ['y'] } },
    ]);
  });

  it('reads expressions nested up to the limit level by level', () => {
    const text = '<+'.repeat(16) + 'pipeline.name' + '.trim()>'.repeat(16);
    expect(scanExpressions(text)).toEqual([
      { start: 0, end: text.length, raw: text, ref: { namespace: 'pipeline', path: ['name'] }, complex: true },
    ]);
  });

  it.each([
    ['20,000 nested and closed', '<+'.repeat(20_000) + 'trigger.repo' + '>'.repeat(20_000)],
    ['17 nested and closed', '<+'.repeat(17) + 'trigger.repo' + '>'.repeat(17)],
    ['20,000 never closed', '<+'.repeat(20_000)],
    ['20,000 unclosed, apart', '<+a '.repeat(20_000)],
  ])('reports an expression nested past the limit once, as a whole, in one pass: %s', (_, nest) => {
    const text = `echo ${nest} <+inputs.after>`;
    const started = performance.now();
    const found = scanExpressions(text);
    expect(performance.now() - started).toBeLessThan(2000);
    const closed = nest.endsWith('>');
    const end = closed ? 5 + nest.length : text.length;
    expect(found[0]).toEqual({
      start: 5,
      end,
      raw: text.slice(5, end),
      error: `expression nested more than 16 levels deep: "${text.slice(5, 65)}…"`,
    });
    // A closed nest ends where it closes: what follows is read as usual.
    expect(found.slice(1)).toEqual(
      closed ? [{ start: end + 1, end: text.length, raw: '<+inputs.after>', ref: { namespace: 'inputs', path: ['after'] } }] : [],
    );
  });

  it('reports an unterminated expression at the end of the text', () => {
    expect(scanExpressions('ref: <+trigger.repo')).toEqual([
      { start: 5, end: 19, raw: '<+trigger.repo', error: 'unterminated expression "<+trigger.repo": add the closing ">"' },
    ]);
  });
});

describe('namespaces', () => {
  it('classifies namespaces', () => {
    expect(namespaceKind('trigger')).toBe('resolvable');
    expect(namespaceKind('inputs')).toBe('resolvable');
    expect(namespaceKind('secrets')).toBe('resolvable');
    expect(namespaceKind('pipeline')).toBe('runtime');
    expect(namespaceKind('codebase')).toBe('runtime');
    expect(namespaceKind('triger')).toBe('unknown');
    expect(KNOWN_NAMESPACES).toContain('steps');
    expect(KNOWN_NAMESPACES).toContain('matrix');
  });

  it('suggests close namespaces only', () => {
    expect(suggestNamespace('triger')).toBe('trigger');
    expect(suggestNamespace('input')).toBe('input');
    expect(suggestNamespace('Inputs')).toBe('inputs');
    expect(suggestNamespace('banana')).toBeUndefined();
  });
});

const payload = {
  pull_request: { number: 42, head: { sha: 'abc123' }, draft: false, labels: [{ name: 'bug' }] },
  commits: [{ id: 'c1' }, { id: 'c2' }],
  empty: '',
};

function scope(over: Partial<ResolveScope> = {}): ResolveScope {
  return {
    trigger: { event: 'pull_request', repo: 'my-service', branch: 'main', pullReq: 42, service: '', payload },
    inputs: { suffix: 'v2', anthropicKey: 'sk-live-1', depth: 3, service: 'billing', flags: { a: 1 }, unset: null },
    secretInputs: new Set(['anthropicKey']),
    ...over,
  };
}

describe('resolveString', () => {
  it('substitutes trigger fields and inputs within text', () => {
    expect(resolveString('refs/heads/<+trigger.branch>-<+inputs.suffix>', scope())).toEqual({
      value: 'refs/heads/main-v2',
      secrets: [],
      problems: [],
    });
  });

  it.each([
    ['<+trigger.event>', 'pull_request'],
    ['<+trigger.pullReq>', '42'],
    ['<+trigger.payload.pull_request.head.sha>', 'abc123'],
    ['<+trigger.payload.commits.1.id>', 'c2'],
    ['<+trigger.payload.commits[0].id>', 'c1'],
    ['<+eventPayload.pull_request.number>', '42'],
    ['<+trigger.payload.pull_request.draft>', 'false'],
    ['<+trigger.payload.pull_request.labels>', '[{"name":"bug"}]'],
    ['<+inputs.depth>', '3'],
    ['<+inputs.flags>', '{"a":1}'],
    ['<+inputs.flags.a>', '1'],
  ])('resolves %s to %s', (text, value) => {
    expect(resolveString(text, scope())).toEqual({ value, secrets: [], problems: [] });
  });

  it('falls back to the input of the same name when the event field is empty or missing', () => {
    // service is "" in the event, suffix is absent from it.
    expect(resolveString('<+trigger.service>/<+trigger.suffix>', scope())).toEqual({
      value: 'billing/v2',
      secrets: [],
      problems: [],
    });
  });

  it('prefers the event value over the input', () => {
    const s = scope({ inputs: { branch: 'develop' } });
    expect(resolveString('<+trigger.branch>', s).value).toBe('main');
  });

  it.each([
    [
      '<+trigger.pullReq>',
      { trigger: { event: 'workflow_dispatch' }, inputs: {} },
      '<+trigger.pullReq> has no value: the event does not carry "pullReq" and there is no input "pullReq"',
    ],
    [
      '<+trigger.repo>',
      { trigger: { repo: null }, inputs: { repo: null } },
      '<+trigger.repo> has no value: the event does not carry "repo" and input "repo" is not set',
    ],
    ['<+inputs.missing>', {}, '<+inputs.missing> has no value: there is no input "missing"'],
    ['<+inputs.unset>', {}, '<+inputs.unset> has no value: input "unset" is not set'],
    ['<+inputs.flags.b>', {}, '<+inputs.flags.b> has no value: input "flags" has no "flags.b"'],
    [
      '<+trigger.payload.pull_request.base.ref>',
      {},
      '<+trigger.payload.pull_request.base.ref> has no value: the event payload has no "pull_request.base"',
    ],
    ['<+trigger.payload.commits.5.id>', {}, '<+trigger.payload.commits.5.id> has no value: the event payload has no "commits.5"'],
    ['<+trigger.payload.empty>', {}, '<+trigger.payload.empty> has no value: "empty" is empty in the event payload'],
    [
      '<+trigger.payload.ref>',
      { trigger: { event: 'workflow_dispatch' } },
      '<+trigger.payload.ref> has no value: the event has no payload',
    ],
  ])('turns %s into "" with a problem', (text, over, problem) => {
    expect(resolveString(`[${text}]`, scope(over as Partial<ResolveScope>))).toEqual({
      value: '[]',
      secrets: [],
      problems: [problem],
    });
  });

  it('collects values that came from secret inputs, directly or through the trigger fallback', () => {
    const s = scope();
    expect(resolveString('key=<+inputs.anthropicKey> again=<+trigger.anthropicKey>', s)).toEqual({
      value: 'key=sk-live-1 again=sk-live-1',
      secrets: ['sk-live-1'],
      problems: [],
    });
  });

  it('resolves secrets.getValue only from supplied secret values', () => {
    const text = 'token=<+secrets.getValue("gh")>';
    expect(resolveString(text, scope({ secretValues: { gh: 'ghp_x' } }))).toEqual({
      value: 'token=ghp_x',
      secrets: ['ghp_x'],
      problems: [],
    });
    expect(resolveString(text, scope())).toEqual({
      value: text,
      secrets: [],
      problems: [
        '<+secrets.getValue("gh")> is left as is: secret "gh" is not available locally (trig has no secret store; declare a secret input instead)',
      ],
    });
  });

  it('leaves runtime and unknown namespaces verbatim with a problem', () => {
    const text = 'run <+pipeline.sequenceId> on <+triger.branch> <+pipeline.name.toLowerCase()>';
    expect(resolveString(text, scope())).toEqual({
      value: text,
      secrets: [],
      problems: [
        '<+pipeline.sequenceId> is left as is: "pipeline" expressions are resolved by Harness while the pipeline runs, not by trig',
        '<+triger.branch> is left as is: "triger" is not a known expression namespace (did you mean "trigger"?)',
        '<+pipeline.name.toLowerCase()> is left as is: "pipeline" expressions are resolved by Harness while the pipeline runs, not by trig',
      ],
    });
  });

  it('leaves malformed expressions verbatim and reports the scan error', () => {
    expect(resolveString('a <+trigger..x> b', scope())).toEqual({
      value: 'a <+trigger..x> b',
      secrets: [],
      problems: ['empty path segment in "<+trigger..x>": remove the extra "."'],
    });
  });
});

describe('resolveDeep', () => {
  it('resolves strings in nested objects and arrays, keeping keys and non-strings', () => {
    const def = {
      '<+inputs.suffix>': 'key stays',
      clone: { ref: 'refs/heads/<+trigger.branch>', depth: '<+inputs.depth>', fetchTags: true },
      env: ['A=<+trigger.repo>', 7, null],
      flags: '<+inputs.flags>',
      padded: ' <+inputs.depth>',
    };
    expect(resolveDeep(def, scope())).toEqual({
      value: {
        '<+inputs.suffix>': 'key stays',
        clone: { ref: 'refs/heads/main', depth: 3, fetchTags: true },
        env: ['A=my-service', 7, null],
        flags: { a: 1 },
        padded: ' 3',
      },
      secrets: [],
      problems: [],
    });
  });

  it('copies resolved objects instead of sharing them with the inputs', () => {
    const s = scope();
    const out = resolveDeep({ f: '<+inputs.flags>' }, s).value as { f: { a: number } };
    out.f.a = 99;
    expect(s.inputs['flags']).toEqual({ a: 1 });
  });

  it('collects secrets and problems from every string, and leaves runtime expressions verbatim', () => {
    const def = { env: { KEY: '<+inputs.anthropicKey>', PR: '<+trigger.nope>', SEQ: '<+pipeline.sequenceId>' } };
    expect(resolveDeep(def, scope())).toEqual({
      value: { env: { KEY: 'sk-live-1', PR: '', SEQ: '<+pipeline.sequenceId>' } },
      secrets: ['sk-live-1'],
      problems: [
        '<+trigger.nope> has no value: the event does not carry "nope" and there is no input "nope"',
        '<+pipeline.sequenceId> is left as is: "pipeline" expressions are resolved by Harness while the pipeline runs, not by trig',
      ],
    });
  });
});
