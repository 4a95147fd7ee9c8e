import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { shapeSchemaErrors, type SchemaProblem } from '../../src/validate/schema-errors.js';
import { ROOT } from './trig.js';

/** The source schemas, compiled by Ajv here (not the precompiled copy the build makes). */
export const definitionSchema = JSON.parse(readFileSync(join(ROOT, 'schemas/definition.schema.json'), 'utf8'));
export const eventsSchema = JSON.parse(readFileSync(join(ROOT, 'schemas/events.schema.json'), 'utf8'));

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(eventsSchema);
export const validate = ajv.compile(definitionSchema);

export function schemaProblems(data: unknown): SchemaProblem[] {
  if (validate(data)) return [];
  return shapeSchemaErrors(validate.errors ?? [], data, [definitionSchema, eventsSchema]);
}
