import { COMMON_FIELDS, EVENTS, type EventSpec } from './events.js';
import { FILTER_KINDS, type FilterKind } from './filter-kinds.js';

// The README's event reference, generated from the catalog by `npm run gen` so that the
// documentation lists exactly the events, filters and fields trig knows.

const GROUPS: Record<EventSpec['group'], string> = {
  github: 'GitHub',
  ci: 'CI',
  cd: 'CD',
  ccm: 'CCM',
  sto: 'STO',
  platform: 'Platform',
  local: 'Local',
};

const code = (items: readonly string[]) => (items.length ? items.map((i) => `\`${i}\``).join(', ') : '—');

/** Every kind of filter, the filters of that kind and how they match. */
function filterKindsMarkdown(): string[] {
  const names = new Map<FilterKind, Set<string>>();
  for (const event of EVENTS) {
    for (const [name, spec] of Object.entries(event.filters)) {
      const set = names.get(spec.kind) ?? new Set<string>();
      names.set(spec.kind, set.add(name));
    }
  }
  const rows = (Object.keys(FILTER_KINDS) as FilterKind[]).map(
    (kind) => `| ${kind} | ${code([...(names.get(kind) ?? [])])} | ${FILTER_KINDS[kind].doc} |`,
  );
  return ['| Filter kind | Filters | Passes when |', '|---|---|---|', ...rows];
}

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
    ...filterKindsMarkdown(),
    '',
    '| Event | Group | Description | Filters | Trigger fields |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
