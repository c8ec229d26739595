import * as tf from '@tensorflow/tfjs-core';

// The gradients we replaced, to put back (tests and A/B benchmarks against stock tfjs).
const stockGradients = new Map<string, tf.GradConfig>();

/**
 * Registers our gradients, replacing tfjs' for the same kernels (tfjs keeps one gradient per kernel name,
 * for all backends). Idempotent. Call it after tfjs' packages are imported: each registers its gradients
 * when loaded (tfjs-layers' bundle too), and the last registration wins.
 */
export function installGradients(gradients: readonly tf.GradConfig[]): string[] {
  const names: string[] = [];
  for (const gradient of gradients) {
    const current = tf.getGradient(gradient.kernelName);
    if (current === gradient) continue;
    if (current && !stockGradients.has(gradient.kernelName)) stockGradients.set(gradient.kernelName, current);
    tf.registerGradient(gradient);
    names.push(gradient.kernelName);
  }
  return names;
}

/** Puts tfjs' gradients back. */
export function uninstallGradients(gradients: readonly tf.GradConfig[]): void {
  for (const gradient of gradients) {
    const stock = stockGradients.get(gradient.kernelName);
    if (stock && tf.getGradient(gradient.kernelName) === gradient) tf.registerGradient(stock);
  }
}
