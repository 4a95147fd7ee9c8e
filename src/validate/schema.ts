import validateDefinition from './generated/definition-validator.js';
import { shapeSchemaErrors, type SchemaProblem } from './schema-errors.js';

/** Checks a document against schemas/definition.schema.json, precompiled at build time. */
export function schemaProblems(value: unknown): SchemaProblem[] {
  if (validateDefinition(value)) return [];
  return shapeSchemaErrors(validateDefinition.errors ?? [], value);
}
