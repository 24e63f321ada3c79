// Secret references resolve from inline values, environment variables and files; failures name the
// variable or file (never a value), and a resolved secret never appears in a logged line. Small files
// are opened first and checked through the handle: a FIFO (even one swapped in, or behind a symlink) is refused at once.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fsPromises, { mkdtemp, mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, SecretRedactor } from '../../../main/logger';
import { MAX_SECRET_FILE_BYTES, readSmallFile, resolveSecret, SecretError } from '../../../main/secrets';
import { MemorySecretStore } from '../support/memory-secret-store';

let folder = '';

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-secrets-'));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('resolveSecret', { timeout: 10_000 }, () => {
  it('returns an inline value as is', async () => {
    assert.equal(await resolveSecret({ kind: 'inline', value: 'pw' }, folder, new SecretRedactor()), 'pw');
  });

  it('reads an environment variable', async () => {
    process.env.RETROVISOR_TEST_VNC_PW = 'from-env';
    try {
      assert.equal(await resolveSecret({ kind: 'env', name: 'RETROVISOR_TEST_VNC_PW' }, folder, new SecretRedactor()), 'from-env');
    } finally {
      delete process.env.RETROVISOR_TEST_VNC_PW;
    }
  });

  it('says which environment variable is missing', async () => {
    delete process.env.RETROVISOR_TEST_MISSING;
    await assert.rejects(
      resolveSecret({ kind: 'env', name: 'RETROVISOR_TEST_MISSING' }, folder, new SecretRedactor()),
      (error: unknown) => error instanceof SecretError && /environment variable RETROVISOR_TEST_MISSING is not set/.test(error.message),
    );
  });

  it('reads the first line of a file relative to the base folder, without its line ending', async () => {
    await mkdir(path.join(folder, 'secrets'), { recursive: true });
    await writeFile(path.join(folder, 'secrets', 'vnc.txt'), 's3cret\r\nsecond line is ignored\n');
    assert.equal(await resolveSecret({ kind: 'file', path: 'secrets/vnc.txt' }, folder, new SecretRedactor()), 's3cret');
    await writeFile(path.join(folder, 'no-newline.txt'), 'only-line');
    assert.equal(await resolveSecret({ kind: 'file', path: path.join(folder, 'no-newline.txt') }, '/elsewhere', new SecretRedactor()), 'only-line');
  });

  it('names the path and the OS reason when a file cannot be read', async () => {
    const missing = path.join(folder, 'missing.txt');
    await assert.rejects(resolveSecret({ kind: 'file', path: 'missing.txt' }, folder, new SecretRedactor()), (error: unknown) => {
      assert.ok(error instanceof SecretError);
      assert.match(error.message, /missing\.txt/);
      assert.ok(error.message.includes(missing), error.message);
      assert.match(error.message, /no such file \(ENOENT\)/);
      return true;
    });
    await assert.rejects(resolveSecret({ kind: 'file', path: '.' }, folder, new SecretRedactor()), /not a regular file/);
  });

  it('refuses a file larger than 64 KiB and an empty first line', async () => {
    await writeFile(path.join(folder, 'huge.txt'), 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
    await assert.rejects(resolveSecret({ kind: 'file', path: 'huge.txt' }, folder, new SecretRedactor()), /more than the 65536 allowed/);
    await writeFile(path.join(folder, 'empty.txt'), '\nsecret-on-line-two\n');
    await assert.rejects(resolveSecret({ kind: 'file', path: 'empty.txt' }, folder, new SecretRedactor()), /empty first line/);
  });

  it('registers every resolved secret so it never appears in a logged line', async () => {
    const redactor = new SecretRedactor();
    const lines: string[] = [];
    const logger = createLogger({ sink: (line) => lines.push(line), redactor, level: 'debug', format: 'text' });
    process.env.RETROVISOR_TEST_LOGGED = 'env-secret-value';
    await writeFile(path.join(folder, 'file-secret.txt'), 'file-secret-value\n');
    try {
      const values = [
        await resolveSecret({ kind: 'inline', value: 'inline-secret-value' }, folder, redactor),
        await resolveSecret({ kind: 'env', name: 'RETROVISOR_TEST_LOGGED' }, folder, redactor),
        await resolveSecret({ kind: 'file', path: 'file-secret.txt' }, folder, redactor),
      ];
      for (const value of values) {
        logger.info(`connecting with ${value}`, { password: value, detail: { text: `pw=${value}` } });
        logger.error('auth failed', { error: new Error(`server said: bad password ${value}`) });
      }
    } finally {
      delete process.env.RETROVISOR_TEST_LOGGED;
    }
    assert.equal(lines.length, 6);
    for (const line of lines) {
      assert.ok(!/inline-secret-value|env-secret-value|file-secret-value/.test(line), line);
      assert.ok(line.includes('***'), line);
    }
  });
});

/** Makes a FIFO at `file` (mkfifo(1): Node has no call for it). */
function makeFifo(file: string): void {
  const made = spawnSync('mkfifo', ['-m', '600', file], { encoding: 'utf8' });
  assert.equal(made.status, 0, `mkfifo failed (apt-get install -y coreutils): ${made.stderr}`);
}

describe('readSmallFile', { timeout: 5_000 }, () => {
  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = path.join(folder, 'fifo');
    makeFifo(fifo);
    await assert.rejects(readSmallFile(fifo, 100, 'secret file'), /cannot read secret file ".*fifo": it is not a regular file/);
  });

  it('refuses a FIFO swapped in after the name was checked: the handle is what gets checked', async () => {
    const file = path.join(folder, 'swapped');
    await writeFile(file, 'a regular file when looked at\n');
    const realOpen = fsPromises.open;
    // An attacker replaces the checked regular file with a FIFO just before it is opened.
    fsPromises.open = async (...args: Parameters<typeof realOpen>) => {
      if (args[0] === file) {
        await unlink(file);
        makeFifo(file);
      }
      return realOpen(...args);
    };
    syncBuiltinESMExports();
    try {
      await assert.rejects(readSmallFile(file, 100, 'profile'), /it is not a regular file/);
    } finally {
      fsPromises.open = realOpen;
      syncBuiltinESMExports();
    }
  });

  it('follows a symlink the user named to a regular file, and refuses one to a FIFO', async () => {
    const target = path.join(folder, 'real-secret.txt');
    await writeFile(target, 'linked-secret\n');
    const link = path.join(folder, 'link-to-secret');
    await symlink(target, link);
    assert.equal((await readSmallFile(link, 100, 'secret file')).toString(), 'linked-secret\n');
    const fifo = path.join(folder, 'linked-fifo');
    makeFifo(fifo);
    const fifoLink = path.join(folder, 'link-to-fifo');
    await symlink(fifo, fifoLink);
    await assert.rejects(readSmallFile(fifoLink, 100, 'secret file'), /it is not a regular file/);
  });
});

describe('resolveSecret from the keyring', { timeout: 10_000 }, () => {
  it('reads the profile\'s slot and registers the value with the redactor', async () => {
    const store = new MemorySecretStore();
    await store.store({ profileId: 'lab', slot: 'replica/r1/vnc' }, 'keyring-secret-value');
    const redactor = new SecretRedactor();
    const value = await resolveSecret({ kind: 'keyring', slot: 'replica/r1/vnc' }, folder, redactor, { store, profileId: 'lab' });
    assert.equal(value, 'keyring-secret-value');
    assert.equal(redactor.redact('pw keyring-secret-value'), 'pw ***');
    assert.deepEqual(store.calls.slice(1), ['lookup lab replica/r1/vnc']);
  });

  it('tells the user what to do when nothing is saved', async () => {
    const store = new MemorySecretStore();
    await assert.rejects(
      resolveSecret({ kind: 'keyring', slot: 'replica/r1/vnc' }, folder, new SecretRedactor(), { store, profileId: 'lab' }),
      (error: unknown) => error instanceof SecretError && error.message === 'no saved password for r1 in the keyring: enter it, or save the profile again',
    );
  });

  it('explains a keyring reference outside the profile library', async () => {
    await assert.rejects(
      resolveSecret({ kind: 'keyring', slot: 'l0/a/passphrase' }, folder, new SecretRedactor()),
      /the SSH key passphrase for the L0 a is saved in the keyring, which only a profile of the profile library can read/,
    );
  });

  it('passes on why the keyring failed, as a SecretError', async () => {
    const store = new MemorySecretStore();
    store.failWith = 'locked';
    await assert.rejects(
      resolveSecret({ kind: 'keyring', slot: 'replica/r1/vnc' }, folder, new SecretRedactor(), { store, profileId: 'lab' }),
      (error: unknown) => error instanceof SecretError && /^cannot read the password for r1 from the keyring: the test keyring fails with locked$/.test(error.message),
    );
  });
});
