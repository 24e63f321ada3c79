// What the desktop says about running sessions while nobody looks at the window: the tray's state
// (with precedence), its tooltip and the page title, the state icon as SVG (tray PNGs and the browser
// favicon are drawn from it), and the notification policy (kinds, grouping, rate limit, do not
// disturb). Pure: the clock is passed in; only labels, ids and counts ever reach a text.

import type { ReplicaStateName } from './replica-state';
import { clipText, escapeControl } from './terminal-text';

/** The tray's states, most urgent first: a session's state is the first that applies. */
export type TrayState = 'remediating' | 'divergence' | 'replica-lost' | 'all-agree' | 'idle';

/** Every TrayState in precedence order (the tray shows the most urgent over all sessions). */
export const TRAY_STATE_PRECEDENCE: readonly TrayState[] = ['remediating', 'divergence', 'replica-lost', 'all-agree', 'idle'];

/** One replica as the desktop status knows it. */
export interface ReplicaFacts {
  readonly id: string;
  readonly label: string;
  readonly state: ReplicaStateName;
  /** Has been connected in this session (a replica that never connected is not "lost"). */
  readonly everConnected: boolean;
  /** The remediation manager is working on it. */
  readonly remediating: boolean;
}

/** A confirmed divergence as the desktop status knows it. */
export interface DivergenceFacts {
  readonly outliers: readonly string[];
  readonly regions: number;
  readonly noMajority: boolean;
}

/** What the desktop status knows of one open session. */
export interface SessionFacts {
  readonly sessionId: string;
  /** The profile's name. */
  readonly name: string;
  readonly replicas: readonly ReplicaFacts[];
  readonly divergence: DivergenceFacts | null;
  /** Input broadcast is on (as the UI last reported; true until it says otherwise). */
  readonly broadcasting: boolean;
  /** The session has a remediation manager that can act (checkpoints possible). */
  readonly canCheckpoint: boolean;
}

/** Everything the tray, the title and the favicon show. */
export interface DesktopSummary {
  readonly state: TrayState;
  /** One line: "RetroVisor — payments-vm: 2 of 3 agree, r3 differs". */
  readonly tooltip: string;
  /** The page / window title: "● 2 of 3 agree — payments-vm — RetroVisor". */
  readonly title: string;
  readonly sessions: readonly SessionFacts[];
}

/** Longest label or profile name a tray, title or notification text carries. */
export const MAX_LABEL_CHARS = 40;

/** A label or name from a profile or a server, safe to show: control characters escaped, clipped. */
export function safeLabel(text: string, maxChars = MAX_LABEL_CHARS): string {
  return clipText(escapeControl(text), maxChars);
}

/** Replica states that count as "lost" once the replica has been connected. */
const LOST_STATES: ReadonlySet<ReplicaStateName> = new Set(['disconnected', 'reconnecting', 'auth-failed', 'needs-password']);

/** Whether a replica counts as lost: it was connected and is not now (closing the session is not losing it). */
export function isLost(replica: ReplicaFacts): boolean {
  return replica.everConnected && LOST_STATES.has(replica.state);
}

/** The tray state of one session. */
export function sessionTrayState(session: SessionFacts): TrayState {
  if (session.replicas.some((replica) => replica.remediating)) return 'remediating';
  if (session.divergence !== null) return 'divergence';
  if (session.replicas.some(isLost)) return 'replica-lost';
  const connected = session.replicas.filter((replica) => replica.state === 'connected').length;
  if (connected === session.replicas.length && connected >= 2) return 'all-agree';
  return 'idle';
}

/** The most urgent state over every session (idle without one). */
export function trayState(sessions: readonly SessionFacts[]): TrayState {
  const states = new Set(sessions.map(sessionTrayState));
  return TRAY_STATE_PRECEDENCE.find((state) => states.has(state)) ?? 'idle';
}

function labelOf(session: SessionFacts, replicaId: string): string {
  return safeLabel(session.replicas.find((replica) => replica.id === replicaId)?.label ?? replicaId);
}

function listLabels(session: SessionFacts, ids: readonly string[]): string {
  const labels = ids.slice(0, 3).map((id) => labelOf(session, id));
  return ids.length > 3 ? `${labels.join(', ')} and ${ids.length - 3} more` : labels.join(', ');
}

/** One session's state in words: "2 of 3 agree, r3 differs (4 regions)". */
export function describeSession(session: SessionFacts): string {
  const total = session.replicas.length;
  const connected = session.replicas.filter((replica) => replica.state === 'connected').length;
  switch (sessionTrayState(session)) {
    case 'remediating':
      return `remediating ${listLabels(
        session,
        session.replicas.filter((replica) => replica.remediating).map((replica) => replica.id),
      )}`;
    case 'divergence': {
      const divergence = session.divergence as DivergenceFacts;
      const regions = `${divergence.regions} ${divergence.regions === 1 ? 'region' : 'regions'}`;
      if (divergence.noMajority) return `no majority: the replicas disagree (${regions})`;
      const agreeing = Math.max(0, connected - divergence.outliers.length);
      const verb = divergence.outliers.length === 1 ? 'differs' : 'differ';
      return `${agreeing} of ${total} agree, ${listLabels(session, divergence.outliers)} ${verb} (${regions})`;
    }
    case 'replica-lost': {
      const lost = session.replicas.filter(isLost).map((replica) => replica.id);
      return `${listLabels(session, lost)} lost, ${connected} of ${total} connected`;
    }
    case 'all-agree':
      return `all ${total} agree`;
    case 'idle':
      return connected === 0 ? 'not connected' : `${connected} of ${total} connected`;
  }
}

/** Words for each state, as the tray menu and the docs name them. */
export const TRAY_STATE_WORDS: Readonly<Record<TrayState, string>> = {
  remediating: 'remediating',
  divergence: 'divergence',
  'replica-lost': 'replica lost',
  'all-agree': 'all agree',
  idle: 'idle',
};

/** The tray's tooltip, the title and the state, from every open session's facts. */
export function summarize(sessions: readonly SessionFacts[]): DesktopSummary {
  const state = trayState(sessions);
  // The session the state comes from leads the text; the others are counted.
  const lead = sessions.find((session) => sessionTrayState(session) === state);
  if (lead === undefined) return { state, tooltip: 'RetroVisor — no session open', title: 'RetroVisor', sessions };
  const name = safeLabel(lead.name);
  const words = describeSession(lead);
  const others = sessions.length > 1 ? ` (+${sessions.length - 1} more ${sessions.length === 2 ? 'session' : 'sessions'})` : '';
  const capitalized = `${words.charAt(0).toUpperCase()}${words.slice(1)}`;
  return { state, tooltip: `RetroVisor — ${name}: ${words}${others}`, title: `${TITLE_MARK[state]} ${capitalized} — ${name} — RetroVisor`, sessions };
}

/** The mark before the title's words (a tab strip shows little else). */
const TITLE_MARK: Readonly<Record<TrayState, string>> = { remediating: '◐', divergence: '●', 'replica-lost': '▲', 'all-agree': '✓', idle: '○' };

// ---------------------------------------------------------------------------------------------
// The state icon: a rounded eye-like mark in the state's colour with a shape that also tells the
// state apart without colour (check, cross, half, triangle, ring). Outlines follow the panel.

/** The tray's colours per state (the favicon uses the same). */
export const TRAY_STATE_COLOURS: Readonly<Record<TrayState, string>> = {
  'all-agree': '#2e9e5b',
  divergence: '#d93c3c',
  remediating: '#2f7fd8',
  'replica-lost': '#e0a100',
  idle: '#8a8f98',
};

/** Sizes the Linux trays ask for (px). */
export const TRAY_ICON_SIZES: readonly number[] = [16, 22, 24, 32, 48];

/** The panel behind the icon: a light panel wants a dark outline, a dark panel a light one. */
export type PanelTheme = 'light' | 'dark';

/** The state icon as an SVG document (viewBox 32×32: crisp from 16 to 48 px). */
export function stateIconSvg(state: TrayState, theme: PanelTheme): string {
  const fill = TRAY_STATE_COLOURS[state];
  const outline = theme === 'light' ? '#1d2026' : '#f4f5f7';
  const mark = '#ffffff';
  const glyph: Record<TrayState, string> = {
    'all-agree': `<path d="M9.5 16.5l4.5 4.5 8.5-9" fill="none" stroke="${mark}" stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round"/>`,
    divergence: `<path d="M11 11l10 10M21 11l-10 10" stroke="${mark}" stroke-width="3.2" stroke-linecap="round"/>`,
    remediating: `<path d="M16 8a8 8 0 0 1 0 16z" fill="${mark}"/>`,
    'replica-lost': `<path d="M16 8.5l7.5 13h-15z" fill="${mark}"/>`,
    idle: `<circle cx="16" cy="16" r="5" fill="none" stroke="${mark}" stroke-width="3"/>`,
  };
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">` +
    `<circle cx="16" cy="16" r="14" fill="${fill}" stroke="${outline}" stroke-width="2"/>${glyph[state]}</svg>`
  );
}

/** The state icon as a data: URL (the browser shell's favicon). */
export function stateIconDataUrl(state: TrayState, theme: PanelTheme = 'light'): string {
  return `data:image/svg+xml,${encodeURIComponent(stateIconSvg(state, theme))}`;
}

// ---------------------------------------------------------------------------------------------
// Notifications.

/** What can be notified; each can be turned off in the settings. */
export type NotificationKind = 'divergence' | 'resolved' | 'remediation' | 'replica' | 'host-key';

/** Every NotificationKind, in the order the settings list them. */
export const NOTIFICATION_KINDS: readonly NotificationKind[] = ['divergence', 'resolved', 'remediation', 'replica', 'host-key'];

/** Something that happened in a session, as the desktop status derives it from the back end's reports. */
export type DesktopEvent =
  | { readonly type: 'divergence'; readonly sessionId: string; readonly outliers: readonly string[]; readonly regions: number; readonly noMajority: boolean }
  | { readonly type: 'resolved'; readonly sessionId: string }
  | {
      readonly type: 'remediation';
      readonly sessionId: string;
      readonly replicaId: string;
      readonly action: string;
      readonly status: 'started' | 'succeeded' | 'failed';
    }
  | { readonly type: 'replica-lost' | 'replica-back'; readonly sessionId: string; readonly replicaId: string }
  | { readonly type: 'host-key-changed'; readonly sessionId: string; readonly l0: string };

/** The notification settings (stored with the preferences). */
export interface NotificationSettings {
  /** Kinds the user turned off. */
  readonly disabledKinds: readonly NotificationKind[];
  /** Nothing is shown while on. */
  readonly doNotDisturb: boolean;
}

/** A user who never chose anything gets every kind. */
export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = { disabledKinds: [], doNotDisturb: false };

/** A notification to show. */
export interface DesktopNotification {
  readonly kind: NotificationKind;
  readonly title: string;
  readonly body: string;
  readonly sessionId: string;
  /** The replica a click focuses in the timeline, when the event is about one. */
  readonly replicaId: string | null;
  /** Notifications of one group replace each other where the platform can (Web Notification tag). */
  readonly tag: string;
}

/** A window in which a group (same session, replica and kind) shows one notification; the rest are summarised at its end. */
export const GROUP_WINDOW_MS = 120_000;
/** Most notifications shown in any RATE_WINDOW_MS; the rest are folded into one "N more" notification. */
export const MAX_NOTIFICATIONS_PER_RATE_WINDOW = 5;
export const RATE_WINDOW_MS = 60_000;

/** The timers a policy needs (tests pass a fake clock). */
export interface PolicyClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What the policy needs besides the clock. */
export interface NotificationPolicyOptions {
  readonly clock: PolicyClock;
  readonly show: (notification: DesktopNotification) => void;
  readonly settings: () => NotificationSettings;
  /** The session's facts now (labels, name); null once it is closed. */
  readonly session: (sessionId: string) => SessionFacts | null;
  readonly groupWindowMs?: number;
  readonly maxPerRateWindow?: number;
  readonly rateWindowMs?: number;
}

/** The kind (setting) of an event. */
export function kindOf(event: DesktopEvent): NotificationKind {
  switch (event.type) {
    case 'divergence':
      return 'divergence';
    case 'resolved':
      return 'resolved';
    case 'remediation':
      return 'remediation';
    case 'replica-lost':
    case 'replica-back':
      return 'replica';
    case 'host-key-changed':
      return 'host-key';
  }
}

/** The group an event belongs to: a divergence and its resolution share one, a replica's lost and back share one. */
function groupOf(event: DesktopEvent): string {
  switch (event.type) {
    case 'divergence':
    case 'resolved':
      return `${event.sessionId}|divergence`;
    case 'remediation':
      return `${event.sessionId}|remediation|${event.replicaId}`;
    case 'replica-lost':
    case 'replica-back':
      return `${event.sessionId}|replica|${event.replicaId}`;
    case 'host-key-changed':
      return `${event.sessionId}|host-key|${event.l0}`;
  }
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function nameOf(session: SessionFacts | null, sessionId: string): string {
  return safeLabel(session?.name ?? sessionId);
}

function replicaLabel(session: SessionFacts | null, replicaId: string): string {
  return safeLabel(session?.replicas.find((replica) => replica.id === replicaId)?.label ?? replicaId);
}

/** The notification one event gives on its own (docs/desktop.md lists them). */
export function notificationOf(event: DesktopEvent, session: SessionFacts | null): DesktopNotification {
  const name = nameOf(session, event.sessionId);
  const tag = `retrovisor:${groupOf(event)}`;
  const kind = kindOf(event);
  switch (event.type) {
    case 'divergence': {
      const labels = event.outliers.map((id) => replicaLabel(session, id));
      const shown = labels.length > 3 ? `${labels.slice(0, 3).join(', ')} and ${labels.length - 3} more` : labels.join(', ');
      const title = event.noMajority ? `No majority in ${name}` : `${shown} ${labels.length === 1 ? 'differs' : 'differ'} in ${name}`;
      const body = event.noMajority
        ? `The replicas disagree in ${plural(event.regions, 'region')}: no majority to follow.`
        : `Divergence confirmed: ${plural(event.regions, 'region')}. Click to see it in the timeline.`;
      return { kind, title, body, sessionId: event.sessionId, replicaId: event.outliers[0] ?? null, tag };
    }
    case 'resolved':
      return { kind, title: `Replicas agree again in ${name}`, body: 'The divergence is resolved: every connected replica shows the same screen.', sessionId: event.sessionId, replicaId: null, tag };
    case 'remediation': {
      const label = replicaLabel(session, event.replicaId);
      const action = safeLabel(event.action, 24);
      const title =
        event.status === 'started' ? `Remediating ${label} in ${name}` : event.status === 'succeeded' ? `${label} remediated in ${name}` : `Remediation of ${label} failed in ${name}`;
      const body =
        event.status === 'started'
          ? `${action} started.`
          : event.status === 'succeeded'
            ? `${action} succeeded: ${label} agrees again.`
            : `${action} failed. Open the remediation panel for the audit log.`;
      return { kind, title, body, sessionId: event.sessionId, replicaId: event.replicaId, tag };
    }
    case 'replica-lost': {
      const label = replicaLabel(session, event.replicaId);
      return { kind, title: `${label} lost in ${name}`, body: `The connection to ${label} ended; RetroVisor keeps reconnecting.`, sessionId: event.sessionId, replicaId: event.replicaId, tag };
    }
    case 'replica-back': {
      const label = replicaLabel(session, event.replicaId);
      return { kind, title: `${label} back in ${name}`, body: `${label} is connected again and compared with the others.`, sessionId: event.sessionId, replicaId: event.replicaId, tag };
    }
    case 'host-key-changed': {
      const l0 = safeLabel(event.l0);
      return {
        kind,
        title: `Host key of ${l0} changed`,
        body: `${name}: RetroVisor refuses to connect to ${l0} until the profile's hostKey is checked and updated.`,
        sessionId: event.sessionId,
        replicaId: null,
        tag,
      };
    }
  }
}

/** The one notification that stands for the events a group held back during its window. */
export function summaryOf(held: readonly DesktopEvent[], session: SessionFacts | null, windowMs: number): DesktopNotification {
  const first = held[0] as DesktopEvent;
  const last = held[held.length - 1] as DesktopEvent;
  const name = nameOf(session, first.sessionId);
  const minutes = `${Math.max(1, Math.round(windowMs / 60_000))} min`;
  const base = notificationOf(last, session);
  switch (first.type) {
    case 'replica-lost':
    case 'replica-back': {
      const label = replicaLabel(session, first.replicaId);
      const lost = held.filter((event) => event.type === 'replica-lost').length;
      const now = last.type === 'replica-lost' ? 'lost now' : 'connected now';
      return { ...base, title: `${label} lost and back ${plural(Math.max(lost, 1), 'time')} in ${minutes} (${name})`, body: `The connection to ${label} keeps dropping; ${now}.` };
    }
    case 'divergence':
    case 'resolved': {
      const count = held.filter((event) => event.type === 'divergence').length;
      const now = last.type === 'resolved' ? 'the replicas agree now' : 'still diverged';
      return { ...base, title: `${plural(count, 'divergence')} in ${minutes} in ${name}`, body: `Divergences keep coming and going; ${now}.` };
    }
    case 'remediation': {
      const label = replicaLabel(session, first.replicaId);
      const started = held.filter((event) => event.type === 'remediation' && event.status === 'started').length;
      return { ...base, title: `${label}: ${plural(held.length, 'remediation event')} in ${minutes} (${name})`, body: `${plural(started, 'remediation')} started; the last one ${last.type === 'remediation' ? last.status : 'ended'}.` };
    }
    case 'host-key-changed':
      return base;
  }
}

interface Group {
  readonly held: DesktopEvent[];
  timer: unknown;
}

/**
 * Decides what to show: an event of a kind the user turned off, or during do-not-disturb, shows
 * nothing; the first event of a group shows at once, later ones in its window are held and shown as
 * one summary when the window ends (a flapping replica gives one notification per window, not
 * fifty); over every group, at most `maxPerRateWindow` show per rate window, the rest fold into one.
 */
export class NotificationPolicy {
  private readonly groups = new Map<string, Group>();
  private shownAtMs: number[] = [];
  private overflow: DesktopNotification[] = [];
  private overflowTimer: unknown = null;
  private readonly groupWindowMs: number;
  private readonly maxPerRateWindow: number;
  private readonly rateWindowMs: number;

  constructor(private readonly options: NotificationPolicyOptions) {
    this.groupWindowMs = options.groupWindowMs ?? GROUP_WINDOW_MS;
    this.maxPerRateWindow = options.maxPerRateWindow ?? MAX_NOTIFICATIONS_PER_RATE_WINDOW;
    this.rateWindowMs = options.rateWindowMs ?? RATE_WINDOW_MS;
  }

  /** Takes one event. */
  offer(event: DesktopEvent): void {
    const settings = this.options.settings();
    if (settings.doNotDisturb || settings.disabledKinds.includes(kindOf(event))) return;
    const key = groupOf(event);
    const group = this.groups.get(key);
    if (group !== undefined) {
      group.held.push(event);
      return;
    }
    this.openWindow(key);
    this.emit(notificationOf(event, this.options.session(event.sessionId)));
  }

  /** Stops every timer (the shell is closing); nothing held is shown. */
  dispose(): void {
    for (const group of this.groups.values()) this.options.clock.clearTimeout(group.timer);
    this.groups.clear();
    if (this.overflowTimer !== null) this.options.clock.clearTimeout(this.overflowTimer);
    this.overflowTimer = null;
    this.overflow = [];
  }

  private openWindow(key: string): void {
    const group: Group = { held: [], timer: null };
    group.timer = this.options.clock.setTimeout(() => this.closeWindow(key, group), this.groupWindowMs);
    this.groups.set(key, group);
  }

  /** The window ended: what it held shows as one summary, which opens the next window (flapping goes on being summarised). */
  private closeWindow(key: string, group: Group): void {
    this.groups.delete(key);
    if (group.held.length === 0) return;
    const settings = this.options.settings();
    if (settings.doNotDisturb) return;
    const first = group.held[0] as DesktopEvent;
    this.openWindow(key);
    this.emit(group.held.length === 1 ? notificationOf(first, this.options.session(first.sessionId)) : summaryOf(group.held, this.options.session(first.sessionId), this.groupWindowMs));
  }

  private emit(notification: DesktopNotification): void {
    const now = this.options.clock.now();
    this.shownAtMs = this.shownAtMs.filter((at) => at > now - this.rateWindowMs);
    if (this.shownAtMs.length < this.maxPerRateWindow && this.overflow.length === 0) {
      this.shownAtMs.push(now);
      this.options.show(notification);
      return;
    }
    this.overflow.push(notification);
    if (this.overflowTimer === null) {
      const oldest = this.shownAtMs[0] ?? now;
      this.overflowTimer = this.options.clock.setTimeout(() => this.flushOverflow(), Math.max(0, oldest + this.rateWindowMs - now));
    }
  }

  /** The rate window has room again: what overflowed shows as one notification (or itself, when alone). */
  private flushOverflow(): void {
    this.overflowTimer = null;
    const held = this.overflow;
    this.overflow = [];
    if (held.length === 0 || this.options.settings().doNotDisturb) return;
    this.shownAtMs.push(this.options.clock.now());
    const first = held[0] as DesktopNotification;
    if (held.length === 1) {
      this.options.show(first);
      return;
    }
    this.options.show({
      kind: first.kind,
      title: `${held.length} more RetroVisor events`,
      body: `Latest: ${(held[held.length - 1] as DesktopNotification).title}. Open RetroVisor to see them all.`,
      sessionId: first.sessionId,
      replicaId: first.replicaId,
      tag: 'retrovisor:overflow',
    });
  }
}
