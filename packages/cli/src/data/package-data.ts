// Files shipped in this package (the embedded subset, the pretrained backbones), found by walking up from
// this module: the same answer from src/data/ (tsx, vitest), from dist/ (ESM or CJS build) and from an installed copy.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findPackageData(relativePath: string): string {
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return join(dirname(here), '..', relativePath);
  }
}
