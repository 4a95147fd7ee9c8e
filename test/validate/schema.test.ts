import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/trig.js';
import { definitionSchema, schemaProblems as problems, validate } from '../helpers/schema.js';
import type { SchemaProblem } from '../../src/validate/schema-errors.js';

function problemsOf(yaml: string): SchemaProblem[] {
  return problems(parse(yaml));
}

describe('definition.schema.json', () => {
  it('defines the shared definitions other schemas and rules refer to', () => {
    expect(definitionSchema.$id).toBe('definition.schema.json');
    for (const name of ['pipeline', 'stage', 'step', 'input']) expect(definitionSchema.$defs).toHaveProperty(name);
    expect(definitionSchema.$defs.pipeline.properties.on).toEqual(expect.objectContaining({ $ref: 'events.schema.json#/$defs/on' }));
  });

  it('closes every object it describes, so that misspelt keys are reported', () => {
    const open: string[] = [];
    const visit = (node: unknown, where: string, branch: boolean): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${where}/${i}`, branch));
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Record<string, unknown>;
      // anyOf branches and dependentSchemas only constrain keys declared by their parent;
      // an additionalProperties schema (a matrix's axes) is a deliberate open map.
      const closed = schema.additionalProperties === false || typeof schema.additionalProperties === 'object';
      if (!branch && schema.properties && !closed) open.push(where);
      for (const [key, value] of Object.entries(schema)) {
        if (key === 'properties' || key === '$defs') {
          for (const [name, sub] of Object.entries(value as object)) visit(sub, `${where}/${key}/${name}`, false);
        } else if (key === 'dependentSchemas') {
          for (const [name, sub] of Object.entries(value as object)) visit(sub, `${where}/${key}/${name}`, true);
        } else if (key === 'anyOf') {
          visit(value, `${where}/${key}`, true);
        } else if (typeof value === 'object') {
          visit(value, `${where}/${key}`, false);
        }
      }
    };
    visit(definitionSchema, '#', false);
    expect(open).toEqual([]);
  });

  describe('seed examples (fixtures/seed, taken from the trigger spec)', () => {
    const dir = join(ROOT, 'fixtures/seed');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    it('are all there', () =>
      expect(files.sort()).toEqual([
        'autofix.yaml',
        'cost-spike-agent.yaml',
        'cost-spike-pipeline.yaml',
        'ffcleanup.yaml',
        'onboarding.yaml',
        'progressive-list.yaml',
        'progressive-simple.yaml',
        'progressive-structured.yaml',
      ]));
    for (const file of files) {
      it(`accepts ${file}`, () => {
        const data = parse(readFileSync(join(dir, file), 'utf8'));
        expect(problems(data)).toEqual([]);
        expect(validate(data)).toBe(true);
      });
    }
  });

  it('accepts expressions where numbers and booleans are expected', () => {
    expect(
      problemsOf(`
pipeline:
  clone:
    depth: <+inputs.depth>
    lfs: <+inputs.lfs>
    ref: {type: pull-request, number: <+trigger.pullReq>}
  stages:
    - strategy: {max-parallel: <+inputs.n>}
      steps:
        - run: go test
          on-failure: {errors: all, action: {retry: {attempts: <+inputs.attempts>}}}
`),
    ).toEqual([]);
  });

  it('accepts agent steps and every upstream step kind', () => {
    expect(
      problemsOf(`
agent:
  barriers: [b]
  stages:
    - steps:
        - agent: {uses: org/review-agent:1.0.0, with: {tools: [grep, read]}, env: {TOKEN: <+inputs.token>}}
        - go build
        - run: {script: [go build, go test], shell: bash, container: {image: golang, pull: always}, outputs: [a, {name: b, mask: true}]}
        - run-test: {script: mvn test, match: "tests/**", splitting: {concurrency: 4}, report: [{type: junit, path: a.xml}]}
        - action: {uses: http, with: {method: GET}}
        - template: {uses: account.docker@1.0.0, with: {push: true}}
        - approval: {uses: jira, with: {project: PROJ}}
        - background: {container: redis}
        - barrier: {name: b}
        - queue: {key: k, scope: stage}
        - clone: {repo: org/other, depth: 1}
        - parallel: {steps: [go build, {group: {steps: [go test]}}]}
        - uses: actions/checkout@v4
          with: {fetch-depth: 0}
`),
    ).toEqual([]);
  });

  describe('rejects, with one precise problem per mistake', () => {
    const cases: { name: string; yaml: string; expected: SchemaProblem[] }[] = [
      {
        name: 'a misspelt key inside run',
        yaml: `
pipeline:
  stages:
    - steps:
        - run: go build
        - run:
            scritp: go test
`,
        expected: [
          {
            path: ['pipeline', 'stages', 0, 'steps', 1, 'run', 'scritp'],
            message: 'unknown key "scritp" in run step; did you mean "script"?',
            at: 'key',
          },
        ],
      },
      {
        name: 'neither pipeline nor agent',
        yaml: 'version: 1\n',
        expected: [{ path: [], message: 'a definition needs exactly one of "pipeline" or "agent"', at: 'value' }],
      },
      {
        name: 'both pipeline and agent',
        yaml: 'version: 1\npipeline: {}\nagent: {}\n',
        expected: [
          {
            path: ['agent'],
            message: 'a definition needs exactly one of "pipeline" or "agent", but has both',
            at: 'key',
          },
        ],
      },
      {
        name: 'a misspelt top-level key',
        yaml: 'version: 1\npipelines:\n  stages: []\n',
        expected: [{ path: ['pipelines'], message: 'unknown key "pipelines" at the top level; did you mean "pipeline"?', at: 'key' }],
      },
      {
        name: 'a word where a number is expected, and a bad enum value',
        yaml: `
pipeline:
  clone:
    depth: ten
    ref: {type: pr, number: true}
`,
        expected: [
          { path: ['pipeline', 'clone', 'depth'], message: '"depth" must be a number, got string "ten"', at: 'value' },
          {
            path: ['pipeline', 'clone', 'ref', 'type'],
            message: '"type" must be one of: branch, pull-request, tag',
            at: 'value',
          },
          {
            path: ['pipeline', 'clone', 'ref', 'number'],
            message: '"number" must be a number, got boolean true',
            at: 'value',
          },
        ],
      },
      {
        name: 'inputs of an unknown type, with a misspelt key, without a type',
        yaml: `
pipeline:
  inputs:
    a: {type: strng}
    b: {type: secret, requird: true}
    c: {default: 1}
`,
        expected: [
          {
            path: ['pipeline', 'inputs', 'a', 'type'],
            message:
              '"type" must be one of: string, number, boolean, array, duration, choice, environment, secret, service, step, object, connector; did you mean "string"?',
            at: 'value',
          },
          {
            path: ['pipeline', 'inputs', 'b', 'requird'],
            message: 'unknown key "requird" in input; did you mean "required"?',
            at: 'key',
          },
          { path: ['pipeline', 'inputs', 'c'], message: 'missing required key "type"', at: 'value' },
        ],
      },
      {
        name: 'steps without a kind, with two kinds, of the wrong type, missing uses',
        yaml: `
agent:
  stages:
    - steps:
        - rnu: go build
        - name: lonely
        - run: go build
          action: {uses: http}
        - 5
        - agent: {with: {a: 1}}
        - action: {uess: http}
`,
        expected: [
          {
            path: ['agent', 'stages', 0, 'steps', 0, 'rnu'],
            message: 'unknown key "rnu" in step; did you mean "run"?',
            at: 'key',
          },
          {
            path: ['agent', 'stages', 0, 'steps', 1],
            message:
              'a step needs exactly one of "run", "run-test", "action", "agent", "approval", "background", "barrier", "clone", "group", "parallel", "queue", "template" or "uses"',
            at: 'value',
          },
          {
            path: ['agent', 'stages', 0, 'steps', 2, 'action'],
            message:
              'a step needs exactly one of "run", "run-test", "action", "agent", "approval", "background", "barrier", "clone", "group", "parallel", "queue", "template" or "uses", but has "run" and "action"',
            at: 'key',
          },
          {
            path: ['agent', 'stages', 0, 'steps', 3],
            message: '"steps[3]" must be a string or a mapping, got number 5',
            at: 'value',
          },
          { path: ['agent', 'stages', 0, 'steps', 4, 'agent'], message: 'missing required key "uses"', at: 'value' },
          {
            path: ['agent', 'stages', 0, 'steps', 5, 'action', 'uess'],
            message: 'unknown key "uess" in action step; did you mean "uses"?',
            at: 'key',
          },
        ],
      },
      {
        name: 'mistakes in a stage and its failure strategy',
        yaml: `
pipeline:
  stages:
    - steps: [go build]
      group: {stages: []}
      on-failure: {errors: [alll], action: {retry: {attempts: many}}}
      runtime: clowd
      platform: {os: linux, arc: arm64}
`,
        expected: [
          {
            path: ['pipeline', 'stages', 0, 'group'],
            message: 'a stage can have only one of "steps", "group", "parallel", "approval" or "template", but has "steps" and "group"',
            at: 'key',
          },
          {
            path: ['pipeline', 'stages', 0, 'on-failure', 'errors', 0],
            message: '"errors[0]" must be one of 14 known values, got string "alll"; did you mean "all"?',
            at: 'value',
          },
          {
            path: ['pipeline', 'stages', 0, 'on-failure', 'action', 'retry', 'attempts'],
            message: '"attempts" must be a number, got string "many"',
            at: 'value',
          },
          {
            path: ['pipeline', 'stages', 0, 'runtime'],
            message: '"runtime" must be one of: cloud, vm, kubernetes, shell; did you mean "cloud"?',
            at: 'value',
          },
          {
            path: ['pipeline', 'stages', 0, 'platform', 'arc'],
            message: 'unknown key "arc" in platform; did you mean "arch"?',
            at: 'key',
          },
        ],
      },
      {
        name: 'mistakes inside a run step and its container',
        yaml: `
pipeline:
  stages:
    - steps:
        - run: {shell: fish, script: [1], container: {image: golang, pul: always}}
`,
        expected: [
          {
            path: ['pipeline', 'stages', 0, 'steps', 0, 'run', 'shell'],
            message: '"shell" must be one of: sh, bash, powershell, pwsh, python',
            at: 'value',
          },
          {
            path: ['pipeline', 'stages', 0, 'steps', 0, 'run', 'script', 0],
            message: '"script[0]" must be a string, got number 1',
            at: 'value',
          },
          {
            path: ['pipeline', 'stages', 0, 'steps', 0, 'run', 'container', 'pul'],
            message: 'unknown key "pul" in container; did you mean "pull"?',
            at: 'key',
          },
        ],
      },
      {
        name: 'a document that is not a mapping',
        yaml: '- pipeline\n',
        expected: [{ path: [], message: 'the definition must be a mapping, got a list', at: 'value' }],
      },
    ];
    for (const { name, yaml, expected } of cases) {
      it(name, () => {
        expect(problemsOf(yaml)).toEqual(expected);
      });
    }
  });
});
