#!/usr/bin/env node
// The `trainhooks` command: runs the built CLI. It lives outside dist/ so that npm links it at install
// time, before a clone has built dist/ (then it says what to do instead of "could not determine
// executable to run").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  console.error('trainhooks: the CLI is not built (no dist/bin.js): run `npm run build` first, or run it from source with `npm run trainhooks -- …`');
  process.exit(1);
}
await import(built.href);
