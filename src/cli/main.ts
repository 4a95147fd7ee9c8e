import { Command, CommanderError, Option } from 'commander';
import { FIRE_DEFAULTS, MAX_CHAIN_DEPTH } from '../fire/defaults.js';
import { StoreBusyError, UsageError, EXIT } from '../shared/errors.js';
import { processOutput, type Output } from '../shared/io.js';

declare const TRIG_VERSION: string | undefined;

/** The options `trig fire` and `trig replay` share: inputs, how the runs go, and what is said. */
function fireOptions(command: Command): Command {
  return command
    .option('--input <key=value>', 'an input value (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('--dry-run', 'show the decision and the run plans; launch nothing (and record nothing)')
    .option('--explain', 'also say why each other definition did not match')
    .option('--json', 'print one JSON document (schemas/fire-output.schema.json)')
    .option('--quiet', 'print only failures')
    .option('--workdir <dir>', 'the working directory of the runs (default: the current directory)')
    .option('--container-runtime <cli>', 'the container engine CLI for container steps', FIRE_DEFAULTS.containerRuntime)
    .option('--concurrency <n>', 'how many runs at most at once', String(FIRE_DEFAULTS.concurrency))
    .option('--timeout <duration>', 'bound each run (90s, 30m, 1h)')
    .option(
      '--chain-depth <n>',
      `how many events deep runs' ends fire further runs (workflow_run, pipeline_failed); 0 turns chains off, at most ${MAX_CHAIN_DEPTH}`,
      String(FIRE_DEFAULTS.chainDepth),
    )
    .option('--no-cache', 'check every definition afresh, without the check cache')
    .option('--strict', 'treat definitions with warnings as invalid: they do not fire');
}

// Each command's implementation is imported when the command runs, so `trig --version`
// and `trig validate` never load what `trig fire` needs.
function buildProgram(io: Output): Command {
  const program = new Command('trig')
    .description('Validate and fire event-triggered pipeline and agent definitions.')
    .version(typeof TRIG_VERSION === 'string' ? TRIG_VERSION : '0.0.0-dev', '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    // Usage errors are one line, like every other error of trig.
    .configureOutput({
      outputError: (message, write) =>
        write(message.replace(/^error: /, 'trig: ').replace(/\n\(Did you mean (.*)\?\)/, '; did you mean $1?')),
    });

  program
    .command('validate')
    .description('Check definitions against the schema and the semantic rules.')
    .argument('[paths...]', 'files, directories and globs (default: .harness/)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
    .option('--strict', 'fail on warnings too')
    .option('--no-cache', 'check every file afresh, without the check cache')
    .option(
      '--against-history [n]',
      'decide the last n recorded events (default 100) again and show the runs that would appear or disappear; --strict: exit 1 if any',
    )
    .option('--all', "with --against-history: every recorded event, not only those of these definitions' places")
    .action(
      async (
        paths: string[],
        options: { format: 'text' | 'json' | 'github'; strict?: boolean; cache: boolean; againstHistory?: string | true; all?: boolean },
      ) => {
        if (options.againstHistory !== undefined) {
          const { runAgainstHistory } = await import('./against-history.js');
          process.exitCode = await runAgainstHistory(paths, { ...options, againstHistory: options.againstHistory }, io);
          return;
        }
        if (options.all) throw new UsageError('--all goes with --against-history');
        const { runValidate } = await import('./validate.js');
        process.exitCode = await runValidate(paths, options, io);
      },
    );

  const fire = program
    .command('fire')
    .description('Decide which definitions an event starts, resolve their expressions, and run them.')
    .requiredOption('--event <name>', 'the event name (push, pipeline_failed, …)')
    .option('--payload <file>', 'the event payload as JSON; - reads standard input')
    .option('--defs <paths...>', 'definition files, directories and globs (default: .harness/)')
    .option('--at <time>', 'the time of the event, ISO-8601 (default: now); decides which schedules are due');
  fireOptions(fire)
    .option('--from-git', 'push only: build the payload from the git repository here (as the git hooks do)')
    .option('--before <rev>', 'with --from-git: the old commit (default: the first parent of --after)')
    .option('--after <rev>', 'with --from-git: the new commit (default: HEAD)')
    .option('--ref <ref>', 'with --from-git: the full ref name (default: the branch or tag --after names)')
    .option('--delivery-id <id>', 'the delivery id of the event: a later fire with the same id runs nothing (exactly once)')
    .addOption(
      new Option(
        '--verify <route>',
        "check the payload's raw bytes against --signature as trig serve does (needs the route's secret)",
      ).choices(['github', 'linear', 'standard']),
    )
    .option(
      '--signature <value>',
      'with --verify: the signature header as received (X-Hub-Signature-256, Linear-Signature, webhook-signature)',
    )
    .option('--timestamp <seconds>', 'with --verify standard: the webhook-timestamp header')
    // What the cron entry passes (trig cron install); not for people: see README, "trig cron".
    .addOption(new Option('--cron', 'the tick of the cron entry').hideHelp())
    .action(async (options) => {
      const { runFire } = await import('./fire.js');
      process.exitCode = await runFire(options, io);
    });

  // The commands that read the store: none creates it (see cli/stored.ts).
  program
    .command('runs')
    .description('List the recorded runs, newest first: of the definitions here, or of every place with --all.')
    .option('--limit <n>', 'show at most this many', '20')
    .option('--status <status>', 'only runs with this status (succeeded, failed, running, lost, …)')
    .option('--definition <name>', 'only runs of this definition')
    .option('--event <name>', 'only runs of this event')
    .option('--since <duration>', 'only runs queued within this long (90m, 12h, 7d)')
    .option('--all', 'runs of every place, not only of the definitions here')
    .option('--defs <paths...>', 'the definitions whose runs to show (default: .harness/)')
    .option('--json', 'print one JSON document (schemas/runs-output.schema.json)')
    .action(async (options) => {
      const { runRuns } = await import('./runs.js');
      process.exitCode = await runRuns(options, io);
    });

  program
    .command('logs')
    .description("Print a run's stored output (masked), as trig fire printed it.")
    .argument('<run-id>', 'the run id, or a unique start of it')
    .option('--step <name>', "only this step's lines")
    .option('--follow', 'keep printing new lines until the run is over')
    .option('--json', 'print one JSON document (schemas/logs-output.schema.json)')
    .action(async (id: string, options) => {
      const { runLogs } = await import('./logs.js');
      process.exitCode = await runLogs(id, options, io);
    });

  program
    .command('history')
    .description('List the events received, newest first, with what each matched and the runs it started.')
    .option('--limit <n>', 'show at most this many', '20')
    .option('--all', 'events of every place, not only of the definitions here')
    .option('--defs <paths...>', 'the definitions whose events to show (default: .harness/)')
    .option('--json', 'print one JSON document (schemas/history-output.schema.json)')
    .action(async (options) => {
      const { runHistory } = await import('./history.js');
      process.exitCode = await runHistory(options, io);
    });

  program
    .command('prune')
    .description('Remove old events with their runs and logs from the store (runs not over are kept).')
    .option('--older-than <duration>', 'remove events received longer ago than this (default 30d unless --keep is given)')
    .option('--keep <n>', 'keep only the newest n events')
    .option('--json', 'print one JSON document (schemas/prune-output.schema.json)')
    .action(async (options) => {
      const { runPrune } = await import('./prune.js');
      process.exitCode = await runPrune(options, io);
    });

  const replay = program
    .command('replay')
    .description('Fire a recorded event again, against the definitions as they are now (a new event, recorded with replayOf).')
    .argument('<event-id>', 'the recorded event (trig history), or a unique start of its id')
    .option('--defs <paths...>', "definition files, directories and globs (default: the places the event's definitions came from)");
  fireOptions(replay).action(async (eventId: string, options) => {
    const { runReplay } = await import('./replay.js');
    process.exitCode = await runReplay(eventId, options, io);
  });

  program
    .command('resume')
    .description('Carry on the runs waiting for a retry whose trig is gone, once the next attempt is due (the cron tick does it too).')
    .argument('[run-id]', 'only this run (a unique start of its id)')
    .option('--quiet', 'print only failures')
    .option('--no-cache', 'check every definition afresh, without the check cache')
    .action(async (runId: string | undefined, options) => {
      const { runResume } = await import('./resume.js');
      process.exitCode = await runResume(runId, options, io);
    });

  program
    .command('approvals')
    .description('List the gates runs wait at, approvals and manual interventions (enforcing the timeouts of those past their deadline).')
    .option('--json', 'print one JSON document (schemas/approvals-output.schema.json)')
    .option('--quiet', 'print only failures of the runs a timeout-action approve carries on')
    .option('--no-cache', 'check every definition afresh, without the check cache')
    .action(async (options) => {
      const { runApprovals } = await import('./approvals.js');
      process.exitCode = await runApprovals(options, io);
    });

  for (const verdict of ['approve', 'reject'] as const) {
    program
      .command(verdict)
      .description(
        verdict === 'approve'
          ? 'Approve a gate; with its last needed approval, the run goes on here, after the gate.'
          : 'Reject a gate: its run ends rejected, and nothing after the gate runs.',
      )
      .argument('<gate-id>', 'the gate (trig approvals), or a unique start of its id')
      .option('--as <name>', 'who decides (default: the user running trig)')
      .option('--comment <text>', 'why, recorded with the decision')
      .option('--quiet', 'print only failures of the run carried on')
      .option('--no-cache', 'check every definition afresh, without the check cache')
      .action(async (gate: string, options) => {
        const { runDecide } = await import('./approvals.js');
        process.exitCode = await runDecide(verdict, gate, options, io);
      });
  }

  program
    .command('intervene')
    .description('Decide about a failed step that waits for manual intervention: retry it, ignore its failure, or abort the run.')
    .argument('<gate-id>', 'the gate (trig approvals), or a unique start of its id')
    .argument('<decision>', 'retry (the step runs again), ignore (the run goes on as if it succeeded) or abort (the run ends failed)')
    .option('--as <name>', 'who decides (default: the user running trig)')
    .option('--comment <text>', 'why, recorded with the decision')
    .option('--quiet', 'print only failures of the run carried on')
    .option('--no-cache', 'check every definition afresh, without the check cache')
    .action(async (gate: string, decision: string, options) => {
      const { runIntervene } = await import('./approvals.js');
      process.exitCode = await runIntervene(gate, decision, options, io);
    });

  program
    .command('watch')
    .description('Fire file_change for each settled batch of changes in a working tree, until Ctrl-C.')
    .argument('[dir]', 'the directory to watch (default: the current directory)')
    .option('--defs <paths...>', 'definition files, directories and globs (default: .harness/); reloaded when they change')
    .option('--debounce <duration>', 'how long the tree must be quiet before a batch fires', '500ms')
    .option('--workdir <dir>', 'the working directory of the runs (default: the watched directory)')
    .option('--quiet', 'print only failures')
    .option('--container-runtime <cli>', 'the container engine CLI for container steps', FIRE_DEFAULTS.containerRuntime)
    .option('--concurrency <n>', 'how many runs of one batch at most at once', String(FIRE_DEFAULTS.concurrency))
    .option('--timeout <duration>', 'bound each run (90s, 30m, 1h)')
    .option('--no-cache', 'check every definition afresh, without the check cache')
    .action(async (dir: string | undefined, options) => {
      const { runWatch } = await import('./watch.js');
      process.exitCode = await runWatch(dir, options, io);
    });

  program
    .command('serve')
    .description('Receive signed webhooks (GitHub, Linear, Standard Webhooks) over HTTP; store each delivery, then run it, exactly once.')
    .option('--host <address>', 'the address to listen on (loopback unless told)', '127.0.0.1')
    .option('--port <n>', 'the port (0: any free one)', '8080')
    .option('--defs <paths...>', 'definition files, directories and globs (default: .harness/); reloaded when they change')
    .option('--concurrency <n>', 'how many deliveries run at once (and how many runs of one delivery)', String(FIRE_DEFAULTS.concurrency))
    .option('--queue <n>', 'how many acknowledged deliveries may wait; beyond, 503 with Retry-After', '1000')
    .option('--workdir <dir>', 'the working directory of the runs (default: the current directory)')
    .option('--nice <n>', "how much lower the runs' CPU priority is than receiving's (0-19; added to the nice value)", '5')
    .option('--grace <duration>', 'after SIGTERM or SIGINT, how long running runs may take to finish', '30s')
    .option('--max-body <size>', 'the largest body taken (413 beyond)', '25MiB')
    .option('--request-timeout <duration>', 'how long a client may take to send a request', '30s')
    .option('--max-connections <n>', 'how many connections at once', '256')
    .option(
      '--allow-unsigned <route>',
      'let a route without a secret take unsigned requests (local experiments only; repeatable)',
      (value: string, all: string[] = []) => [...all, value],
    )
    .option('--timeout <duration>', 'bound each run (90s, 30m, 1h)')
    .option('--quiet', "print the runs' lines only when they fail")
    .option('--container-runtime <cli>', 'the container engine CLI for container steps', FIRE_DEFAULTS.containerRuntime)
    .option('--no-cache', 'check every definition afresh, without the check cache')
    .option('--no-page', 'serve the webhooks only, without the page at / (needed off loopback unless TRIG_UI_TOKEN is set)')
    .action(async (options) => {
      const { runServe } = await import('./serve.js');
      process.exitCode = await runServe(options, io);
    });

  // trig serve's run thread: the same trig, started by trig serve in a worker thread.
  program.command('serve-runner', { hidden: true }).action(async () => {
    const { runServeRunner } = await import('./serve.js');
    process.exitCode = await runServeRunner();
  });

  program
    .command('sign')
    .description("Print the headers that sign a payload as a route's sender would (for testing trig serve with curl).")
    .argument('<payload>', 'the body to sign, byte for byte (a file, or - for standard input)')
    .addOption(
      new Option('--route <route>', 'the route whose signature to make').choices(['github', 'linear', 'standard']).makeOptionMandatory(),
    )
    .option('--event <name>', 'the event (github: the X-GitHub-Event header; standard: shown in the path)')
    .option('--secret-env <var>', "the environment variable holding the secret (default: the route's)")
    .option('--id <id>', 'the delivery id (default: a random UUID)')
    .option('--json', 'print one JSON document (schemas/sign-output.schema.json)')
    .action(async (payload: string, options) => {
      const { runSign } = await import('./sign.js');
      process.exitCode = await runSign(payload, options, io);
    });

  const cron = program
    .command('cron')
    .description("Fire the definitions' schedule triggers from the system's cron (one entry per repository).");
  for (const action of ['print', 'install', 'uninstall'] as const) {
    const command = cron
      .command(action)
      .description(
        action === 'print'
          ? 'Print the crontab block for the definitions in this directory.'
          : action === 'install'
            ? "Add or update this directory's block in the user's crontab."
            : "Remove this directory's block from the user's crontab.",
      );
    if (action !== 'uninstall') command.option('--defs <paths...>', 'definition files, directories and globs (default: .harness/)');
    if (action !== 'print') command.option('--dry-run', 'print the resulting crontab; change nothing');
    command
      .option('--user <name>', "another user's crontab (crontab -u; needs root)")
      .action(async (options: { defs?: string[]; dryRun?: boolean; user?: string }) => {
        const { runCron } = await import('./cron.js');
        process.exitCode = await runCron(action, options, io);
      });
  }

  const hooks = program
    .command('hooks')
    .description('Fire push events from git hooks (client hooks, or post-receive in a bare repository).');
  hooks
    .command('install')
    .description("Install trig's hooks; existing hooks are kept and run first.")
    .option('--repo <dir>', 'the repository', '.')
    .option('--hooks <names>', 'the hooks to install, comma-separated (default: pre-push in a clone, post-receive in a bare repository)')
    .option('--block-on-failure', 'let pre-push refuse the push when a run fails')
    .action(async (options: { repo: string; blockOnFailure?: boolean; hooks?: string }) => {
      const { runHooksInstall } = await import('./hooks.js');
      process.exitCode = await runHooksInstall(options, io);
    });
  hooks
    .command('uninstall')
    .description("Remove trig's hooks and put back the hooks they kept.")
    .option('--repo <dir>', 'the repository', '.')
    .action(async (options: { repo: string }) => {
      const { runHooksUninstall } = await import('./hooks.js');
      process.exitCode = await runHooksUninstall(options, io);
    });
  // What the installed hook scripts call; not for people.
  hooks
    .command('run', { hidden: true })
    .argument('<hook>')
    .argument('[args...]')
    .option('--block-on-failure')
    .action(async (hook: string, args: string[], options: { blockOnFailure?: boolean }) => {
      const { runHookCommand } = await import('./hooks.js');
      process.exitCode = await runHookCommand(hook, args, options, io);
    });

  return program;
}

async function main(argv: string[], io: Output): Promise<void> {
  try {
    await buildProgram(io).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; every other parse failure is a usage error.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`trig: ${error.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    if (error instanceof StoreBusyError) {
      io.stderr.write(`trig: ${error.message}\n`);
      process.exitCode = EXIT.busy;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`trig: internal error: ${message}\n`);
    if (process.env.TRIG_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    process.exitCode = 70;
  }
}

// A reader that goes away (`trig validate | head -1`) closes the pipe under trig. What was
// meant for it is dropped: no stack trace, and runs in flight still finish and keep
// their exit code. Nothing could report a failing output stream anyway.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

void main(process.argv, processOutput());
