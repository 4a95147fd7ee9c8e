// trig has no secret store: a secret is read from the environment of the trig process.
// A secret input's value is a reference (its --input value, else its default, else the
// input's name), and the reference names the variable:
//   account.harness_api_key -> TRIG_SECRET_HARNESS_API_KEY   (the scope prefix is dropped)
//   anthropicKey            -> TRIG_SECRET_ANTHROPIC_KEY     (camelCase becomes snake case)

export const SECRET_PREFIX = 'TRIG_SECRET_';

const SCOPES = /^(account|org|project)\./;

export function secretVariable(reference: string): string {
  const id = reference.replace(SCOPES, '');
  const snake = id
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return SECRET_PREFIX + snake;
}
