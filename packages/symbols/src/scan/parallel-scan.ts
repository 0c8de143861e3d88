/**
 * The whole-tree scan on every core: modules are dealt whole to threads (by source size, largest
 * first), each thread builds its own header index and scans its share; this thread takes the
 * first share. From TypeScript sources (tests) there is no compiled worker: one thread.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { observing, type Observed } from '@nx-kbuild/kbuild-make';
import { forgetIncludeFiles } from './include-files';
import type { ScanDiagnostic } from './source-scan';
import { compilerMacros, scanEnvironment, scanObjects, type ModuleSymbols, type TreeObject, type TreeScan, type TreeScanOptions } from './tree-scan';

const WORKER = join(__dirname, 'parallel-scan-worker.js');

/** What a worker sends back: modules as plain data. */
export interface WorkerModules {
  /** With `observe`: every file the thread read or looked up, with its signature (see kbuild-make's observations). */
  observed?: [string, string][];
  modules: { name: string; objects: string[]; exports: ModuleSymbols['exports']; modinfo: ModuleSymbols['modinfo']; identifiers: string[]; functions: [string, string[]][]; declared: string[]; sharedHeaders: string[] }[];
  errors: ScanDiagnostic[];
  unreadable: string[];
}

export interface WorkerInput {
  options: Omit<TreeScanOptions, 'config' | 'objects'> & { config: [string, string][]; objects: TreeObject[] };
  compiler: [string, string][];
  observe?: boolean;
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function partition(objects: readonly TreeObject[], parts: number): TreeObject[][] {
  const byModule = new Map<string, TreeObject[]>();
  for (const o of objects) {
    const k = o.module ?? 'vmlinux';
    const l = byModule.get(k);
    if (l) l.push(o);
    else byModule.set(k, [o]);
  }
  const weighted = [...byModule.values()].map((l) => ({ l, w: l.reduce((n, o) => n + size(o.source), 0) })).sort((a, b) => b.w - a.w);
  const shares = Array.from({ length: parts }, () => ({ objects: [] as TreeObject[], w: 0 }));
  for (const { l, w } of weighted) {
    const s = shares.reduce((a, b) => (b.w < a.w ? b : a));
    s.objects.push(...l);
    s.w += w;
  }
  return shares.map((s) => s.objects);
}

export function toWorkerModules(modules: Map<string, ModuleSymbols>, errors: ScanDiagnostic[], unreadable: string[]): WorkerModules {
  return {
    modules: [...modules.values()].map((m) => ({
      ...m,
      identifiers: [...m.identifiers],
      functions: [...m.functions].map(([k, v]) => [k, [...v]]),
      declared: [...m.declared],
      sharedHeaders: [...m.sharedHeaders],
    })),
    errors,
    unreadable,
  };
}

function runWorker(input: WorkerInput): Promise<WorkerModules> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: input });
    w.once('message', (m: WorkerModules | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
    w.once('error', reject);
  });
}

/**
 * With `observed`, every file the scan reads or looks up (sources, headers, the index's
 * directories) is recorded there with its signature, for a result kept until one of them changes.
 */
export async function scanTreeParallel(o: TreeScanOptions, threads = availableParallelism(), observed?: Observed): Promise<TreeScan> {
  forgetIncludeFiles(); // what this process read before may have changed, and is noted where read
  const first = o.objects.find((x) => x.source.endsWith('.c'));
  const compiler = first ? compilerMacros(first.argv) : new Map<string, string>();
  const n = existsSync(WORKER) ? Math.max(1, threads) : 1;
  const shares = partition(o.objects, n);
  const base = { srctree: o.srctree, objtree: o.objtree, srcarch: o.srcarch, config: [...o.config] };
  const others = shares.slice(1).map((objects) => runWorker({ options: { ...base, objects }, compiler: [...compiler], observe: observed !== undefined }));
  const mine = () => {
    const env = scanEnvironment(o, compiler);
    const modules = new Map<string, ModuleSymbols>();
    return { env, modules, ...scanObjects(shares[0], o.objtree, env, modules) };
  };
  const { env, modules, errors, unreadable } = observed ? observing(observed, mine) : mine();
  for (const r of await Promise.all(others)) {
    for (const [path, sig] of r.observed ?? []) if (!observed!.has(path)) observed!.set(path, sig);
    for (const m of r.modules)
      modules.set(m.name, {
        ...m,
        identifiers: new Set(m.identifiers),
        functions: new Map(m.functions.map(([k, v]) => [k, new Set(v)])),
        declared: new Set(m.declared),
        sharedHeaders: new Set(m.sharedHeaders),
      });
    errors.push(...r.errors);
    unreadable.push(...r.unreadable);
  }
  // Modules in the order the objects list them (link order), whichever thread scanned them.
  const ordered = new Map<string, ModuleSymbols>();
  for (const obj of o.objects) {
    const k = obj.module ?? 'vmlinux';
    const m = modules.get(k);
    if (m && !ordered.has(k)) ordered.set(k, m);
  }
  return { modules: ordered, errors, unreadable, headers: { files: env.index.files, bytes: env.index.bytes }, index: env.index };
}
