// Test files in the order that finishes soonest on a fresh clone. Vitest starts the files it has no
// timings for largest first, so on CI (no cache) a short file that spends a minute waiting on child
// processes (the CLI, mpirun, npm pack) can start last and run alone on one fork while the other idles.
// Starting the slowest first (longest-processing-time scheduling) lets the two forks end together.
// Timings: fresh clone, 2 cores (BENCHMARKS.md, "Test suite time"); keep the list to files over ~20 s.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOWEST_FILES: readonly string[] = [
  'test/plugin-pipeline/pipeline-training.test.ts',
  'test/cli/checkpoint-resume.test.ts',
  'test/cli/ablate.test.ts',
  'test/examples/adoption.test.ts',
  'test/plugin-mpi/mpi.test.ts',
  'test/packaging/pack.test.ts',
  'test/cli/arguments.test.ts',
  'test/core-hooks/frozen-prefix.test.ts',
  'test/core-hooks/checkpoint.test.ts',
  'test/examples/soak.test.ts',
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
