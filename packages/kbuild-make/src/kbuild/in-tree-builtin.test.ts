import { describe, expect, it } from 'vitest';
import { archiveStep } from './in-tree-builtin';

describe('archiveStep (a directory archive command as the shell would run it)', () => {
  it("cmd_ar_builtin: printf's names with the directory prefix, appended to ar by xargs", () => {
    const text = 'rm -f fs/notify/built-in.a;  printf "fs/notify/%s " fsnotify.o group.o dnotify/built-in.a | xargs ar cDPrST fs/notify/built-in.a';
    const s = archiveStep('fs/notify/built-in.a', text);
    expect(s.ar.argv).toEqual(['ar', 'cDPrST', 'fs/notify/built-in.a', 'fs/notify/fsnotify.o', 'fs/notify/group.o', 'fs/notify/dnotify/built-in.a']);
    expect(s.members).toEqual(['fs/notify/fsnotify.o', 'fs/notify/group.o', 'fs/notify/dnotify/built-in.a']);
    expect(s.cmdFile).toBe('fs/notify/.built-in.a.cmd');
    expect(s.savedcmd).toBe(text);
  });

  it('cmd_ar_builtin without objects (an empty built-in.a), and cmd_ar (lib.a)', () => {
    expect(archiveStep('./built-in.a', 'rm -f ./built-in.a;  ar cDPrST ./built-in.a').ar.argv).toEqual(['ar', 'cDPrST', './built-in.a']);
    const lib = archiveStep('lib/lib.a', 'rm -f lib/lib.a; ar cDPrsT lib/lib.a lib/argv_split.o lib/bug.o');
    expect(lib.members).toEqual(['lib/argv_split.o', 'lib/bug.o']);
  });

  it('anything else is an error naming the archive, not a guess', () => {
    expect(() => archiveStep('a/built-in.a', 'ar cDPrST a/built-in.a x.o')).toThrow(/a\/built-in.a: unexpected archive command/);
    expect(() => archiveStep('a/built-in.a', 'rm -f a/built-in.a; cat x | sort | xargs ar cDPrST a/built-in.a')).toThrow(/unexpected archive command/);
  });
});
