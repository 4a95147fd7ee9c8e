// The store's ids: 12 hex digits, short to type, 48 bits against collisions. node:crypto is
// loaded with the store only; the executor loads it for every run anyway, whereas Web
// Crypto's getRandomValues would cost a second start-up of the crypto internals (~6 ms).
import { createHash, randomBytes } from 'node:crypto';

const ID_LENGTH = 12;

// Random bytes are drawn a pool at a time: trig serve makes thousands of ids a second, and
// each call into node:crypto costs more than the bytes.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let drawn = 0;

/** A new event's id: random. */
export function newEventId(): string {
  if (drawn + ID_LENGTH / 2 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    drawn = 0;
  }
  drawn += ID_LENGTH / 2;
  return pool.toString('hex', drawn - ID_LENGTH / 2, drawn);
}

/**
 * A run's id: derived from its key, so the same definition for the same delivery has the same
 * id everywhere. A cryptographic hash, since a delivery key is the sender's choice: one made
 * to collide with another run's id would pass that run off as already run.
 */
export function runIdOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, ID_LENGTH);
}

/**
 * A gate's id: derived from its run's id and where in the run it is (stable, and unique with
 * its run); a manual intervention's also from the step's tries so far (it may wait again).
 */
export function gateIdOf(runId: string, stage: number, path: readonly number[], tries?: number): string {
  return runIdOf(`gate\0${runId}\0${stage}/${path.join('/')}${tries === undefined ? '' : `\0${tries}`}`);
}
