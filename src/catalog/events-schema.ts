import { EVENTS } from './events.js';
import { FILTER_KINDS, type Schema } from './filter-kinds.js';

// Builds schemas/events.schema.json from the catalog, so the schema can never list an
// event or a filter the matcher does not know. `npm run gen` writes it; a test fails
// when the committed file differs from what the catalog produces. Each filter's value
// schema is its kind's (FILTER_KINDS); only the shape of `schedule` (one item or a list
// of items) is built here.

export function buildEventsSchema(): Schema {
  const filterDefs: Record<string, Schema> = {};
  let scheduleItem: Schema | undefined;
  for (const event of EVENTS) {
    const entries = Object.entries(event.filters);
    if (event.name === 'schedule') {
      scheduleItem = {
        type: 'object',
        properties: Object.fromEntries(entries.map(([name, spec]) => [name, FILTER_KINDS[spec.kind].schema(spec)])),
        required: ['cron'],
        additionalProperties: false,
      };
      filterDefs[event.name] = {
        description: event.description,
        anyOf: [{ $ref: '#/$defs/schedule-item' }, { type: 'array', items: { $ref: '#/$defs/schedule-item' }, minItems: 1 }],
      };
      continue;
    }
    filterDefs[event.name] = {
      description: event.description,
      type: ['object', 'null'],
      properties: Object.fromEntries(entries.map(([name, spec]) => [name, FILTER_KINDS[spec.kind].schema(spec)])),
      additionalProperties: false,
    };
  }
  const eventMapProperties = Object.fromEntries(EVENTS.map((e) => [e.name, { $ref: `#/$defs/filters/${e.name}` }]));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'events.schema.json',
    title: 'trig events: the on: stanza',
    description: 'Generated from src/catalog/events.ts by `npm run gen`; do not edit by hand.',
    $defs: {
      on: {
        description:
          'The events that start a run: an event name, a list of event names and single-event filter maps, or one map of events to filters.',
        type: ['string', 'array', 'object'],
        if: { type: 'string' },
        then: { $ref: '#/$defs/event-name' },
        else: {
          if: { type: 'array' },
          then: { items: { $ref: '#/$defs/event' }, minItems: 1 },
          else: { $ref: '#/$defs/event-map' },
        },
      },
      event: {
        description: 'An event name, or a map of one event name to its filters.',
        type: ['string', 'object'],
        if: { type: 'string' },
        then: { $ref: '#/$defs/event-name' },
        else: { $ref: '#/$defs/event-map', maxProperties: 1 },
      },
      'event-name': { enum: EVENTS.map((e) => e.name) },
      'event-map': {
        type: 'object',
        minProperties: 1,
        properties: eventMapProperties,
        additionalProperties: false,
      },
      'schedule-item': scheduleItem,
      filters: filterDefs,
    },
  };
}
