// The manual fine-tuning baseline users know (Teachable Machine, Keras' `base_model.trainable = False`):
// every unit but the head frozen from the first step, so only the new classifier learns. Built into the
// CLI as a configuration (`--plugins head-only`, `--matrix "baseline;head-only;…"`), on the same seam as
// the freeze plugin: it sets the step context's frozen prefix before the forward pass.
import { checkOptionNames, HookStage, optionError, type StepContext, type Trainer, type PluginDescription, type StatefulPlugin } from '@trainhooks/core-hooks';

export interface HeadOnlyReport {
  /** Units held frozen (all but the last). */
  readonly frozenUnits: number;
  readonly units: number;
}

export class HeadOnlyPlugin implements StatefulPlugin<Record<string, never>> {
  readonly name = 'HeadOnlyPlugin';
  /** No state: it freezes the backbone again at the first step. */
  readonly stateKey = 'head-only';
  readonly stateVersion = 1;

  exportState(): Record<string, never> {
    return {};
  }

  importState(): void {}
  private trainer: Trainer | null = null;

  apply(trainer: Trainer): void {
    this.trainer = trainer;
    trainer.hooks.beforeForward.tap({ name: this.name, stage: HookStage.FREEZE }, (context: StepContext) => {
      context.frozenPrefix = Math.max(context.frozenPrefix, trainer.units.length - 1);
    });
  }

  /** How it speeds training, for reports. */
  describe(): PluginDescription {
    return { speedup: 'skips-work', communicates: false };
  }

  report(): HeadOnlyReport {
    const units = this.trainer?.units.length ?? 0;
    return { frozenUnits: Math.max(0, units - 1), units };
  }
}

/** Takes no options; an object with any key is refused like every plugin's unknown option. */
export function headOnlyPlugin(options: Record<string, unknown> = {}): HeadOnlyPlugin {
  checkOptionNames('head-only', options, Object.keys(options));
  const [unknown] = Object.keys(options);
  if (unknown !== undefined) optionError('head-only', unknown, options[unknown], 'nothing: head-only takes no options');
  return new HeadOnlyPlugin();
}
