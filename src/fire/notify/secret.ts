// A channel's secret (a webhook's signing secret, a Jira token) is never written in a
// definition: its setting names a TRIG_SECRET_* reference as a secret input's value does
// (plan/secrets.ts), and without the setting a variable of the channel's own is read.

import { secretVariable } from '../../plan/secrets.js';
import { NotifyError } from './http.js';

export function channelSecret(settings: Record<string, unknown>, key: string, fallback: string, env: NodeJS.ProcessEnv): string {
  const reference = settings[key];
  const variable = typeof reference === 'string' && reference ? secretVariable(reference) : fallback;
  const value = env[variable];
  if (!value)
    throw new NotifyError(`${variable} is not set (${typeof reference === 'string' ? `${key}: ${reference}` : `no ${key}: setting`})`);
  return value;
}
