import { describe, expect, it } from 'vitest';
import { literalSecret } from '../../../src/validate/rules/literal-secret.js';
import { check } from './check.js';

const withDefault = (value: string, type = 'secret') =>
  ['pipeline:', '  on: push', '  inputs:', '    apiKey:', `      type: ${type}`, `      default: ${value}`].join('\n');

const advice = 'not a secret reference; store the value as a secret and give its identifier (e.g. account.apiKey)';

describe('literal-secret', () => {
  it.each([
    ['sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv', 'an API key ("sk-…")'],
    ['ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'a GitHub token'],
    ['github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuv', 'a GitHub personal access token'],
    ['xoxb-123456789012-abcdefghij', 'a Slack token'],
    ['AKIAIOSFODNN7EXAMPLE', 'an AWS access key id'],
    ['"-----BEGIN OPENSSH PRIVATE KEY-----"', 'a PEM key or certificate'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl', 'a JSON Web Token'],
    ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'a random token'],
    ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b', 'a random token'],
  ])('warns at the default %s', (value, kind) => {
    expect(check(literalSecret, withDefault(value))).toEqual([
      `6:16 warning: secret input "apiKey" has a default that looks like ${kind}, ${advice} @ ${value}`,
    ]);
  });

  it.each([
    'autofix_anthropic_api_key',
    'account.harness_api_key',
    'org.ffcleanup_harness_apikey',
    'my_api_key_2024',
    '<+secrets.getValue("anthropic")>',
    'ProductionDatabasePassword',
  ])('accepts the reference %s', (value) => {
    expect(check(literalSecret, withDefault(value))).toEqual([]);
  });

  it('leaves inputs that are not secrets alone', () => {
    expect(check(literalSecret, withDefault('ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'string'))).toEqual([]);
  });
});
