import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetSignatures, signatureNow } from '@nx-kbuild/kbuild-make';
import { cachedCheck, keepCheck, keptAnswers, lastCheck, type KeptAnswers } from './checks/check-cache';
import { answerQuery, type QueriedTree } from './queries';

const SRC = '/src/linux';
const exp = (symbol: string, file: string, line: number, o: { license?: string; namespace?: string; certain?: boolean } = {}) => ({
  symbol,
  license: o.license ?? 'GPL',
  namespace: o.namespace ?? '',
  file: `${SRC}/${file}`,
  line,
  certain: o.certain ?? true,
});
const modules: KeptAnswers = [
  { name: 'vmlinux', exports: [exp('printk', 'kernel/printk/printk.c', 10, { license: '' })], modinfo: [], imports: [] },
  {
    name: 'arch/x86/kvm/kvm',
    exports: [exp('kvm_init', 'virt/kvm/kvm_main.c', 20), exp('kvm_exit', 'virt/kvm/kvm_main.c', 30, { namespace: 'KVM_X', certain: false })],
    modinfo: [],
    imports: ['printk'],
  },
  {
    name: 'arch/x86/kvm/kvm-intel',
    exports: [],
    modinfo: [{ tag: 'import_ns', value: 'KVM_X', file: `${SRC}/arch/x86/kvm/vmx/vmx.c`, line: 5, certain: true }],
    imports: ['printk', 'kvm_init', 'kvm_exit'],
  },
  // A second export of printk: the first module to export a symbol owns it.
  { name: 'drivers/misc/dup', exports: [exp('printk', 'drivers/misc/dup.c', 1)], modinfo: [], imports: [] },
];
const tree: QueriedTree<KeptAnswers[number]> = { modules, imports: (m) => m.imports };

describe('answerQuery', () => {
  it('lists exports with license, namespace and place, marking undecided branches', () => {
    expect(answerQuery('exports', ['kvm'], tree, SRC)).toEqual([
      'kvm_init\tEXPORT_SYMBOL_GPL\t\tvirt/kvm/kvm_main.c:20',
      'kvm_exit\tEXPORT_SYMBOL_GPL\tKVM_X\tvirt/kvm/kvm_main.c:30\t(in an #if branch the scanner could not decide)',
    ]);
  });

  it('groups imports by the module that exports them, both sorted, then the namespaces imported', () => {
    expect(answerQuery('imports', ['kvm_intel'], tree, SRC)).toEqual([
      'arch/x86/kvm/kvm\tkvm_exit kvm_init',
      'vmlinux\tprintk',
      'import_ns KVM_X\tarch/x86/kvm/vmx/vmx.c:5',
    ]);
  });

  it('explains an edge by its symbols, or says there is none', () => {
    expect(answerQuery('why', ['kvm-intel', 'arch/x86/kvm/kvm'], tree, SRC)).toEqual([
      'kvm_exit\tnamespace KVM_X\texported at virt/kvm/kvm_main.c:30',
      'kvm_init\texported at virt/kvm/kvm_main.c:20',
    ]);
    expect(answerQuery('why', ['kvm', 'dup'], tree, SRC)).toEqual(['arch/x86/kvm/kvm does not use any symbol drivers/misc/dup exports']);
  });

  it('names a module that is not built, or a name that is ambiguous, as an argument error', () => {
    expect(() => answerQuery('exports', ['nosuch'], tree, SRC)).toThrow('no module "nosuch" is built under this configuration');
    const twice: QueriedTree = { modules: [...modules, { name: 'drivers/other/kvm', exports: [], modinfo: [] }], imports: () => [] };
    expect(() => answerQuery('exports', ['kvm'], twice, SRC)).toThrow('"kvm" names 2 modules: arch/x86/kvm/kvm, drivers/other/kvm');
  });
});

describe("a check's kept answers", () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('are read back while the check holds, and not once a file it read changed or another result replaced it', () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-answers-'));
    const file = join(dir, 'symbols-check.json');
    const input = join(dir, 'input.c');
    writeFileSync(input, 'one');
    // The file's signature as a check records what it read (inode, size, mtime).
    const observed = new Map([[input, signatureNow(input, '')]]);
    keepCheck(file, 'k1', observed, { stdout: 'out\n', stderr: 'a.c:1: error: bad\n', status: 1 }, modules);
    expect(keptAnswers(file, 'k1')).toEqual({ modules, stderr: 'a.c:1: error: bad\n' });
    expect(keptAnswers(file, 'k2')).toBeUndefined();
    // A result kept without answers (or with others) does not give the earlier answers.
    keepCheck(file, 'k1', observed, { stdout: 'out\n', stderr: '', status: 0 });
    expect(cachedCheck(file, 'k1')).toEqual({ stdout: 'out\n', stderr: '', status: 0 });
    expect(keptAnswers(file, 'k1')).toBeUndefined();
    keepCheck(file, 'k1', observed, { stdout: 'out\n', stderr: '', status: 0 }, modules.slice(0, 2));
    expect(keptAnswers(file, 'k1')?.modules).toEqual(modules.slice(0, 2));
    writeFileSync(input, 'changed');
    forgetSignatures(); // as a new process would
    expect(keptAnswers(file, 'k1')).toBeUndefined();
  });

  it('tell what became of the last check: it holds, a file it read changed (which), another key made it, or there is none', () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-answers-'));
    const file = join(dir, 'symbols-check.json');
    expect(lastCheck(file, 'k1')).toEqual({});
    const input = join(dir, 'input.c');
    writeFileSync(input, 'one');
    keepCheck(file, 'k1', new Map([[input, signatureNow(input, '')]]), { stdout: 'out\n', stderr: '', status: 0 });
    expect(lastCheck(file, 'k1').holds?.stdout).toBe('out\n');
    expect(lastCheck(file, 'k2')).toEqual({ changed: '' });
    writeFileSync(input, 'changed');
    forgetSignatures();
    expect(lastCheck(file, 'k1')).toEqual({ changed: input });
  });
});
