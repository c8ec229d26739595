// Fashion-MNIST loader: an embedded 10k/2k subset by default, the full Debian copy or any IDX directory on request.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdxImages, parseIdxLabels } from './idx.js';
import { findPackageData } from './package-data.js';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export const FASHION_MNIST_NUM_CLASSES = FASHION_MNIST_CLASSES.length;
export const FASHION_MNIST_IMAGE_SIZE = 28;
export const FASHION_MNIST_PIXELS = FASHION_MNIST_IMAGE_SIZE * FASHION_MNIST_IMAGE_SIZE;

/** Where `apt-get install dataset-fashion-mnist` puts the full 60k/10k set. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const DEBIAN_FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

/** The subset shipped in this package's data/ folder. */
export const EMBEDDED_SUBSET_DIR = findPackageData('data/fashion-mnist-subset');

export type FashionMnistSplit = 'train' | 'test';

/** The file stems of the original distribution; each may be stored raw or with a .gz suffix. */
export const FASHION_MNIST_FILES: Record<FashionMnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** Which copy to read; what `parseDataArgs` produces from the command line. */
export interface FashionMnistSource {
  /** A directory holding the four IDX files; wins over `full`. */
  dataDir?: string;
  /** Read the full Debian copy in DEBIAN_FASHION_MNIST_DIR instead of the embedded subset. */
  full?: boolean;
}

export interface LoadFashionMnistOptions extends FashionMnistSource {
  /** Defaults to 'train'. */
  split?: FashionMnistSplit;
  /** Keep only the first `limit` samples of the file. */
  limit?: number;
}

export interface FashionMnistSet {
  split: FashionMnistSplit;
  /** count × 784 pixels scaled to [0, 1], row-major. */
  images: Float32Array;
  /** count class indices 0..9. */
  labels: Uint8Array;
  /** Sample id = index of the sample in its file; stable across shuffles, limits and batching (caches key on it). */
  ids: Int32Array;
  count: number;
  height: 28;
  width: 28;
  /** The directory the files were read from. */
  source: string;
}

/** Reads one split synchronously (the full training set takes well under a second to unpack). */
export function loadFashionMnist(options: LoadFashionMnistOptions = {}): FashionMnistSet {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new Error(`loadFashionMnist: split must be 'train' or 'test', got ${String(split)}`);
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new Error(`loadFashionMnist: limit must be a non-negative integer, got ${limit}`);
  }
  const dir = resolveDataDir(options);
  const names = FASHION_MNIST_FILES[split];
  const imagesPath = findIdxFile(dir, names.images);
  const labelsPath = findIdxFile(dir, names.labels);

  const images = parseIdxImages(readFileSync(imagesPath), imagesPath);
  const allLabels = parseIdxLabels(readFileSync(labelsPath), labelsPath);
  if (images.height !== FASHION_MNIST_IMAGE_SIZE || images.width !== FASHION_MNIST_IMAGE_SIZE) {
    throw new Error(`${imagesPath}: images are ${images.height}×${images.width}, expected 28×28`);
  }
  if (allLabels.length !== images.count) {
    throw new Error(`${dir}: ${images.count} images but ${allLabels.length} labels in the ${split} split`);
  }

  const count = Math.min(images.count, limit ?? images.count);
  const labels = allLabels.slice(0, count);
  const badLabel = labels.findIndex((label) => label >= FASHION_MNIST_NUM_CLASSES);
  if (badLabel >= 0) throw new Error(`${labelsPath}: sample ${badLabel} has label ${labels[badLabel]}, expected 0..9`);

  const pixels = new Float32Array(count * FASHION_MNIST_PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.pixels[i] / 255;
  const ids = Int32Array.from({ length: count }, (_, i) => i);

  return { split, images: pixels, labels, ids, count, height: 28, width: 28, source: dir };
}

function resolveDataDir({ dataDir, full }: FashionMnistSource): string {
  if (dataDir !== undefined) {
    if (!existsSync(dataDir)) throw new Error(`Fashion-MNIST data directory ${dataDir} does not exist`);
    return dataDir;
  }
  if (full) {
    if (!existsSync(DEBIAN_FASHION_MNIST_DIR)) {
      throw new Error(
        `The full Fashion-MNIST set is not installed at ${DEBIAN_FASHION_MNIST_DIR}. ` +
          `Install it with \`sudo apt-get install ${DEBIAN_FASHION_MNIST_PACKAGE}\`, ` +
          `or pass --data-dir DIR pointing at the four IDX files from https://github.com/zalandoresearch/fashion-mnist.`,
      );
    }
    return DEBIAN_FASHION_MNIST_DIR;
  }
  if (!existsSync(EMBEDDED_SUBSET_DIR)) {
    throw new Error(`The embedded Fashion-MNIST subset is missing from ${EMBEDDED_SUBSET_DIR}; rebuild it with \`npm run make-subset\`.`);
  }
  return EMBEDDED_SUBSET_DIR;
}

function findIdxFile(dir: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`${dir} has neither ${stem}.gz nor ${stem}; expected the four Fashion-MNIST IDX files there`);
}
