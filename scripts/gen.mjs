// Regenerates the files derived from the event catalog: schemas/events.schema.json.
import { writeFileSync } from 'node:fs';
import { loadTs } from './load-ts.mjs';

const { buildEventsSchema } = await loadTs('src/catalog/events-schema.ts');
writeFileSync(new URL('../schemas/events.schema.json', import.meta.url), JSON.stringify(buildEventsSchema(), null, 2) + '\n');
console.log('wrote schemas/events.schema.json');
