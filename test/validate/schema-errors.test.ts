import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { suggest } from '../../src/shared/suggest.js';
import { EXPRESSION_PATTERN, shapeSchemaErrors } from '../../src/validate/schema-errors.js';

describe('suggest', () => {
  it('matches a transposition, a case slip, a dropped or doubled letter', () => {
    expect(suggest('scritp', ['shell', 'script'])).toBe('script');
    expect(suggest('Script', ['shell', 'script'])).toBe('script');
    expect(suggest('requird', ['required', 'description'])).toBe('required');
    expect(suggest('pushh', ['pull_request', 'push'])).toBe('push');
  });

  it('matches a prefix once it is three letters long', () => {
    expect(suggest('cont', ['env', 'container'])).toBe('container');
    expect(suggest('co', ['env', 'container'])).toBeUndefined();
    expect(suggest('scripts-extra', ['script'])).toBe('script');
  });

  it('offers nothing for words that are not near any candidate', () => {
    expect(suggest('fish', ['sh', 'bash', 'python'])).toBeUndefined();
    expect(suggest('xyz', ['script', 'shell'])).toBeUndefined();
    expect(suggest('', ['script'])).toBeUndefined();
    expect(suggest('run', [])).toBeUndefined();
  });

  it('prefers the closest candidate, then the earlier one', () => {
    expect(suggest('tesk', ['task', 'test'])).toBe('task');
    expect(suggest('tesk', ['test', 'task'])).toBe('test');
    expect(suggest('contaier', ['contain', 'container'])).toBe('container');
  });
});

const many = Array.from({ length: 13 }, (_, i) => `value${i}`);

const schema = {
  $id: 'mini.schema.json',
  title: 'widget',
  type: 'object',
  properties: {
    left: { type: 'string' },
    right: { type: 'string' },
    name: { type: 'string', minLength: 1 },
    count: { type: ['number', 'string'], pattern: EXPRESSION_PATTERN },
    tags: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
    kind: { enum: ['round', 'square'] },
    level: { enum: many },
    box: {
      title: 'box',
      type: 'object',
      properties: { width: { type: 'number' }, height: { type: 'number' } },
      required: ['width'],
      additionalProperties: false,
    },
    either: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    // One value or a list of them, as the catalog's one-of filters (`severity`) are written.
    grade: { anyOf: [{ enum: ['good', 'bad'] }, { type: 'array', items: { enum: ['good', 'bad'] } }] },
    shape: {
      type: ['string', 'object'],
      if: { type: 'string' },
      then: { enum: ['circle'] },
      else: { properties: { sides: { type: 'number' } }, additionalProperties: false },
    },
    'a/b': { type: 'string' },
  },
  additionalProperties: false,
  anyOf: [
    { properties: { left: true }, required: ['left'] },
    { properties: { right: true }, required: ['right'] },
  ],
  dependentSchemas: {
    left: { properties: { right: false } },
    right: { properties: { left: false } },
  },
};

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

function errorsOf(data: unknown): ErrorObject[] {
  expect(validate(data)).toBe(false);
  return validate.errors ?? [];
}

function shape(data: unknown) {
  return shapeSchemaErrors(errorsOf(data), data, [schema]);
}

describe('shapeSchemaErrors', () => {
  it('names the unknown key, where it is, and the key that was probably meant', () => {
    expect(shape({ left: 'l', box: { width: 1, heigth: 2 } })).toEqual([
      { path: ['box', 'heigth'], message: 'unknown key "heigth" in box; did you mean "height"?', at: 'key' },
    ]);
    expect(shape({ left: 'l', colour: 'red' })).toEqual([
      { path: ['colour'], message: 'unknown key "colour" at the top level', at: 'key' },
    ]);
  });

  it('lets a misspelt key stand for the required key it was meant to be', () => {
    expect(shape({ left: 'l', box: { widht: 1 } })).toEqual([
      { path: ['box', 'widht'], message: 'unknown key "widht" in box; did you mean "width"?', at: 'key' },
    ]);
    expect(shape({ lefft: 'l' })).toEqual([
      { path: ['lefft'], message: 'unknown key "lefft" at the top level; did you mean "left"?', at: 'key' },
    ]);
  });

  it('reports a missing required key at the mapping that lacks it', () => {
    expect(shape({ left: 'l', box: { height: 1 } })).toEqual([{ path: ['box'], message: 'missing required key "width"', at: 'value' }]);
  });

  it('turns an anyOf of required keys and their dependentSchemas into "exactly one of"', () => {
    expect(shape({ name: 'n' })).toEqual([{ path: [], message: 'a widget needs exactly one of "left" or "right"', at: 'value' }]);
    expect(shape({ left: 'l', right: 'r' })).toEqual([
      { path: ['right'], message: 'a widget needs exactly one of "left" or "right", but has both', at: 'key' },
    ]);
  });

  it('words type errors for people, and keeps expressions out of the expected types', () => {
    expect(shape({ left: 'l', count: 'many' })).toEqual([
      { path: ['count'], message: '"count" must be a number, got string "many"', at: 'value' },
    ]);
    expect(shape({ left: 'l', count: true })).toEqual([
      { path: ['count'], message: '"count" must be a number, got boolean true', at: 'value' },
    ]);
    expect(shape({ left: 'l', box: [] })).toEqual([{ path: ['box'], message: '"box" must be a mapping, got a list', at: 'value' }]);
    expect(shape('text')).toEqual([{ path: [], message: 'the widget must be a mapping, got string "text"', at: 'value' }]);
  });

  it('reports the anyOf branch that fits the value, not the ones that do not', () => {
    expect(shape({ left: 'l', either: ['a', 3] })).toEqual([
      { path: ['either', 1], message: '"either[1]" must be a string, got number 3', at: 'value' },
    ]);
    expect(shape({ left: 'l', either: 5 })).toEqual([
      { path: ['either'], message: '"either" must be a string or a list, got number 5', at: 'value' },
    ]);
  });

  it('reports a list item that is not allowed at the item, not at the list', () => {
    expect(shape({ left: 'l', grade: ['good', 'ugly'] })).toEqual([
      { path: ['grade', 1], message: '"grade[1]" must be one of: good, bad', at: 'value' },
    ]);
    expect(shape({ left: 'l', grade: 'ugly' })).toEqual([{ path: ['grade'], message: '"grade" must be one of: good, bad', at: 'value' }]);
  });

  it('drops the if/then/else bookkeeping and keeps the branch that applied', () => {
    expect(shape({ left: 'l', shape: 'square' })).toEqual([{ path: ['shape'], message: '"shape" must be one of: circle', at: 'value' }]);
    expect(shape({ left: 'l', shape: { sides: 3, sidse: 4 } })).toEqual([
      { path: ['shape', 'sidse'], message: 'unknown key "sidse" in "shape"; did you mean "sides"?', at: 'key' },
    ]);
  });

  it('lists short enums and counts long ones', () => {
    expect(shape({ left: 'l', kind: 'rond' })).toEqual([
      { path: ['kind'], message: '"kind" must be one of: round, square; did you mean "round"?', at: 'value' },
    ]);
    expect(shape({ left: 'l', kind: 7 })).toEqual([{ path: ['kind'], message: '"kind" must be one of: round, square', at: 'value' }]);
    expect(shape({ left: 'l', level: 'value' })).toEqual([
      { path: ['level'], message: '"level" must be one of 13 known values, got string "value"; did you mean "value0"?', at: 'value' },
    ]);
  });

  it('words size limits', () => {
    expect(shape({ left: 'l', name: '', tags: [] })).toEqual([
      { path: ['name'], message: '"name" must not be empty', at: 'value' },
      { path: ['tags'], message: '"tags" must have at least 1 item', at: 'value' },
    ]);
    expect(shape({ left: 'l', tags: ['a', 'b', 'a'] })).toEqual([
      { path: ['tags'], message: '"tags" must not repeat items (items 0 and 2 are equal)', at: 'value' },
    ]);
  });

  it('keeps every problem, in the order they appear in the document', () => {
    const data = { kind: 'oval', box: { height: 'tall' }, count: 'many', left: 'l', tags: [1] };
    expect(shape(data)).toEqual([
      { path: ['kind'], message: '"kind" must be one of: round, square', at: 'value' },
      { path: ['box'], message: 'missing required key "width"', at: 'value' },
      { path: ['box', 'height'], message: '"height" must be a number, got string "tall"', at: 'value' },
      { path: ['count'], message: '"count" must be a number, got string "many"', at: 'value' },
      { path: ['tags', 0], message: '"tags[0]" must be a string, got number 1', at: 'value' },
    ]);
  });

  it('de-duplicates repeated errors', () => {
    const data = { left: 'l', count: 'many', box: { width: 1, x: 1 } };
    const errors = errorsOf(data);
    expect(shapeSchemaErrors([...errors, ...errors], data, [schema])).toEqual(shapeSchemaErrors(errors, data, [schema]));
    expect(shapeSchemaErrors(errors, data, [schema])).toHaveLength(2);
  });

  it('unescapes JSON pointers and uses numbers for array indices', () => {
    expect(shape({ left: 'l', 'a/b': 1, tags: ['x', 2] })).toEqual([
      { path: ['a/b'], message: '"a/b" must be a string, got number 1', at: 'value' },
      { path: ['tags', 1], message: '"tags[1]" must be a string, got number 2', at: 'value' },
    ]);
  });

  it('still words errors it cannot place in a schema', () => {
    const error: ErrorObject = {
      instancePath: '/when',
      schemaPath: '#/properties/when/format',
      keyword: 'format',
      params: { format: 'date-time' },
      message: 'must match format "date-time"',
    };
    expect(shapeSchemaErrors([error], { when: 'soon' }, [{}])).toEqual([
      { path: ['when'], message: '"when" must match format "date-time"', at: 'value' },
    ]);
  });
});
