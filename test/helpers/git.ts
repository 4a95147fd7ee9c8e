import { CACHE_DIR } from './trig.js';

/**
 * An environment for real git repositories in tests: a fixed author, no user or system
 * configuration, and trig's check cache in the test's temporary folder (hooks run trig).
 */
export const GIT_TEST_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  TRIG_CACHE_DIR: CACHE_DIR,
};
