import mitt, { type Emitter } from 'mitt';

export interface StepEvent {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly batchSize: number;
  readonly frozenPrefix: number;
  readonly skipped: number;
  readonly durationMs: number;
}

/**
 * Telemetry events. Plugins add their own by declaration merging:
 * `declare module '@trainhooks/core-hooks' { interface TrainerEventMap { freeze: {...} } }`.
 */
export interface TrainerEventMap {
  step: StepEvent;
  epoch: { epoch: number; logs: Record<string, number> };
  lrChange: { previous: number; next: number };
  [event: string]: unknown;
}

export type TrainerEvents = Emitter<TrainerEventMap & Record<string | symbol, unknown>>;

export function createEvents(): TrainerEvents {
  return mitt();
}
