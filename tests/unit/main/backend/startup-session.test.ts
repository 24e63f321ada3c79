// The startup session: the command line's profile opened once (and again only after it was closed or
// failed to open, so a page reloaded after fixing the file opens it), else the demo lab (a failure to start it is a problem at "$"), else none.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OpenResult } from '../../../../common/contract';
import { SessionService } from '../../../../main/backend/session-service';
import { StartupSession } from '../../../../main/backend/startup-session';
import { recordingLogger } from './service-fakes';

let folder = '';

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-startup-'));
  await writeFile(path.join(folder, 'startup.json'), JSON.stringify({ version: 1, name: 'start', replicas: [{ id: 'a', vnc: { host: '127.0.0.1', port: 5901 } }] }));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

function newSessions(): SessionService {
  const log = recordingLogger();
  return new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: folder });
}

function sessionId(result: OpenResult | null): string {
  assert.ok(result?.ok, JSON.stringify(result));
  return result.session.sessionId;
}

describe('StartupSession', { timeout: 10_000 }, () => {
  it('opens the command line\'s profile once, and again after the user closed it', { timeout: 5_000 }, async () => {
    const sessions = newSessions();
    let demoOpened = 0;
    const startup = new StartupSession({
      sessions,
      profilePath: 'startup.json',
      demo: true,
      openDemo: async () => {
        demoOpened++;
        return { ok: false, problems: [] };
      },
    });
    const first = sessionId(await startup.get());
    assert.equal(sessionId(await startup.get()), first);
    sessions.close(first, 'the session was closed');
    const reopened = sessionId(await startup.get());
    assert.notEqual(reopened, first);
    assert.equal(demoOpened, 0, 'a profile on the command line wins over --demo');
  });

  it('reads a profile that failed again on the next get (fixed meanwhile), naming the file it read', { timeout: 5_000 }, async () => {
    const file = path.join(folder, 'later.json');
    await writeFile(file, '{"version": 1, "name": ');
    const startup = new StartupSession({ sessions: newSessions(), profilePath: file, openDemo: () => Promise.reject(new Error('not called')) });
    const failed = await startup.get();
    assert.ok(failed !== null && !failed.ok);
    assert.equal(failed.source, file);
    assert.match(failed.problems[0]?.message ?? '', /not valid JSON/);
    await writeFile(file, JSON.stringify({ version: 1, name: 'later', replicas: [{ id: 'a', vnc: { host: '127.0.0.1', port: 5901 } }] }));
    const first = sessionId(await startup.get());
    assert.equal(sessionId(await startup.get()), first, 'an open startup session is not opened twice');
  });

  it('opens the demo lab under --demo, and explains a lab that cannot start', { timeout: 5_000 }, async () => {
    const startup = new StartupSession({
      sessions: newSessions(),
      demo: true,
      openDemo: () => Promise.reject(new Error('the demo lab could not start: port taken')),
    });
    assert.deepEqual(await startup.get(), { ok: false, problems: [{ path: '$', message: 'the demo lab could not start: port taken' }] });
  });

  it('has no startup session when the command line names none', { timeout: 5_000 }, async () => {
    const startup = new StartupSession({ sessions: newSessions(), openDemo: () => Promise.reject(new Error('not called')) });
    assert.equal(await startup.get(), null);
    assert.equal(await startup.get(), null);
  });
  it('answers the session opened last, still open, after resumeLatest (a window reloaded after its renderer was lost)', { timeout: 5_000 }, async () => {
    const sessions = newSessions();
    const startup = new StartupSession({ sessions, profilePath: 'startup.json', openDemo: () => Promise.reject(new Error('not called')) });
    const first = sessionId(await startup.get());
    const later = sessionId(sessions.quickConnect('127.0.0.1:5'));
    assert.equal(sessionId(await startup.get()), first, 'without resumeLatest a reload gets the startup session');
    startup.resumeLatest();
    assert.equal(sessionId(await startup.get()), later, 'the page gets back the session it showed');
    sessions.close(later, 'the session was closed');
    startup.resumeLatest();
    assert.equal(sessionId(await startup.get()), first, 'a closed session is not resumed: the startup session is');
  });
});
