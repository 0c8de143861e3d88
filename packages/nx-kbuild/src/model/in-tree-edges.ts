import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModuleEdge } from './symbol-edges';
import type { TreeSymbolsOptions } from './tree-symbols';

const WORKER = join(__dirname, 'edges-worker.js');

/**
 * Heap of the edges thread. A whole kernel's scan (two header indexes, 12,000 preprocessed sources)
 * needs more than Node's default in one process, and the graph computation runs inside Nx's own
 * process, whose heap already holds the project graph: computed there, Debian's 4,230 modules ran
 * out of memory.
 */
const EDGES_HEAP_MB = 8192;

/** Module edges of many modules, computed in a worker thread with its own heap; only edges come back. */
export function inTreeEdges(options: TreeSymbolsOptions): Promise<ModuleEdge[]> | undefined {
  if (!existsSync(WORKER)) return undefined; // run from TypeScript sources: the caller computes them here
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      workerData: { options: { ...options, config: [...options.config] } },
      resourceLimits: { maxOldGenerationSizeMb: EDGES_HEAP_MB },
    });
    worker.once('message', (m: { edges: ModuleEdge[] } | { error: string }) => {
      if ('error' in m) reject(new Error(m.error));
      else resolve(m.edges);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
