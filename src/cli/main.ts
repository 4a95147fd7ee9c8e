import { Command, CommanderError, Option } from 'commander';
import { UsageError, EXIT } from './errors.js';

declare const TRIG_VERSION: string | undefined;

// Each command's implementation is imported when the command runs, so `trig --version`
// and `trig validate` never load what `trig fire` needs.
function buildProgram(): Command {
  const program = new Command('trig')
    .description('Validate and fire event-triggered pipeline and agent definitions.')
    .version(typeof TRIG_VERSION === 'string' ? TRIG_VERSION : '0.0.0-dev', '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(message.replace(/^error: /, 'trig: ')) });

  program
    .command('validate')
    .description('Check definitions against the schema and the semantic rules.')
    .argument('[paths...]', 'files, directories and globs (default: .harness/)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
    .option('--strict', 'fail on warnings too')
    .action(async (paths: string[], options: { format: 'text' | 'json' | 'github'; strict?: boolean }) => {
      const { runValidate } = await import('./validate.js');
      process.exitCode = await runValidate(paths, options);
    });

  program
    .command('fire')
    .description('Decide which definitions an event starts, resolve their expressions, and run them.')
    .requiredOption('--event <name>', 'the event name (push, pipeline_failed, …)')
    .option('--payload <file>', 'the event payload as JSON; - reads standard input')
    .option('--defs <paths...>', 'definition files, directories and globs (default: .harness/)')
    .option('--input <key=value>', 'an input value (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--at <time>', 'the time of the event, ISO-8601 (default: now); decides which schedules are due')
    .option('--dry-run', 'show the decision and the run plans; launch nothing')
    .option('--explain', 'also say why each other definition did not match')
    .option('--json', 'print one JSON document (schemas/fire-output.schema.json)')
    .option('--quiet', 'print only failures')
    .option('--workdir <dir>', 'the working directory of the runs', process.cwd())
    .option('--container-runtime <cli>', 'the container engine CLI for container steps', 'docker')
    .option('--concurrency <n>', 'how many runs at most at once', '4')
    .option('--timeout <duration>', 'bound each run (90s, 30m, 1h)')
    .action(async (options) => {
      const { runFire } = await import('./fire.js');
      process.exitCode = await runFire(options);
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; every other parse failure is a usage error.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`trig: ${error.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`trig: internal error: ${message}\n`);
    if (process.env.TRIG_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 70;
  }
}

await main(process.argv);
