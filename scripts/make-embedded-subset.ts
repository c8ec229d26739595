// Builds packages/cli/data/fashion-mnist-subset/ from the Debian copy of Fashion-MNIST.
// Run with `npm run make-subset`; the output is byte-for-byte reproducible.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIdx, gzipDeterministic, parseIdxImages, parseIdxLabels } from '../packages/cli/src/data/idx.js';
import {
  DEBIAN_FASHION_MNIST_DIR,
  DEBIAN_FASHION_MNIST_PACKAGE,
  FASHION_MNIST_FILES,
  type FashionMnistSplit,
} from '../packages/cli/src/data/fashion-mnist.js';

/** Big enough to train to ~85% in a demo, small enough to keep in git (about 5 MB). */
const SUBSET_SIZES: Record<FashionMnistSplit, number> = { train: 10_000, test: 2_000 };

const outputDir = fileURLToPath(new URL('../packages/cli/data/fashion-mnist-subset/', import.meta.url));

function readDebian(stem: string): Uint8Array {
  const path = join(DEBIAN_FASHION_MNIST_DIR, `${stem}.gz`);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`Cannot read ${path} (${String(error)}); install it with \`sudo apt-get install ${DEBIAN_FASHION_MNIST_PACKAGE}\``);
  }
}

function writeGzipped(stem: string, shape: number[], data: Uint8Array): number {
  const bytes = gzipDeterministic(encodeIdx(shape, data));
  writeFileSync(join(outputDir, `${stem}.gz`), bytes);
  return bytes.length;
}

mkdirSync(outputDir, { recursive: true });
for (const split of ['train', 'test'] as const) {
  const names = FASHION_MNIST_FILES[split];
  const images = parseIdxImages(readDebian(names.images), names.images);
  const labels = parseIdxLabels(readDebian(names.labels), names.labels);
  const count = SUBSET_SIZES[split];
  if (images.count < count || labels.length < count) throw new Error(`${split}: the Debian copy has fewer than ${count} samples`);
  const pixelsPerImage = images.height * images.width;
  const imageBytes = writeGzipped(names.images, [count, images.height, images.width], images.pixels.subarray(0, count * pixelsPerImage));
  const labelBytes = writeGzipped(names.labels, [count], labels.subarray(0, count));
  console.log(`${split}: first ${count} of ${images.count} samples → ${names.images}.gz (${imageBytes} B), ${names.labels}.gz (${labelBytes} B)`);
}

writeFileSync(
  join(outputDir, 'README.md'),
  `# Fashion-MNIST subset

The first ${SUBSET_SIZES.train.toLocaleString('en')} training samples and the first ${SUBSET_SIZES.test.toLocaleString('en')} test samples of
[Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist), in the original gzipped IDX format and
file names, so the demo, benchmarks and tests run without a download.

- Source: the Debian package \`${DEBIAN_FASHION_MNIST_PACKAGE}\` (files in \`${DEBIAN_FASHION_MNIST_DIR}\`),
  which ships the files published by Zalando Research.
- Sample order is unchanged, so a sample's id (its index in the file) is the same here as in the full set.
- License: MIT, Copyright (c) 2017 Zalando SE
  (<https://github.com/zalandoresearch/fashion-mnist/blob/master/LICENSE>).
- Produced by \`npm run make-subset\` (runs \`tsx scripts/make-embedded-subset.ts\`). The output is
  deterministic (gzip level 9, zero timestamp, fixed OS byte): re-running it rewrites identical bytes
  as long as Node's bundled zlib produces the same deflate stream.

Use the full set with \`--full\` (needs \`sudo apt-get install ${DEBIAN_FASHION_MNIST_PACKAGE}\`) or any copy of the
four files with \`--data-dir DIR\`.

## License of the data (MIT), as required to accompany copies

The MIT License (MIT) Copyright © [2017] Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the “Software”), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of
the Software.

THE SOFTWARE IS PROVIDED “AS IS”, WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO
THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`,
);
console.log(`wrote ${outputDir}`);
