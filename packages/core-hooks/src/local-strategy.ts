import * as tf from '@tensorflow/tfjs-core';
import type { StepContext } from './step-context.js';
import type { ForwardBackwardResult, StepRun, StepStrategy } from './strategy.js';
import { runUnits } from './units.js';

/**
 * Forward and backward in this process, in one tidy:
 * the frozen prefix runs first, in inference mode and outside the gradient tape, so none of its
 * activations are kept for backward; the rest runs under `tf.variableGrads` over only the variables
 * that train this step, so the tape skips every other weight-gradient kernel.
 */
export class LocalStrategy implements StepStrategy {
  readonly name = 'local';

  forwardBackward(context: StepContext, run: StepRun): ForwardBackwardResult {
    const { units, loss, metrics } = run;
    const began = performance.now();
    let forwardEnded = began;
    const { batch, forwardStart, frozenPrefix, skip } = context;
    const survivors = tf.tidy(() => {
      const prefixOutput = runUnits(units, forwardStart.unit, frozenPrefix, forwardStart.input, { training: false });
      const firstTrained = Math.max(frozenPrefix, forwardStart.unit);
      const frozenOutput = frozenPrefix > forwardStart.unit ? prefixOutput : null;
      const trainedVariables = units
        .slice(firstTrained)
        .flatMap((unit) => unit.variables.filter((v) => v.trainable && !skip.has(v.name)));
      const metricValues: tf.Scalar[] = [];
      const lossFunction = (): tf.Scalar => {
        const output = runUnits(units, firstTrained, units.length, prefixOutput, { training: true });
        let value = tf.mean(loss(batch.y, output)) as tf.Scalar;
        for (const unit of units.slice(firstTrained)) {
          for (const penalty of unit.regularizationLosses?.() ?? []) value = tf.add(value, penalty);
        }
        for (const metric of metrics) metricValues.push(tf.keep(tf.mean(metric.fn(batch.y, output))));
        run.forwardDone({ output, loss: value, frozenOutput });
        forwardEnded = performance.now();
        return value;
      };
      const { value, grads } =
        trainedVariables.length > 0
          ? tf.variableGrads(lossFunction, trainedVariables)
          : { value: lossFunction(), grads: {} as tf.NamedTensorMap };
      const kept = { loss: value, gradients: grads, metricValues, frozenOutput };
      return kept as unknown as tf.TensorContainer;
    }) as unknown as Omit<ForwardBackwardResult, 'forwardMs' | 'backwardMs'>;
    const backwardEnded = performance.now();
    // The tidy freed `output` and the other intermediates; the trainer puts the survivors in the context.
    return { ...survivors, forwardMs: forwardEnded - began, backwardMs: backwardEnded - forwardEnded };
  }
}
