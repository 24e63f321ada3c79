// The remediation core: what it decides (and refuses to decide) from comparisons, connections,
// domain states, rung outcomes and the user's answers. Time is a number passed in: hours of simulated
// time run in milliseconds, and every decision is checked to carry its reason.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainState } from '../../../../common/l0';
import {
  RemediationCore,
  describeDecision,
  type ComparisonReport,
  type ManualAction,
  type RemediationDecision,
} from '../../../../common/remediation/remediation-core';
import { LIFECYCLE_TRANSITIONS, transitionLifecycle, type RemediationPlan } from '../../../../common/remediation/remediation-lifecycle';
import { DEFAULT_REMEDIATION_SETTINGS, type RemediationRung, type RemediationSettings } from '../../../../common/remediation/remediation-settings';

const THREE = ['r1', 'r2', 'r3'];
const OUTLIER_MS = DEFAULT_REMEDIATION_SETTINGS.outlierMs;
const HOUR_MS = 3_600_000;

type DecisionOf<T extends RemediationDecision['type']> = Extract<RemediationDecision, { type: T }>;

function ofType<T extends RemediationDecision['type']>(decisions: readonly RemediationDecision[], type: T): DecisionOf<T>[] {
  return decisions.filter((decision): decision is DecisionOf<T> => decision.type === type);
}

function typesOf(decisions: readonly RemediationDecision[]): string[] {
  return decisions.map((decision) => decision.type);
}

/** A core plus the log of everything it decided; every decision is checked for its reason and time. */
class Harness {
  readonly core: RemediationCore;
  readonly log: RemediationDecision[] = [];
  readonly warnings: string[] = [];
  readonly ids: readonly string[];

  constructor(mode: RemediationSettings['mode'], ids: readonly string[] = THREE, overrides: Partial<RemediationSettings> = {}, controllable?: readonly string[]) {
    this.ids = ids;
    this.core = new RemediationCore({
      replicaIds: ids,
      settings: { ...DEFAULT_REMEDIATION_SETTINGS, mode, ...overrides },
      profileName: 'Lab',
      warn: (message) => this.warnings.push(message),
      ...(controllable === undefined ? {} : { controllable }),
    });
  }

  /** Checks and logs decisions (also those of calls the harness does not wrap). */
  record(decisions: RemediationDecision[]): RemediationDecision[] {
    for (const decision of decisions) {
      assert.equal(typeof decision.reason, 'string');
      assert.ok(decision.reason.length > 5, `a decision without a reason: ${JSON.stringify(decision)}`);
      assert.ok(Number.isFinite(decision.atMs));
      assert.ok(describeDecision(decision).length > 0);
    }
    this.log.push(...decisions);
    return decisions;
  }

  compare(report: ComparisonReport, nowMs: number): RemediationDecision[] {
    return this.record(this.core.comparison(report, nowMs));
  }

  /** Every voting replica agrees (the non-voting ones are left out, as the service does). */
  agree(nowMs: number, voters: readonly string[] = this.ids.filter((id) => !this.core.nonVoting().includes(id))): RemediationDecision[] {
    return this.compare({ outliers: [], agreeing: voters, noMajority: false, voters }, nowMs);
  }

  /** `outliers` disagree with the other voters, which agree. */
  outliers(outliers: readonly string[], nowMs: number, evidenceRef?: string): RemediationDecision[] {
    const voters = this.ids.filter((id) => !this.core.nonVoting().includes(id));
    const agreeing = voters.filter((id) => !outliers.includes(id));
    return this.compare({ outliers, agreeing, noMajority: false, voters, ...(evidenceRef === undefined ? {} : { evidenceRef }) }, nowMs);
  }

  tick(nowMs: number): RemediationDecision[] {
    return this.record(this.core.tick(nowMs));
  }

  finished(replicaId: string, rung: RemediationRung, outcome: 'agreed' | 'failed', nowMs: number, detail = 'test'): RemediationDecision[] {
    return this.record(this.core.rungFinished(replicaId, rung, outcome, detail, nowMs));
  }

  confirm(planId: string, approved: boolean, nowMs: number): RemediationDecision[] {
    return this.record(this.core.confirm(planId, approved, nowMs));
  }

  manual(replicaId: string, action: ManualAction, nowMs: number): RemediationDecision[] {
    return this.record(this.core.requestManual(replicaId, action, nowMs));
  }

  lost(replicaId: string, nowMs: number): RemediationDecision[] {
    return this.record(this.core.replicaState(replicaId, 'lost', nowMs));
  }

  connected(replicaId: string, nowMs: number): RemediationDecision[] {
    return this.record(this.core.replicaState(replicaId, 'connected', nowMs));
  }

  domain(replicaId: string, state: DomainState, nowMs: number): RemediationDecision[] {
    return this.record(this.core.domainState(replicaId, state, nowMs));
  }

  /** Everyone agrees → the core asks for a checkpoint → every replica succeeds. Returns its name. */
  checkpoint(nowMs: number, seq = 100): string {
    const decisions = this.agree(nowMs);
    const take = ofType(decisions, 'take-checkpoint')[0];
    assert.ok(take, `expected a take-checkpoint, got ${typesOf(decisions).join(', ')}`);
    const perReplica = Object.fromEntries(this.ids.map((id) => [id, 'ok' as const]));
    this.record(this.core.checkpointFinished({ name: take.name, seq, perReplica }, nowMs + 500));
    return take.name;
  }

  /** Makes `replicaId` the outlier at `nowMs` and ticks just past outlierMs; returns the tick's decisions. */
  trigger(replicaId: string, nowMs: number): RemediationDecision[] {
    assert.deepEqual(this.outliers([replicaId], nowMs).filter((decision) => decision.type !== 'skip'), []);
    assert.deepEqual(this.tick(nowMs + OUTLIER_MS), [], 'exactly outlierMs is not yet "longer than"');
    assert.equal(this.core.nextWakeMs(), nowMs + OUTLIER_MS + 1);
    return this.tick(nowMs + OUTLIER_MS + 1);
  }
}

describe('remediation core', { timeout: 20_000 }, () => {
  it('auto: an outlier for longer than outlierMs is reverted and replayed, and rejoins', { timeout: 2_000 }, () => {
    const h = new Harness('auto');
    const checkpoint = h.checkpoint(0, 42);
    const decisions = h.trigger('r2', 1000);
    assert.deepEqual(typesOf(decisions), ['plan', 'run-rung']);
    const [plan, run] = [ofType(decisions, 'plan')[0]!, ofType(decisions, 'run-rung')[0]!];
    assert.equal(plan.replicaId, 'r2');
    assert.equal(plan.rung, 'revert-replay');
    assert.equal(plan.needsConfirmation, false);
    assert.deepEqual(plan.then, ['restart-replay']);
    assert.deepEqual(plan.evidence.agreeing, ['r1', 'r3']);
    assert.match(plan.reason, /r2 has been the outlier for 3001 ms/);
    assert.match(plan.reason, /2 of 3 replicas agree/);
    assert.deepEqual({ planId: run.planId, rung: run.rung, checkpoint: run.checkpoint, deadlineMs: run.deadlineMs }, { planId: plan.planId, rung: 'revert-replay', checkpoint: { name: checkpoint, seq: 42 }, deadlineMs: 4001 + 60_000 });
    assert.deepEqual(h.core.nonVoting(), ['r2']);
    assert.equal(h.core.nextWakeMs(), run.deadlineMs);
    assert.equal(h.core.snapshot(5000).replicas[1]?.state, 'remediating');

    const done = h.finished('r2', 'revert-replay', 'agreed', 20_000);
    assert.deepEqual(typesOf(done), ['alert']);
    assert.equal(ofType(done, 'alert')[0]?.severity, 'info');
    assert.equal(h.core.lifecycleOf('r2')?.name, 'healthy');
    assert.deepEqual(h.core.nonVoting(), []);
    const view = h.core.snapshot(20_000).replicas[1]!;
    assert.equal(view.attemptsLastHour, 1);
    assert.equal(view.backoffUntilMs, 20_000 + DEFAULT_REMEDIATION_SETTINGS.backoffMs);
    assert.match(view.lastDecision ?? '', /agrees with the others again/);
  });

  it('auto: a failing replica climbs the ladder, then is quarantined with an alert', { timeout: 2_000 }, () => {
    const h = new Harness('auto');
    h.checkpoint(0);
    const first = ofType(h.trigger('r2', 1000), 'run-rung')[0]!;
    const climbed = h.finished('r2', 'revert-replay', 'failed', 10_000, 'snapshot-revert: invalid-state');
    assert.deepEqual(typesOf(climbed), ['plan', 'run-rung']);
    const second = ofType(climbed, 'run-rung')[0]!;
    assert.equal(second.rung, 'restart-replay');
    assert.equal(second.planId, first.planId, 'one plan per episode');
    assert.match(ofType(climbed, 'plan')[0]!.reason, /revert-replay failed: snapshot-revert: invalid-state/);
    // The second rung times out: the core notices on its own.
    const timedOut = h.tick(second.deadlineMs);
    assert.deepEqual(typesOf(timedOut), ['quarantine', 'alert']);
    assert.equal(ofType(timedOut, 'quarantine')[0]?.abortPlanId, first.planId);
    assert.match(ofType(timedOut, 'quarantine')[0]!.reason, /restart-replay timed out.*last usable rung/);
    assert.equal(ofType(timedOut, 'alert')[0]?.severity, 'critical');
    assert.deepEqual(h.core.nonVoting(), ['r2']);
    // A late report of the rung that timed out changes nothing.
    assert.deepEqual(typesOf(h.finished('r2', 'restart-replay', 'agreed', second.deadlineMs + 5)), ['refused']);
    assert.equal(h.core.lifecycleOf('r2')?.name, 'quarantined');
    // Quarantined: no trigger, no vote, however long it disagrees; only "include again" lifts it.
    assert.deepEqual(h.outliers(['r2'], 200_000), []);
    assert.deepEqual(h.tick(900_000), []);
    const included = h.manual('r2', 'include-again', 1_000_000);
    assert.deepEqual(typesOf(included), ['include-again']);
    assert.equal(h.core.lifecycleOf('r2')?.name, 'healthy');
    assert.deepEqual(h.core.nonVoting(), []);
  });

  it('observe: only says what it would do, once, and never touches an L0', { timeout: 2_000 }, () => {
    const h = new Harness('observe');
    assert.deepEqual(h.agree(0), [], 'observe mode takes no checkpoint by itself');
    const decisions = h.trigger('r2', 1000);
    assert.deepEqual(typesOf(decisions), ['would-act']);
    const wouldAct = ofType(decisions, 'would-act')[0]!;
    assert.equal(wouldAct.rung, 'revert-replay');
    assert.match(wouldAct.reason, /observe mode: r2 has been the outlier.*would revert-replay it/);
    assert.deepEqual(h.tick(60_000), []);
    assert.equal(h.core.nextWakeMs(), null);
    assert.deepEqual(new Set(typesOf(h.log)), new Set(['would-act']));
    assert.deepEqual(h.core.nonVoting(), []);
  });

  it('confirm: nothing runs until approved; a refusal is recorded and asked again only after the backoff', { timeout: 2_000 }, () => {
    const h = new Harness('confirm');
    h.checkpoint(0);
    const asked = h.outliers(['r2'], 1000, 'divergence-7');
    assert.deepEqual(asked, []);
    const decisions = h.tick(1000 + OUTLIER_MS + 1);
    assert.deepEqual(typesOf(decisions), ['plan']);
    const plan = ofType(decisions, 'plan')[0]!;
    assert.equal(plan.needsConfirmation, true);
    assert.equal(plan.evidence.evidenceRef, 'divergence-7');
    assert.deepEqual(h.tick(30_000), [], 'waiting for the user');
    const pending = h.core.snapshot(30_000).pendingConfirmation;
    assert.deepEqual({ planId: pending?.planId, replicaId: pending?.replicaId, rung: pending?.rung, ref: pending?.evidence.evidenceRef }, { planId: plan.planId, replicaId: 'r2', rung: 'revert-replay', ref: 'divergence-7' });
    assert.deepEqual(h.core.nonVoting(), [], 'a replica awaiting confirmation still votes');

    const declined = h.confirm(plan.planId, false, 40_000);
    assert.deepEqual(typesOf(declined), ['skip']);
    assert.equal(ofType(declined, 'skip')[0]?.code, 'declined');
    assert.match(declined[0]!.reason, /the user declined plan-1 \(revert-replay on r2\); not asking again for 30 s/);
    assert.equal(h.core.snapshot(40_000).pendingConfirmation, null);
    assert.deepEqual(h.tick(50_000), []);
    assert.deepEqual(typesOf(h.confirm(plan.planId, true, 50_000)), ['skip'], 'a decided plan cannot be approved later');
    assert.equal(h.core.nextWakeMs(), 70_000);

    const again = h.tick(70_000);
    assert.deepEqual(typesOf(again), ['plan']);
    const second = ofType(again, 'plan')[0]!;
    assert.notEqual(second.planId, plan.planId);
    const approved = h.confirm(second.planId, true, 71_000);
    assert.deepEqual(typesOf(approved), ['run-rung']);
    assert.equal(ofType(approved, 'run-rung')[0]?.planId, second.planId);
    // The whole ladder of the episode was approved: the next rung runs without asking again.
    assert.deepEqual(typesOf(h.finished('r2', 'revert-replay', 'failed', 80_000)), ['plan', 'run-rung']);
    assert.equal(ofType(h.log, 'run-rung').length, 2);
  });

  it('confirm: a plan is withdrawn when the replica agrees again before anyone answers', { timeout: 2_000 }, () => {
    const h = new Harness('confirm');
    h.checkpoint(0);
    h.outliers(['r2'], 1000);
    const plan = ofType(h.tick(1000 + OUTLIER_MS + 1), 'plan')[0]!;
    const withdrawn = h.agree(6000);
    assert.deepEqual(typesOf(withdrawn), ['skip']);
    assert.equal(ofType(withdrawn, 'skip')[0]?.code, 'plan-withdrawn');
    assert.equal(h.core.lifecycleOf('r2')?.name, 'healthy');
    assert.equal(ofType(h.confirm(plan.planId, true, 7000), 'skip')[0]?.code, 'no-such-plan');
  });

  it('confirm: an approval does not start a rung once the majority is gone', { timeout: 2_000 }, () => {
    const h = new Harness('confirm');
    h.checkpoint(0);
    h.lost('r3', 1000);
    h.compare({ outliers: [], agreeing: ['r1', 'r2'], noMajority: false, voters: ['r1', 'r2'] }, 1000);
    const plan = ofType(h.domain('r3', 'crashed', 2000), 'plan')[0]!;
    assert.equal(plan.needsConfirmation, true);
    h.compare({ outliers: ['r1', 'r2'], agreeing: [], noMajority: true, voters: ['r1', 'r2'] }, 3000);
    const approved = h.confirm(plan.planId, true, 4000);
    assert.deepEqual(typesOf(approved), ['skip']);
    assert.equal(ofType(approved, 'skip')[0]?.code, 'no-majority');
    assert.equal(h.core.lifecycleOf('r3')?.name, 'suspect');
    assert.equal(ofType(h.log, 'run-rung').length, 0);
  });

  it('two replicas: never acts, alerts once per episode', { timeout: 2_000 }, () => {
    const h = new Harness('auto', ['r1', 'r2']);
    h.checkpoint(0);
    const first = h.compare({ outliers: ['r1', 'r2'], agreeing: [], noMajority: true, voters: ['r1', 'r2'] }, 1000);
    assert.deepEqual(typesOf(first), ['alert', 'skip']);
    assert.match(first[0]!.reason, /with 2 replicas no strict majority is possible/);
    assert.deepEqual(h.tick(100_000), []);
    assert.deepEqual(h.compare({ outliers: ['r2'], agreeing: ['r1'], noMajority: false, voters: ['r1', 'r2'] }, 101_000), [], 'same episode: no second alert');
    assert.deepEqual(h.tick(200_000), []);
    h.agree(300_000);
    assert.deepEqual(typesOf(h.compare({ outliers: ['r2'], agreeing: ['r1'], noMajority: false, voters: ['r1', 'r2'] }, 400_000)), ['alert', 'skip'], 'a new episode alerts again');
    assert.equal(ofType(h.log, 'plan').length + ofType(h.log, 'run-rung').length + ofType(h.log, 'quarantine').length, 0);
    // A lost replica with its domain down is no exception.
    h.lost('r2', 500_000);
    const down = h.domain('r2', 'shut off', 500_100);
    assert.deepEqual(typesOf(down), ['skip']);
    assert.equal(ofType(down, 'skip')[0]?.code, 'no-majority');
  });

  it('1-1-1 split and 2-2 tie: no action, one alert', { timeout: 2_000 }, () => {
    const h = new Harness('auto');
    h.checkpoint(0);
    const split = { outliers: THREE, agreeing: [], noMajority: true, voters: THREE };
    const first = h.compare(split, 1000);
    assert.deepEqual(typesOf(first), ['alert', 'skip']);
    assert.match(first[0]!.reason, /no majority: r1, r2, r3 all differ/);
    for (let t = 2000; t < 60_000; t += 1000) assert.deepEqual([...h.compare(split, t), ...h.tick(t + 500)], []);
    assert.equal(ofType(h.log, 'alert').length, 1);

    const four = new Harness('auto', ['r1', 'r2', 'r3', 'r4']);
    four.checkpoint(0);
    const tie = four.outliers(['r3', 'r4'], 1000);
    assert.deepEqual(typesOf(tie), ['alert', 'skip']);
    assert.match(tie[0]!.reason, /a tie: 2 of 4 agree/);
    assert.deepEqual(four.tick(100_000), []);
  });

  it('one replica at a time: a second outlier waits its turn', { timeout: 2_000 }, () => {
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const h = new Harness('auto', ids);
    h.checkpoint(0);
    h.outliers(['r2', 'r3'], 1000);
    const decisions = h.tick(1000 + OUTLIER_MS + 1);
    assert.deepEqual(typesOf(decisions), ['plan', 'run-rung', 'skip']);
    const skip = ofType(decisions, 'skip')[0]!;
    assert.deepEqual({ replicaId: skip.replicaId, code: skip.code }, { replicaId: 'r3', code: 'one-at-a-time' });
    assert.match(skip.reason, /r2 is being remediated: one replica at a time/);
    // r2 is out of the vote now; r3 still disagrees with r1, r4, r5 (3 of 5).
    assert.deepEqual(h.outliers(['r3'], 5000), []);
    assert.deepEqual(h.tick(6000), [], 'the skip is said once, not every tick');
    const manual = h.manual('r4', 'reset', 7000);
    assert.equal(ofType(manual, 'skip')[0]?.code, 'one-at-a-time');
    const next = h.finished('r2', 'revert-replay', 'agreed', 8000);
    assert.deepEqual(typesOf(next), ['alert', 'plan', 'run-rung']);
    assert.equal(ofType(next, 'run-rung')[0]?.replicaId, 'r3');
  });

  it('rate limit: a replica that diverges again right after every success is quarantined, not looped', { timeout: 5_000 }, () => {
    const h = new Harness('auto');
    h.checkpoint(0);
    h.outliers(['r2'], 1000);
    let runs = 0;
    for (let nowMs: number | null = h.core.nextWakeMs(); nowMs !== null && nowMs < 6 * HOUR_MS; nowMs = h.core.nextWakeMs()) {
      for (const run of ofType(h.tick(nowMs), 'run-rung')) {
        runs++;
        // The rung works, r2 agrees... and diverges again at once.
        h.finished(run.replicaId, run.rung, 'agreed', nowMs + 5000);
        h.agree(nowMs + 5000);
        h.outliers(['r2'], nowMs + 5001);
      }
    }
    assert.equal(runs, DEFAULT_REMEDIATION_SETTINGS.maxRemediationsPerHour);
    assert.equal(h.core.lifecycleOf('r2')?.name, 'quarantined');
    assert.match(ofType(h.log, 'quarantine')[0]!.reason, /3 rungs ran on it in the last hour \(maxRemediationsPerHour 3\): quarantined instead of looping/);
    // Each episode after the first waited for a doubling backoff.
    const starts = ofType(h.log, 'run-rung').map((run) => run.atMs);
    assert.deepEqual(starts.slice(1).map((start, index) => start - starts[index]! - 5000), [30_000, 60_000]);
    assert.equal(h.core.nextWakeMs(), null);
  });

  it('backoff alone bounds the rungs of a replica that keeps diverging for hours', { timeout: 5_000 }, () => {
    const h = new Harness('auto', THREE, { maxRemediationsPerHour: 20 });
    h.checkpoint(0);
    h.outliers(['r2'], 1000);
    const starts: number[] = [];
    for (let nowMs: number | null = h.core.nextWakeMs(); nowMs !== null && nowMs < 6 * HOUR_MS; nowMs = h.core.nextWakeMs()) {
      for (const run of ofType(h.tick(nowMs), 'run-rung')) {
        starts.push(nowMs);
        h.finished(run.replicaId, run.rung, 'agreed', nowMs + 5000);
        h.outliers(['r2'], nowMs + 5001);
      }
    }
    // Gaps of 30 s, 1, 2, 4, 8, 16, 32 min, then an hour each: 12 rungs in six hours, not thousands.
    assert.ok(starts.length >= 10 && starts.length <= 13, `${starts.length} rungs`);
    const gaps = starts.slice(1).map((start, index) => start - starts[index]!);
    assert.ok(gaps.every((gap, index) => index === 0 || gap >= gaps[index - 1]!), `gaps never shrink: ${gaps.join(', ')}`);
    assert.ok(gaps.at(-1)! >= HOUR_MS);
    assert.equal(h.core.lifecycleOf('r2')?.name === 'quarantined', false);
  });

  it('a lost replica whose domain is shut off triggers at once; a running one is waited for', { timeout: 2_000 }, () => {
    const h = new Harness('auto');
    const checkpoint = h.checkpoint(0, 7);
    h.lost('r3', 1000);
    h.compare({ outliers: [], agreeing: ['r1', 'r2'], noMajority: false, voters: ['r1', 'r2'] }, 1000);
    const running = h.domain('r3', 'running', 1500);
    assert.deepEqual(typesOf(running), ['skip']);
    assert.equal(ofType(running, 'skip')[0]?.code, 'waiting-for-connection');
    assert.deepEqual(h.domain('r3', 'paused', 1600), [], 'said once');
    const down = h.domain('r3', 'shut off', 2000);
    assert.deepEqual(typesOf(down), ['plan', 'run-rung']);
    assert.match(ofType(down, 'plan')[0]!.reason, /r3 is lost and its domain is "shut off"/);
    assert.equal(ofType(down, 'plan')[0]?.evidence.cause, 'domain-down');
    assert.deepEqual(ofType(down, 'run-rung')[0]?.checkpoint, { name: checkpoint, seq: 7 });
  });

  it('the non-voting set follows remediation and quarantine', { timeout: 2_000 }, () => {
    const h = new Harness('auto');
    h.checkpoint(0);
    assert.deepEqual(h.core.nonVoting(), []);
    h.trigger('r1', 1000);
    assert.deepEqual(h.core.nonVoting(), ['r1']);
    // A report that still counts r1 is cleaned: r1 is no outlier while it has no vote.
    h.compare({ outliers: ['r1'], agreeing: ['r2', 'r3'], noMajority: false, voters: THREE }, 5000);
    assert.equal(h.core.snapshot(5000).replicas[0]?.outlierSinceMs, null);
    h.manual('r3', 'quarantine', 6000);
    assert.deepEqual(h.core.nonVoting(), ['r1', 'r3']);
    const snapshot = h.core.snapshot(6000);
    assert.deepEqual(snapshot.nonVoting, ['r1', 'r3']);
    assert.deepEqual(snapshot.replicas.map((replica) => replica.voting), [false, true, false]);
    h.manual('r1', 'quarantine', 7000);
    assert.equal(ofType(h.log, 'quarantine').at(-1)?.abortPlanId, 'plan-1', 'quarantining a running rung aborts it');
  });

  it('manual actions skip the trigger but keep the guards that protect data', { timeout: 2_000 }, () => {
    const h = new Harness('observe');
    const noCheckpoint = h.manual('r2', 'revert-replay', 1000);
    assert.deepEqual(typesOf(noCheckpoint), ['skip']);
    assert.equal(ofType(noCheckpoint, 'skip')[0]?.code, 'no-checkpoint');
    const reset = h.manual('r2', 'reset', 2000);
    assert.deepEqual(typesOf(reset), ['plan', 'run-rung']);
    assert.equal(ofType(reset, 'run-rung')[0]?.checkpoint, null);
    // A manual rung that does not bring the replica back quarantines it (no ladder to climb).
    assert.deepEqual(typesOf(h.finished('r2', 'reset', 'failed', 10_000)), ['quarantine', 'alert']);
    // From quarantine, a manual checkpoint rung is refused without a checkpoint, then allowed.
    h.agree(11_000);
    const take = ofType(h.record(h.core.requestCheckpoint(11_000)), 'take-checkpoint')[0];
    assert.equal(take, undefined, 'no checkpoint while r2 is quarantined (not every replica agrees)');
    const restart = h.manual('r2', 'restart-replay', 12_000);
    assert.equal(ofType(restart, 'skip')[0]?.code, 'no-checkpoint');
    const uncontrollable = new Harness('auto', THREE, {}, ['r1', 'r3']);
    assert.equal(ofType(uncontrollable.manual('r2', 'reset', 0), 'skip')[0]?.code, 'not-controllable');
    assert.equal(ofType(h.manual('r2', 'quarantine', 13_000), 'skip')[0]?.code, 'quarantined');
  });

  it('checkpoints: first agreement, periodic while all agree, none while remediating, old ones deleted', { timeout: 2_000 }, () => {
    const h = new Harness('auto', THREE, { checkpoint: { everyMs: 60_000, keep: 2 } });
    const first = h.agree(0);
    assert.deepEqual(ofType(first, 'take-checkpoint').map((take) => [take.name, take.kind]), [['retrovisor-lab-1', 'first-agreement']]);
    assert.deepEqual(h.tick(30_000), [], 'one at a time: the first is still being taken');
    h.record(h.core.checkpointFinished({ name: 'retrovisor-lab-1', seq: 10, perReplica: { r1: 'ok', r2: 'failed', r3: 'ok' } }, 31_000));
    assert.equal(ofType(h.log, 'alert').at(-1)?.severity, 'warning');
    assert.equal(h.core.nextWakeMs(), 31_000 + 60_000, 'the failed first checkpoint is retried after a while');
    const retry = h.tick(91_000);
    assert.deepEqual(ofType(retry, 'take-checkpoint').map((take) => take.kind), ['first-agreement']);
    const second = h.record(h.core.checkpointFinished({ name: 'retrovisor-lab-2', seq: 20, perReplica: { r1: 'ok', r2: 'ok', r3: 'ok' } }, 92_000));
    // The failed one is older than the newest complete one now: deleted.
    assert.deepEqual(ofType(second, 'delete-checkpoints').map((deletion) => deletion.names), [['retrovisor-lab-1']]);
    assert.equal(h.core.nextWakeMs(), 91_000 + 60_000);
    const periodic = h.tick(151_000);
    assert.deepEqual(ofType(periodic, 'take-checkpoint').map((take) => [take.name, take.kind]), [['retrovisor-lab-3', 'periodic']]);
    const third = h.record(h.core.checkpointFinished({ name: 'retrovisor-lab-3', seq: 30, perReplica: { r1: 'ok', r2: 'ok', r3: 'ok' } }, 152_000));
    assert.deepEqual(ofType(third, 'delete-checkpoints'), [], 'two complete ones are kept');
    // An outlier: no periodic checkpoint while it disagrees or is remediated.
    h.outliers(['r2'], 160_000);
    const run = ofType(h.tick(160_000 + OUTLIER_MS + 1), 'run-rung')[0]!;
    assert.deepEqual(run.checkpoint, { name: 'retrovisor-lab-3', seq: 30 });
    h.agree(170_000);
    // lab-3 is 60 s old at 211 s; the rung runs until 223 s at the latest.
    assert.deepEqual(ofType(h.tick(220_000), 'take-checkpoint'), [], 'never while a remediation runs');
    assert.equal(ofType(h.record(h.core.requestCheckpoint(220_000)), 'skip')[0]?.code, 'remediation-running');
    h.finished('r2', 'revert-replay', 'agreed', 221_000);
    // All agree again, the newest checkpoint is overdue: taken at once.
    assert.deepEqual(ofType(h.agree(221_000), 'take-checkpoint').map((take) => [take.name, take.kind]), [['retrovisor-lab-4', 'periodic']]);
    const manual = h.record(h.core.requestCheckpoint(222_000));
    assert.equal(ofType(manual, 'skip')[0]?.code, 'checkpoint-in-progress');
    const fourth = h.record(h.core.checkpointFinished({ name: 'retrovisor-lab-4', seq: 40, perReplica: { r1: 'ok', r2: 'ok', r3: 'ok' } }, 223_000));
    assert.deepEqual(ofType(fourth, 'delete-checkpoints').map((deletion) => deletion.names), [['retrovisor-lab-2']]);
    assert.deepEqual(h.core.snapshot(223_000).checkpoints.map((record) => record.name), ['retrovisor-lab-3', 'retrovisor-lab-4']);
  });

  it('refuses illegal transitions and reports them, never throws', { timeout: 2_000 }, () => {
    const h = new Harness('auto');
    const notRunning = h.finished('r1', 'reset', 'agreed', 0);
    assert.deepEqual(typesOf(notRunning), ['refused']);
    assert.match(notRunning[0]!.reason, /reset finished \(agreed\) for r1, which is "healthy"; ignored/);
    const notQuarantined = h.manual('r1', 'include-again', 1);
    assert.deepEqual(typesOf(notQuarantined), ['refused']);
    assert.match(notQuarantined[0]!.reason, /illegal transition: "include-again" in state "healthy"/);
    assert.deepEqual(typesOf(h.manual('nobody', 'reset', 2)), ['refused']);
    assert.equal(h.warnings.length, 3, 'the injected warn hears about every refusal');

    // The table itself.
    const plan: RemediationPlan = { planId: 'p', replicaId: 'r1', rung: 'reset', rungIndex: 0, manual: false, evidence: { cause: 'outlier', sinceMs: 0, agreeing: [], voters: [], evidenceRef: null } };
    assert.equal(transitionLifecycle({ name: 'healthy' }, { type: 'start', nowMs: 0, deadlineMs: 1 }).ok, false);
    assert.equal(transitionLifecycle({ name: 'healthy' }, { type: 'plan', plan }).ok, false, 'an automatic plan needs a suspect');
    assert.equal(transitionLifecycle({ name: 'healthy' }, { type: 'plan', plan: { ...plan, manual: true, rungIndex: -1 } }).ok, true);
    assert.equal(transitionLifecycle({ name: 'quarantined', reason: 'x', sinceMs: 0 }, { type: 'quarantine', reason: 'y', nowMs: 1 }).ok, false);
    assert.equal(transitionLifecycle({ name: 'quarantined', reason: 'x', sinceMs: 0 }, { type: 'clear' }).ok, false, 'only "include again" ends a quarantine');
    const remediating = { name: 'remediating', plan, startedAtMs: 0, deadlineMs: 10 } as const;
    assert.equal(transitionLifecycle(remediating, { type: 'next-rung', plan }).ok, false, 'the ladder only goes down');
    assert.deepEqual(transitionLifecycle(remediating, { type: 'rung-agreed' }), { ok: true, state: { name: 'healthy' } });
    assert.deepEqual(LIFECYCLE_TRANSITIONS['include-again'], ['quarantined']);
  });

  it('every decision of a long mixed session carries a reason', { timeout: 2_000 }, () => {
    const h = new Harness('confirm', ['r1', 'r2', 'r3', 'r4', 'r5']);
    h.checkpoint(0);
    h.outliers(['r2', 'r4'], 1000);
    const plan = ofType(h.tick(10_000), 'plan')[0]!;
    h.confirm(plan.planId, true, 11_000);
    h.finished('r2', 'revert-replay', 'failed', 12_000);
    h.tick(200_000);
    h.compare({ outliers: ['r1', 'r3', 'r4', 'r5'], agreeing: [], noMajority: true, voters: ['r1', 'r3', 'r4', 'r5'] }, 210_000);
    h.lost('r5', 220_000);
    h.domain('r5', 'crashed', 221_000);
    assert.ok(h.log.length >= 8);
    for (const decision of h.log) assert.ok(describeDecision(decision).includes(decision.reason));
  });
});

