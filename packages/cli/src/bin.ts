#!/usr/bin/env node
// The `trainhooks` command: train one configuration, or ablate several, and write report.md/json/html.
import { Command, CommanderError, Option } from 'commander';
import { MATRIX_KINDS } from './ablation/matrix.js';
import { MODEL_NAMES } from './models/index.js';
import { PLUGIN_NAMES } from './plugins/plugin-names.js';
import { OPTIMIZER_NAMES } from './run/run-spec.js';
import { BACKEND_CHOICES, DEFAULTS, parseAblate, parseTrain, type AblateArguments, type TrainArguments } from './terminal/arguments.js';
import { progressMode } from './terminal/progress-view.js';
import { runCommand } from './terminal/run-command.js';
import { USAGE_EXIT_CODE, UsageError } from './terminal/usage-error.js';

interface OutputArguments {
  out: string;
  quiet?: boolean;
  jsonLines?: boolean;
}

function addRunOptions(command: Command): Command {
  return command
    .option('--model <name|path>', `${MODEL_NAMES.join(' | ')} (from scratch) | ${MODEL_NAMES.map((name) => `pretrained:${name}`).join(' | ')} (fine-tune a shipped backbone) | PATH/model.json`, DEFAULTS.model)
    .option('--new-head', 'replace the model\'s last Dense layer with a fresh one (default for pretrained:<name>)')
    .option('--no-new-head', 'keep the loaded model\'s own head')
    .option('--data <name|dir>', 'subset (embedded Fashion-MNIST 10k/2k) | digits (10k real MNIST digits, 8k/2k) | fashion-mnist (Debian package) | DIR with the four IDX files', DEFAULTS.data)
    .option('--plugins <list>', `comma-separated, from ${PLUGIN_NAMES.join(', ')}, or the path of a module of your own (./my-plugin.js: its default export makes the plugin)`)
    .option('--plugin-options <file>', 'JSON file: { "<plugin>": { option: value } }')
    .option('--epochs <n>', 'epochs per run', DEFAULTS.epochs)
    .option('--evals-per-epoch <n>', 'test evaluations per epoch (off the clock); more resolve time to target finer', '1')
    .option('--batch-size <n>', 'samples per step', DEFAULTS.batchSize)
    .option('--lr <rate>', 'learning rate (default: adam 0.001, sgd 0.05, momentum 0.02, rmsprop 0.001)')
    .addOption(new Option('--optimizer <name>', OPTIMIZER_NAMES.join(' | ')).default(DEFAULTS.optimizer))
    .option('--lr-schedule <step:EPOCHS:FACTOR>', 'multiply the learning rate by FACTOR every EPOCHS epochs')
    .option('--seed <n>', 'seed of the weights, the shuffle and the plugins (ablate: the first seed)', DEFAULTS.seed)
    .addOption(new Option('--backend <name>', BACKEND_CHOICES.join(' | ')).default(DEFAULTS.backend))
    .option('--threads <n>', 'wasm threads per run (default: every core, shared out among --parallel runs)')
    .option('--train-limit <n>', 'train on the first N samples only')
    .option('--test-limit <n>', 'evaluate on the first N test samples only')
    .option('--out <dir>', 'where report.md, report.json and report.html go', DEFAULTS.out)
    .option('--quiet', 'no progress output, only where the report is')
    .option('--json-lines', 'progress and results as JSON lines on stdout');
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('trainhooks')
    .description('Train TensorFlow.js models with trainhooks plugins, compare configurations, and report.')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  let pending: Promise<number> = Promise.resolve(0);
  addRunOptions(program.command('train').description('train one configuration (the given --plugins) and write a report'))
    .option('--checkpoint-every <steps>', 'save a checkpoint every N steps (also at the end, and at the next step after Ctrl-C / SIGTERM)')
    .option('--checkpoint-dir <dir>', 'where checkpoints go (default: the --resume directory, else OUT/checkpoint)')
    .option('--resume <dir>', 'continue the run saved in this checkpoint (the same model, data, plugins and options)')
    .exitOverride()
    .action((options: TrainArguments & OutputArguments) => {
      pending = (async () => {
        const spec = await parseTrain(options);
        return runCommand({ command: 'train', spec, targetDropPoints: 0, out: options.out, mode: progressMode(options) });
      })();
    });
  addRunOptions(program.command('ablate').description('train every configuration of a matrix of plugins, for several seeds, and compare them with the baseline'))
    .option('--matrix <kind|list>', `${MATRIX_KINDS.join(' | ')} | "a;a+b;…" (the baseline is always included)`, DEFAULTS.matrix)
    .option('--seeds <n>', 'seeds per configuration (interleaved across configurations)', DEFAULTS.seeds)
    .option('--target-drop <points>', "target accuracy = the baseline's final test accuracy − this many points", DEFAULTS.targetDrop)
    .option('--parallel <n>', 'runs at once (2: one per core on a 2-core machine; faster wall time, noisier timings)', DEFAULTS.parallel)
    .exitOverride()
    .action((options: AblateArguments & OutputArguments) => {
      pending = (async () => {
        const { targetDropPoints, ...spec } = await parseAblate(options);
        return runCommand({ command: 'ablate', spec, targetDropPoints, out: options.out, mode: progressMode(options) });
      })();
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return await pending;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message; help and version are not errors.
      return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    }
    if (error instanceof UsageError) {
      console.error(`trainhooks: ${error.message}`);
      return USAGE_EXIT_CODE;
    }
    throw error;
  }
}

// No top-level await: the CJS build of this file must load too.
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
