// A terminal progress bar for fit(): epoch, step, loss, samples/s and ETA (cli-progress).
import cliProgress from 'cli-progress';
import type { FitCallbacks } from '@trainhooks/core-hooks';

export interface ProgressOptions {
  epochs: number;
  samples: number;
  batchSize: number;
}

export function trainingProgress({ epochs, samples, batchSize }: ProgressOptions) {
  const stepsPerEpoch = Math.ceil(samples / batchSize);
  const bar = new cliProgress.SingleBar(
    {
      format:
        'epoch {epoch}/{epochs} |{bar}| step {value}/{total} | loss {loss} | {speed} samples/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let epochStart = 0;
  let seen = 0;
  const callbacks: FitCallbacks = {
    onEpochBegin: (epoch) => {
      epochStart = performance.now();
      seen = 0;
      bar.start(stepsPerEpoch, 0, { epoch: epoch + 1, epochs, loss: '-', speed: '-' });
    },
    onBatchEnd: (batch, logs) => {
      seen += logs?.size ?? batchSize;
      const speed = seen / ((performance.now() - epochStart) / 1000);
      bar.update(batch + 1, { loss: (logs?.loss ?? NaN).toFixed(4), speed: speed.toFixed(0) });
    },
    onEpochEnd: (epoch, logs) => {
      bar.stop();
      const seconds = (performance.now() - epochStart) / 1000;
      const metrics = Object.entries(logs ?? {})
        .map(([key, value]) => `${key} ${value.toFixed(4)}`)
        .join(', ');
      console.log(`epoch ${epoch + 1}/${epochs} done in ${seconds.toFixed(1)} s: ${metrics}`);
    },
  };
  return { callbacks, stop: () => bar.stop() };
}
