/**
 * The YAML of a one-step definition for tests: `on` lines under `on:` (indented as given),
 * and a `sh` script of the given lines.
 */
export function shellDefinition(name: string, on: readonly string[], script: readonly string[]): string {
  return [
    'version: 1',
    'pipeline:',
    `  name: ${name}`,
    '  on:',
    ...on.map((l) => `    ${l}`),
    '  stages:',
    '    - name: s',
    '      steps:',
    '        - name: log',
    '          run:',
    '            shell: sh',
    '            script: |',
    ...script.map((l) => `              ${l}`),
  ].join('\n');
}
