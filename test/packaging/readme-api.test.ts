// Each package's README has an "## API" section listing its public exports: every name its
// src/index.ts exports is listed, and every name listed is exported. A list item's names are the
// backticked ones before its " — " (what the item describes); the rest of the item may mention
// methods and options freely.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PACKAGES = ['core-hooks', 'backend', 'plugin-freeze', 'plugin-grad-prune', 'plugin-act-cache', 'plugin-pipeline', 'plugin-mpi', 'cli'];

function exportedNames(indexSource: string): string[] {
  const names = new Set<string>();
  for (const [, body] of indexSource.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const entry of body!.split(',')) {
      const name = entry.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) names.add(name);
    }
  }
  for (const [, name] of indexSource.matchAll(/export\s+(?:const|function|class)\s+(\w+)/g)) names.add(name!);
  if (/export\s+\*/.test(indexSource)) throw new Error('an index that re-exports a whole module cannot be checked name by name');
  return [...names].sort();
}

function listedNames(readme: string): string[] {
  const start = readme.indexOf('\n## API\n');
  if (start < 0) return [];
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const names = new Set<string>();
  // List items, their continuation lines joined.
  for (const item of section.split(/\n(?=- )/).filter((text) => text.startsWith('- '))) {
    const head = item.replace(/\n\s+/g, ' ').split(' — ')[0]!;
    for (const [, code] of head.matchAll(/`([^`]+)`/g)) {
      const name = /^[A-Za-z_$][\w$]*/.exec(code!)?.[0];
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

describe.each(PACKAGES)('@trainhooks/%s README', (name) => {
  it('lists exactly the names its index exports', () => {
    const exported = exportedNames(readFileSync(join(ROOT, 'packages', name, 'src', 'index.ts'), 'utf8'));
    const listed = listedNames(readFileSync(join(ROOT, 'packages', name, 'README.md'), 'utf8'));
    expect(exported.length).toBeGreaterThan(3);
    expect({ missingFromReadme: exported.filter((n) => !listed.includes(n)), notExported: listed.filter((n) => !exported.includes(n)) }).toEqual({ missingFromReadme: [], notExported: [] });
  });

  it('documents the unstable ./internal subpath it ships', () => {
    const readme = readFileSync(join(ROOT, 'packages', name, 'README.md'), 'utf8');
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(manifest.exports)).toContain('./internal');
    expect(readme).toContain(`@trainhooks/${name}/internal`);
  });
});
