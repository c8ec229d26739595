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
 * Telemetry events, by name. There is no catch-all entry, so a misspelled name does not compile.
 * Plugins add their own by declaration merging:
 * `declare module '@trainhooks/core-hooks' { interface TrainerEventMap { freeze: { unit: number } } }`.
 */
export interface TrainerEventMap {
  step: StepEvent;
  epoch: { epoch: number; logs: Record<string, number> };
  lrChange: { previous: number; next: number };
  /** The frozen prefix changed (set by a plugin at beforeForward, by the user, or by importState). */
  frozenPrefix: { step: number; previous: number; next: number };
  /** A step's loss was NaN or ±Infinity: its update was not applied ('skip-step'), or training stops ('stop'). */
  nonFiniteLoss: { step: number; epoch: number; loss: number; action: 'stop' | 'skip-step' };
}

// A mapped copy: mitt needs an index-signature-compatible record, which an interface is not.
type EventRecord = { [Name in keyof TrainerEventMap]: TrainerEventMap[Name] };

export type TrainerEvents = Emitter<EventRecord>;

export function createEvents(): TrainerEvents {
  return mitt<EventRecord>();
}
