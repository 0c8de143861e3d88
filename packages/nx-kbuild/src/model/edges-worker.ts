/**
 * Worker entry: a whole kernel's module edges, computed in a thread with a heap of its own (see
 * inTreeEdges). Only the edges travel back; the scan and its header indexes stay here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { symbolEdges } from './symbol-edges';
import { treeSymbolsParallel, type TreeSymbolsOptions } from './tree-symbols';

const { options } = workerData as { options: TreeSymbolsOptions & { config: [string, string][] } };
treeSymbolsParallel({ ...options, config: new Map(options.config) })
  .then((symbols) => parentPort!.postMessage({ edges: symbolEdges(options.modules, symbols, options.objtree) }))
  .catch((e: unknown) => parentPort!.postMessage({ error: String((e as Error).stack ?? e) }));
