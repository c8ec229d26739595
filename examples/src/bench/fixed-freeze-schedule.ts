// A fixed freeze schedule as a CLI plugin module: the hand-made comparison for the freeze plugin's
// decisions (`npm run bench -- finetune --configs "./examples/src/bench/fixed-freeze-schedule.ts+act-cache"`).
// It knows nothing about the run: from each listed step on, at least that many front units are frozen.
// Options (the CLI's --plugin-options, keyed by this module's path): { "schedule": [[step, units], …] };
// the default is the issue-27 plan's schedule with the freeze plugin's cap: 3 units at step 60, 4 at 250.
import { checkOptionNames, HookStage, optionError, type PluginDescription, type StepContext, type Trainer, type TrainerPlugin } from '@trainhooks/core-hooks';

export type FreezeSchedule = ReadonlyArray<readonly [step: number, frozenUnits: number]>;

export const DEFAULT_FREEZE_SCHEDULE: FreezeSchedule = [
  [60, 3],
  [250, 4],
];

/** The frozen prefix the schedule asks for at `step`: the largest count whose step has come. */
export function scheduledPrefix(schedule: FreezeSchedule, step: number): number {
  let prefix = 0;
  for (const [from, units] of schedule) if (step >= from) prefix = Math.max(prefix, units);
  return prefix;
}

export default function fixedFreezeSchedule(options: { schedule?: unknown } = {}): TrainerPlugin {
  checkOptionNames('fixed-freeze-schedule', options, ['schedule']);
  const schedule = (options.schedule ?? DEFAULT_FREEZE_SCHEDULE) as FreezeSchedule;
  const isEntry = (entry: unknown) =>
    Array.isArray(entry) && entry.length === 2 && entry.every((value) => Number.isInteger(value) && (value as number) >= 0);
  if (!Array.isArray(schedule) || !schedule.every(isEntry)) {
    optionError('fixed-freeze-schedule', 'schedule', schedule, 'an array of [step, frozenUnits] pairs of integers ≥ 0');
  }
  return {
    name: 'FixedFreezeSchedule',
    apply(trainer: Trainer) {
      trainer.hooks.beforeForward.tap({ name: 'FixedFreezeSchedule', stage: HookStage.FREEZE }, (context: StepContext) => {
        const wanted = Math.min(scheduledPrefix(schedule, context.step), context.unitCount - 1);
        context.frozenPrefix = Math.max(context.frozenPrefix, wanted);
      });
    },
    describe(): PluginDescription {
      return { speedup: 'skips-work', communicates: false };
    },
  };
}
