// The desktop status core in plain Node: the tray state's precedence, the tooltip and title words,
// the state icons, and the notification policy (kinds, do not disturb, grouping, rate limit) under a
// fake clock. None of its texts carries anything but labels, names and counts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  GROUP_WINDOW_MS,
  NotificationPolicy,
  RATE_WINDOW_MS,
  TRAY_STATE_PRECEDENCE,
  stateIconSvg,
  summarize,
  trayState,
  type DesktopEvent,
  type DesktopNotification,
  type NotificationSettings,
  type ReplicaFacts,
  type SessionFacts,
} from '../../../common/desktop-status';
import { ManualClock } from '../support/fake-clocks';

function replica(id: string, overrides: Partial<ReplicaFacts> = {}): ReplicaFacts {
  return { id, label: id, state: 'connected', everConnected: true, remediating: false, ...overrides };
}

function session(overrides: Partial<SessionFacts> = {}): SessionFacts {
  return {
    sessionId: 's1',
    name: 'payments-vm',
    replicas: [replica('r1'), replica('r2'), replica('r3')],
    divergence: null,
    broadcasting: true,
    canCheckpoint: false,
    ...overrides,
  };
}

describe('tray state and words', { timeout: 5000 }, () => {
  it('is all-agree only when every replica is connected', () => {
    assert.equal(trayState([session()]), 'all-agree');
    assert.equal(trayState([session({ replicas: [replica('r1'), replica('r2', { state: 'connecting', everConnected: false })] })]), 'idle');
    assert.equal(trayState([]), 'idle');
  });

  it('follows the precedence remediating > divergence > replica lost > all agree > idle', () => {
    const divergence = { outliers: ['r3'], regions: 4, noMajority: false };
    const lost = replica('r2', { state: 'reconnecting' });
    assert.equal(trayState([session({ replicas: [replica('r1'), lost, replica('r3')] })]), 'replica-lost');
    assert.equal(trayState([session({ replicas: [replica('r1'), lost, replica('r3')], divergence })]), 'divergence');
    assert.equal(trayState([session({ replicas: [replica('r1'), lost, replica('r3', { remediating: true })], divergence })]), 'remediating');
    // Over sessions: the most urgent wins.
    assert.equal(trayState([session(), session({ sessionId: 's2', divergence })]), 'divergence');
    assert.deepEqual(TRAY_STATE_PRECEDENCE, ['remediating', 'divergence', 'replica-lost', 'all-agree', 'idle']);
  });

  it('a replica that never connected is not lost', () => {
    assert.equal(trayState([session({ replicas: [replica('r1'), replica('r2', { state: 'reconnecting', everConnected: false })] })]), 'idle');
  });

  it('says the state in words in the tooltip and the title, with labels escaped and clipped', () => {
    const summary = summarize([
      session({
        name: 'payments\u001b]0;pwned\u0007-vm',
        replicas: [replica('r1'), replica('r2'), replica('r3', { label: `kvm-${'x'.repeat(80)}` })],
        divergence: { outliers: ['r3'], regions: 4, noMajority: false },
      }),
    ]);
    assert.equal(summary.state, 'divergence');
    assert.ok(summary.title.startsWith('● 2 of 3 agree, kvm-x'), summary.title);
    assert.ok(summary.title.endsWith(' — RetroVisor'), summary.title);
    assert.ok(!summary.tooltip.includes('\u001b') && !summary.tooltip.includes('\u0007'), 'no control character');
    assert.match(summary.tooltip, /payments\\u001b/);
    assert.match(summary.tooltip, /… differs \(4 regions\)/);
    assert.equal(summarize([session()]).title, '✓ All 3 agree — payments-vm — RetroVisor');
    assert.equal(summarize([]).tooltip, 'RetroVisor — no session open');
  });

  it('draws a distinct icon per state and panel theme', () => {
    const icons = new Set(TRAY_STATE_PRECEDENCE.flatMap((state) => [stateIconSvg(state, 'light'), stateIconSvg(state, 'dark')]));
    assert.equal(icons.size, TRAY_STATE_PRECEDENCE.length * 2);
  });
});

function policyHarness(settings: NotificationSettings = { disabledKinds: [], doNotDisturb: false }) {
  const clock = new ManualClock(0);
  const shown: DesktopNotification[] = [];
  let current = settings;
  const facts = session({ replicas: [replica('r1', { label: 'kvm-a' }), replica('r2', { label: 'kvm-b' }), replica('r3', { label: 'kvm-c' })] });
  const policy = new NotificationPolicy({
    clock,
    show: (notification) => shown.push(notification),
    settings: () => current,
    session: (id) => (id === 's1' ? facts : null),
  });
  return { clock, shown, policy, setSettings: (next: NotificationSettings) => (current = next) };
}

const lost: DesktopEvent = { type: 'replica-lost', sessionId: 's1', replicaId: 'r2' };
const back: DesktopEvent = { type: 'replica-back', sessionId: 's1', replicaId: 'r2' };

describe('notification policy', { timeout: 5000 }, () => {
  it('shows a divergence naming the outlier and its regions, focused on the outlier', () => {
    const { shown, policy } = policyHarness();
    policy.offer({ type: 'divergence', sessionId: 's1', outliers: ['r3'], regions: 2, noMajority: false });
    assert.equal(shown.length, 1);
    assert.equal(shown[0]?.title, 'kvm-c differs in payments-vm');
    assert.match(shown[0]?.body ?? '', /2 regions/);
    assert.equal(shown[0]?.replicaId, 'r3');
  });

  it('groups a flapping replica into one notification and one summary per window', () => {
    const { clock, shown, policy } = policyHarness();
    for (let index = 0; index < 25; index += 1) {
      policy.offer(lost);
      policy.offer(back);
      clock.advance(1000);
    }
    assert.equal(shown.length, 1, 'only the first shows at once');
    assert.equal(shown[0]?.title, 'kvm-b lost in payments-vm');
    clock.advance(GROUP_WINDOW_MS);
    assert.equal(shown.length, 2);
    assert.equal(shown[1]?.title, 'kvm-b lost and back 24 times in 2 min (payments-vm)');
    assert.match(shown[1]?.body ?? '', /connected now/);
    // A quiet window after the summary shows nothing more.
    clock.advance(GROUP_WINDOW_MS);
    assert.equal(shown.length, 2);
    // Later, a new loss shows at once again.
    policy.offer(lost);
    assert.equal(shown.length, 3);
  });

  it('limits notifications over groups and folds the overflow into one', () => {
    const { clock, shown, policy } = policyHarness();
    for (let index = 0; index < 8; index += 1) policy.offer({ type: 'host-key-changed', sessionId: 's1', l0: `l0-${index}` });
    assert.equal(shown.length, 5);
    clock.advance(RATE_WINDOW_MS);
    assert.equal(shown.length, 6);
    assert.equal(shown[5]?.title, '3 more RetroVisor events');
  });

  it('shows nothing of a kind turned off, nor during do-not-disturb', () => {
    const { clock, shown, policy, setSettings } = policyHarness({ disabledKinds: ['replica'], doNotDisturb: false });
    policy.offer(lost);
    assert.equal(shown.length, 0);
    setSettings({ disabledKinds: [], doNotDisturb: true });
    policy.offer({ type: 'resolved', sessionId: 's1' });
    clock.advance(GROUP_WINDOW_MS * 2);
    assert.equal(shown.length, 0);
    setSettings({ disabledKinds: [], doNotDisturb: false });
    policy.offer({ type: 'resolved', sessionId: 's1' });
    assert.equal(shown.length, 1);
  });

  it('names remediation and host key events by label and L0 only', () => {
    const { shown, policy } = policyHarness();
    policy.offer({ type: 'remediation', sessionId: 's1', replicaId: 'r1', action: 'revert-replay', status: 'failed' });
    policy.offer({ type: 'host-key-changed', sessionId: 's1', l0: 'l0-a' });
    assert.equal(shown[0]?.title, 'Remediation of kvm-a failed in payments-vm');
    assert.equal(shown[1]?.title, 'Host key of l0-a changed');
  });
});
