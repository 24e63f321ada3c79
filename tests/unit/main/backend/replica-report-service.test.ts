// The replica report service: a report reaches the listeners with its (secret-free) session; one of a
// closed session or an unknown replica is logged and dropped; a failing listener is isolated.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenResult, ReplicaStatusReport, SessionInfo } from '../../../../common/contract';
import { ReplicaReportService } from '../../../../main/backend/replica-report-service';
import { SessionService } from '../../../../main/backend/session-service';
import { recordingLogger } from './service-fakes';

function setup() {
  const log = recordingLogger();
  const sessions = new SessionService({ logger: log.logger, redactor: log.redactor, workingDirectory: process.cwd() });
  const reports = new ReplicaReportService({ logger: log.logger, sessions });
  return { log, sessions, reports };
}

function sessionId(result: OpenResult): string {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session.sessionId;
}

describe('ReplicaReportService', { timeout: 5_000 }, () => {
  it('passes a report to the listeners with its session, the password left out', { timeout: 2_000 }, () => {
    const { sessions, reports, log } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1', 'report-secret'));
    const heard: [ReplicaStatusReport, SessionInfo][] = [];
    reports.onReport((report, session) => heard.push([report, session]));
    const report: ReplicaStatusReport = { sessionId: id, replicaId: 'r1', state: 'connected', width: 640, height: 480 };
    reports.report(report);
    assert.equal(heard.length, 1);
    assert.deepEqual(heard[0]![0], report);
    assert.equal(heard[0]![1].sessionId, id);
    assert.ok(!JSON.stringify(heard).includes('report-secret'));
    assert.ok(log.messages().includes('replica state'));
  });

  it('drops, with a log line, a closed session\'s report and an unknown replica\'s', { timeout: 2_000 }, () => {
    const { sessions, reports, log } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    let heard = 0;
    reports.onReport(() => heard++);
    reports.report({ sessionId: id, replicaId: 'r7', state: 'connected' });
    sessions.close(id, 'the session was closed');
    reports.report({ sessionId: id, replicaId: 'r1', state: 'closed' });
    assert.equal(heard, 0);
    assert.ok(log.messages().includes('state report for an unknown replica'));
    assert.ok(log.messages().includes('state report for a closed session'));
  });

  it('logs a listener that throws, tells the others, and forgets them all on clear', { timeout: 2_000 }, () => {
    const { sessions, reports, log } = setup();
    const id = sessionId(sessions.quickConnect('127.0.0.1:1'));
    let heard = 0;
    reports.onReport(() => {
      throw new Error('printer broke');
    });
    reports.onReport(() => heard++);
    reports.report({ sessionId: id, replicaId: 'r1', state: 'connecting' });
    assert.equal(heard, 1);
    assert.ok(log.messages().includes('replica report listener failed'));
    reports.clear();
    reports.report({ sessionId: id, replicaId: 'r1', state: 'connecting' });
    assert.equal(heard, 1);
  });
});
