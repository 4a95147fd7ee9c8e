import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { EVENTS } from '../../src/catalog/events.js';

// GitHub's own example deliveries: every action they carry must be an activity type the
// catalog lists for the event, or `validate` would reject a `types:` that matches.
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: { action?: unknown }[] }[];

describe('activity types in the catalog', () => {
  it("include every action of GitHub's example deliveries, and none for events whose deliveries carry none", () => {
    let checked = 0;
    for (const event of EVENTS) {
      const delivered = examples.find((e) => e.name === event.name);
      if (!delivered || !event.activityTypes) continue;
      const actions = [...new Set(delivered.examples.map((x) => x.action).filter((a) => a !== undefined))];
      expect({ event: event.name, missing: actions.filter((a) => !event.activityTypes!.includes(a as string)) }).toEqual({
        event: event.name,
        missing: [],
      });
      checked += actions.length;
    }
    expect(checked).toBeGreaterThan(80); // 85 distinct actions over the events today
  });

  it("are given for every GitHub event with a types filter but repository_dispatch, whose types are its senders' own", () => {
    const without = EVENTS.filter((e) => e.filters.types?.kind === 'types' && e.activityTypes === undefined).map((e) => e.name);
    expect(without).toEqual(['repository_dispatch']);
  });
});
