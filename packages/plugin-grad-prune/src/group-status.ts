/** What a group's last monitor point said, in the plugin's report: why it is pruned or kept training. */
export interface GroupStatusInput {
  /** Its unit lies in the frozen prefix (another plugin froze it): not trained, not judged. */
  readonly frozen: boolean;
  /** Judged values so far, and how many the score needs before it may prune. */
  readonly observations: number;
  readonly needed: number;
  readonly probability: number;
  /** 'output-effect': the judged level (median of the last `needed` effects) and where pruning starts. */
  readonly effect: { readonly level: number; readonly startsAt: number } | null;
  /** 'peak', 'saturation': the convergence score and where pruning starts. */
  readonly convergence: { readonly value: number; readonly startsAt: number } | null;
}

const percent = (value: number) => `${(value * 100).toFixed(2)} %`;

/** One line: pruned with what probability and why, or why it keeps training. */
export function groupStatus(input: GroupStatusInput): string {
  if (input.frozen) return 'frozen: its unit is in the frozen prefix, so it is neither trained nor judged';
  if (input.observations < input.needed) return `measuring: ${input.observations} of ${input.needed} judged values`;
  const { effect, convergence, probability } = input;
  const chance = `skipped with probability ${probability.toFixed(2)}`;
  if (effect) {
    const moves = `undoing its recent learning moves ${percent(effect.level)} of the predictions`;
    return probability > 0 ? `${chance}: ${moves} (pruning starts under ${percent(effect.startsAt)})` : `still learning: ${moves} ≥ ${percent(effect.startsAt)}, where pruning starts`;
  }
  if (convergence) {
    const score = `convergence ${convergence.value.toFixed(2)}`;
    return probability > 0 ? `${chance}: ${score} (pruning starts at ${convergence.startsAt.toFixed(2)})` : `still learning: ${score} < ${convergence.startsAt.toFixed(2)}, where pruning starts`;
  }
  return `${chance}`;
}
