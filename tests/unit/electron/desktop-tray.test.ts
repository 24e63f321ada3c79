// The Electron shell's tray and notifications through their adapters, with Electron's Tray, Menu and
// Notification replaced by fakes, over a real back end and the built-in demo lab: the icon follows
// every state change of the session, the menu's actions reach the back end, notifications are grouped
// and rate-limited, and a click asks the UI to focus the right replica. No Electron needed.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DesktopRequest, OpenResult, SessionInfo } from '../../../common/contract';
import type { DesktopSummary, TrayState } from '../../../common/desktop-status';
import { createBackend, type Backend } from '../../../main/backend';
import { createLogger } from '../../../main/logger';
import { DesktopNotifier, type NotificationLike, type NotificationOptionsLike } from '../../../electron/notifications';
import { DesktopTray, trayActionsFor, recentProfilesOf, type TrayLike, type TrayMenuItem } from '../../../electron/tray';
import { ManualClock } from '../support/fake-clocks';
import { MemorySecretStore } from '../support/memory-secret-store';
import { FakeUi } from '../main/remediation/manager-fakes';

const logger = createLogger({ sink: () => undefined, level: 'debug' });
let folder = '';
const backends: Backend[] = [];

before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'retrovisor-tray-'));
});

after(async () => {
  await Promise.all(backends.map((backend) => backend.close()));
  await rm(folder, { recursive: true, force: true });
});

function newBackend(): Backend {
  const backend = createBackend({
    shell: 'electron',
    headless: false,
    version: '9.9.9',
    logger,
    dataDirectory: folder,
    secretStore: new MemorySecretStore(),
    demoLab: { size: { width: 320, height: 240 }, cursorBlinkMs: 0, password: 'demo-secret-pw' },
  });
  backends.push(backend);
  return backend;
}

function opened(result: OpenResult): SessionInfo {
  assert.ok(result.ok, JSON.stringify(result));
  return result.session;
}

/** Electron's Tray as the adapter uses it, recording what it was told. */
class FakeTray implements TrayLike {
  static last: FakeTray | null = null;
  readonly images: string[] = [];
  tooltip = '';
  menu: TrayMenuItem[] = [];
  clicked: (() => void) | null = null;
  destroyed = false;

  constructor(image: string) {
    this.images.push(image);
    FakeTray.last = this;
  }

  setImage(image: never): void {
    this.images.push(image);
  }

  setToolTip(text: string): void {
    this.tooltip = text;
  }

  setContextMenu(menu: never): void {
    this.menu = menu as TrayMenuItem[];
  }

  on(_event: 'click', listener: () => void): this {
    this.clicked = listener;
    return this;
  }

  destroy(): void {
    this.destroyed = true;
  }
}

const fakeMenu = { buildFromTemplate: (template: TrayMenuItem[]): TrayMenuItem[] => template };

/** Electron's Notification as the adapter uses it. */
class FakeNotification implements NotificationLike {
  static shown: FakeNotification[] = [];
  private readonly listeners = new Map<string, () => void>();

  constructor(readonly options: NotificationOptionsLike) {}

  show(): void {
    FakeNotification.shown.push(this);
  }

  on(event: 'click' | 'close', listener: () => void): this {
    this.listeners.set(event, listener);
    return this;
  }

  click(): void {
    this.listeners.get('click')?.();
  }
}

function item(menu: readonly TrayMenuItem[], label: string | RegExp): TrayMenuItem {
  const found = menu.find((entry) => (typeof label === 'string' ? entry.label === label : label.test(entry.label ?? '')));
  assert.ok(found, `menu item ${String(label)} in ${JSON.stringify(menu.map((entry) => entry.label))}`);
  return found;
}

/** Resolves once the desktop status reaches `state` (now or later). */
function stateReached(backend: Backend, state: TrayState): Promise<DesktopSummary> {
  if (backend.desktop.summary().state === state) return Promise.resolve(backend.desktop.summary());
  return new Promise((resolve) => {
    const stop = backend.desktop.onChange((summary) => {
      if (summary.state !== state) return;
      stop();
      resolve(summary);
    });
  });
}

describe('the tray over a demo lab session', { timeout: 60_000 }, () => {
  it('follows every state change, says it in the tooltip, and its menu reaches the back end', async () => {
    const backend = newBackend();
    const requests: DesktopRequest[] = [];
    backend.onEvent('desktopRequest', (request) => requests.push(request));
    const window = { shown: 0, quit: 0 };
    const actions = trayActionsFor(backend, { showWindow: () => (window.shown += 1), quit: () => (window.quit += 1) });
    const tray = new DesktopTray<string, TrayMenuItem[]>({
      Tray: FakeTray,
      Menu: fakeMenu,
      icon: (state) => `icon:${state}`,
      status: backend.desktop,
      actions,
      recentProfiles: () => recentProfilesOf(backend),
      onError: (what, error) => assert.fail(`${what}: ${String(error)}`),
    });
    const fake = FakeTray.last as FakeTray;
    assert.deepEqual(fake.images, ['icon:idle']);
    assert.equal(fake.tooltip, 'RetroVisor — no session open');

    const session = opened(await backend.handlers.startDemoLab({}));
    const sessionId = session.sessionId;
    const ui = new FakeUi();
    ui.sink = (answer) => void backend.handlers.answerManagerCommand(answer);
    backend.onEvent('managerCommand', (event) => ui.receive(event));
    for (const replica of session.replicas) await backend.handlers.reportReplicaState({ sessionId, replicaId: replica.id, state: 'connecting' });
    assert.equal(tray.state, 'idle');
    for (const replica of session.replicas) await backend.handlers.reportReplicaState({ sessionId, replicaId: replica.id, state: 'connected', width: 320, height: 240 });
    assert.equal(tray.state, 'all-agree');
    assert.match(fake.tooltip, /: all 3 agree$/);

    await backend.handlers.reportDivergence({
      sessionId,
      kind: 'divergence',
      divergenceId: 'd1',
      change: 'new',
      divergenceKind: 'pixels',
      outliers: ['r2'],
      agreeing: ['r1', 'r3'],
      regions: [{ x: 0, y: 0, width: 16, height: 16 }],
      noMajority: false,
    });
    assert.equal(tray.state, 'divergence');
    assert.match(fake.tooltip, /2 of 3 agree, .* differs \(1 region\)/);
    item(fake.menu, /— differs$/);

    // A manual reset of r2 on the simulated L0: remediating until it agrees again.
    const remediated = stateReached(backend, 'remediating');
    await backend.handlers.replicaAction({ sessionId, replicaId: 'r2', action: 'reset' });
    await remediated;
    await stateReached(backend, 'divergence');
    await backend.handlers.reportDivergence({ sessionId, kind: 'consensus', outliers: [], agreeing: ['r1', 'r2', 'r3'], regions: [], noMajority: false });
    assert.equal(tray.state, 'all-agree');

    await backend.handlers.reportReplicaState({ sessionId, replicaId: 'r3', state: 'reconnecting', reason: 'connection reset' });
    assert.equal(tray.state, 'replica-lost');
    assert.match(fake.tooltip, /lost, 2 of 3 connected/);
    await backend.handlers.reportReplicaState({ sessionId, replicaId: 'r3', state: 'connected', width: 320, height: 240 });
    assert.equal(tray.state, 'all-agree');

    // The menu: a replica focuses its timeline entry, pause broadcast goes to the UI, the tray shows the state reported back.
    item(fake.menu, /^ +.* — connected$/).click?.();
    item(fake.menu, 'Pause broadcast').click?.();
    await backend.handlers.reportBroadcast({ sessionId, enabled: false });
    item(fake.menu, 'Resume broadcast');
    assert.deepEqual(requests, [
      { type: 'focus-replica', sessionId, replicaId: 'r1' },
      { type: 'set-broadcast', sessionId, enabled: false },
    ]);
    assert.equal(window.shown, 1);
    // The demo lab has a simulated L0: a checkpoint can be taken from the tray, and is.
    const view = await backend.handlers.getRemediationState({ sessionId });
    assert.equal(view.canAct, true);
    const taken = new Promise<void>((resolve) => {
      const stop = backend.onManagerEvent((event) => {
        if (event.type === 'checkpoint' && event.status !== 'started') {
          stop();
          resolve();
        }
      });
    });
    item(fake.menu, 'Take checkpoint').click?.();
    await taken;
    item(fake.menu, 'Quit RetroVisor').click?.();
    assert.equal(window.quit, 1);
    fake.clicked?.();
    assert.equal(window.shown, 2);

    await backend.handlers.closeSession({ sessionId });
    assert.equal(tray.state, 'idle');
    assert.deepEqual(fake.images, ['icon:idle', 'icon:all-agree', 'icon:divergence', 'icon:remediating', 'icon:divergence', 'icon:all-agree', 'icon:replica-lost', 'icon:all-agree', 'icon:idle']);
    tray.dispose();
    assert.equal(fake.destroyed, true);
  });
});

describe('notifications over a demo lab session', { timeout: 60_000 }, () => {
  it('groups a flapping replica, limits the rate, and a click focuses the replica', async () => {
    const backend = newBackend();
    const requests: DesktopRequest[] = [];
    backend.onEvent('desktopRequest', (request) => requests.push(request));
    const clock = new ManualClock(0);
    FakeNotification.shown = [];
    const actions = trayActionsFor(backend, { showWindow: () => undefined, quit: () => undefined });
    const notifier = new DesktopNotifier({
      Notification: FakeNotification,
      isSupported: () => true,
      status: backend.desktop,
      settings: () => backend.preferences.latest().notifications,
      clock,
      onClick: (notification) => actions.focusReplica(notification.sessionId, notification.replicaId),
    });
    const session = opened(await backend.handlers.startDemoLab({}));
    const sessionId = session.sessionId;
    for (const replica of session.replicas) await backend.handlers.reportReplicaState({ sessionId, replicaId: replica.id, state: 'connected', width: 320, height: 240 });
    assert.equal(FakeNotification.shown.length, 0, 'connecting is not news');

    for (let round = 0; round < 50; round += 1) {
      await backend.handlers.reportReplicaState({ sessionId, replicaId: 'r2', state: 'reconnecting', reason: 'connection reset' });
      await backend.handlers.reportReplicaState({ sessionId, replicaId: 'r2', state: 'connected', width: 320, height: 240 });
      clock.advance(1000);
    }
    assert.equal(FakeNotification.shown.length, 1, 'fifty drops: one notification');
    const label = session.replicas.find((replica) => replica.id === 'r2')?.label ?? 'r2';
    assert.equal(FakeNotification.shown[0]?.options.title, `${label} lost in ${session.name}`);
    clock.advance(120_000);
    assert.equal(FakeNotification.shown.length, 2, 'and one summary');
    assert.match(FakeNotification.shown[1]?.options.title ?? '', new RegExp(`^${label} lost and back 49 times in 2 min`));

    await backend.handlers.reportDivergence({
      sessionId,
      kind: 'divergence',
      divergenceId: 'd1',
      change: 'new',
      outliers: ['r3'],
      agreeing: ['r1', 'r2'],
      regions: [{ x: 0, y: 0, width: 8, height: 8 }, { x: 20, y: 20, width: 8, height: 8 }],
      noMajority: false,
    });
    const divergence = FakeNotification.shown[2];
    assert.ok(divergence);
    assert.match(divergence.options.body, /2 regions/);
    divergence.click();
    assert.deepEqual(requests.at(-1), { type: 'focus-replica', sessionId, replicaId: 'r3' });

    // No secret of the demo lab (its VNC passwords) in any notification.
    const answers = await Promise.all(session.replicas.map((replica) => backend.handlers.getReplicaPassword({ sessionId, replicaId: replica.id })));
    const passwords = answers.map((answer) => answer.password).filter((password): password is string => typeof password === 'string' && password !== '');
    assert.ok(passwords.length > 0, 'the demo lab has VNC passwords');
    for (const shown of FakeNotification.shown) {
      for (const password of passwords) assert.ok(!`${shown.options.title} ${shown.options.body}`.includes(password));
    }

    // Do not disturb: nothing more shows.
    await backend.handlers.setDesktopPreferences({ notifications: { disabledKinds: [], doNotDisturb: true } });
    await backend.handlers.reportDivergence({ sessionId, kind: 'consensus', outliers: [], agreeing: ['r1', 'r2', 'r3'], regions: [], noMajority: false });
    clock.advance(600_000);
    assert.equal(FakeNotification.shown.length, 3);
    notifier.dispose();
  });
});
