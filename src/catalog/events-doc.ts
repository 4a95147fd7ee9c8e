import { COMMON_FIELDS, EVENTS, type EventSpec } from './events.js';

// The README's event reference, generated from the catalog by `npm run gen` so that the
// documentation lists exactly the events, filters and fields trig knows.

const GROUPS: Record<EventSpec['group'], string> = {
  github: 'GitHub',
  ci: 'CI',
  cd: 'CD',
  ccm: 'CCM',
  sto: 'STO',
  platform: 'Platform',
};

const code = (items: readonly string[]) => (items.length ? items.map((i) => `\`${i}\``).join(', ') : '—');

export function eventsMarkdown(): string {
  const rows = EVENTS.map((e) => {
    const filters = Object.entries(e.filters).map(([name, spec]) => (spec.field ? `${name} → ${spec.field}` : name));
    const activity = e.activityTypes === undefined ? '' : e.activityTypes.length ? ` Types: ${e.activityTypes.join(', ')}.` : '';
    const types = `${e.defaultTypes ? ` (default types: ${e.defaultTypes.join(', ')})` : ''}${activity}`;
    return `| \`${e.name}\` | ${GROUPS[e.group]} | ${e.description}${types} | ${code(filters)} | ${code(e.fields)} |`;
  });
  return [
    `Every event also carries ${code(COMMON_FIELDS)}. A filter \`name → field\` reads that trigger field.`,
    '',
    '| Event | Group | Description | Filters | Trigger fields |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
