// The last minute the cron entry ticked for a place: a tiny private file in the state
// folder, read and written by every tick, so that a tick can tell that ticks were missed
// (the machine was off or asleep) without opening the store every minute. The store is
// opened only when a gap is found.

import path from 'node:path';
import { readPrivateFile, writePrivateFile } from '../../shared/private-files.js';
import { isRecord } from '../../shared/records.js';

/**
 * FNV-1a over 64 bits: a short, stable file name for a place. Not node:crypto, which the
 * every-minute tick does not otherwise load; the file also holds the places it is for,
 * so a collision could only be mistaken for a missing stamp, never for another's.
 */
function placeHash(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  return hash.toString(16).padStart(16, '0');
}

export function tickStampFile(stateDir: string, places: readonly string[]): string {
  return path.join(stateDir, `tick-${placeHash(places.join('\n'))}.json`);
}

/** The minute of the last tick for the places, or undefined (none yet, unreadable, not private, another place's). */
export function readTickStamp(stateDir: string, places: readonly string[]): Date | undefined {
  const text = readPrivateFile(tickStampFile(stateDir, places));
  if (text === undefined) return undefined;
  let stamp: unknown;
  try {
    stamp = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(stamp) || typeof stamp.at !== 'string' || JSON.stringify(stamp.places) !== JSON.stringify(places)) return undefined;
  const at = new Date(stamp.at);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Records the minute of this tick (mode 0600, replaced whole); false when it could not be written. */
export function writeTickStamp(stateDir: string, places: readonly string[], at: Date): boolean {
  return writePrivateFile(tickStampFile(stateDir, places), `${JSON.stringify({ places, at: at.toISOString() })}\n`);
}
