// Test files in the order that finishes soonest on a fresh clone. Vitest starts the files it has no
// timings for largest first, so on CI (no cache) a short file that spends a minute waiting on child
// processes (the CLI, mpirun, npm pack) can start last and run alone on one fork while the other idles.
// Starting the slowest first (longest-processing-time scheduling) lets the two forks end together.
// Timings: the whole suite on 2 cores at commit f82084f (2026-12-06); keep the list to files over ~20 s.
// The suite is CPU-bound (939 s of test time on 2 forks, 541 s wall for the first command before the
// conv tests moved to wasm), so the order mainly keeps the longest file from starting late.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOWEST_FILES: readonly string[] = [
  'test/packaging/pack.test.ts', // 191 s inside the suite (100 s alone)
  'test/plugin-pipeline/pipeline-training.test.ts', // 109 s
  'test/plugin-mpi/mpi.test.ts', // 108 s
  'test/cli/ablate.test.ts', // 79 s
  'test/examples/adoption.test.ts', // 67 s
  'test/cli/arguments.test.ts', // 42 s
  'test/cli/checkpoint-resume.test.ts', // 38 s
  'test/core-hooks/checkpoint.test.ts', // 23 s
];

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = SLOWEST_FILES.indexOf(relative(this.ctx.config.root, file.moduleId).replaceAll('\\', '/'));
      return index < 0 ? SLOWEST_FILES.length : index;
    };
    // Array.prototype.sort is stable: the rest keep vitest's own order.
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
