// The UI's store (zustand 5, typed slices): what the screens show, never hot data (RFB objects and
// canvases live in the controllers). Reducers are plain functions of the state, tested in Node.

import { useStore } from 'zustand';
import { createStore, type StateCreator } from 'zustand/vanilla';
import type { DemoStatus, KeyringStatus, Notice, ProfileListing, RemediationView, ReplicaSummary, SessionInfo, StartupInfo, UserPreferences } from '../common/contract';
import type { Divergence, DivergenceState } from '../common/divergence';
import { DEFAULT_KEY_REPEAT_MODE, type KeyRepeatMode } from '../common/input/key-repeat';
import type { ProfileProblem } from '../common/profile';
import type { ReplicaState, ReplicaStateName } from '../common/replica-state';
import type { TimelineEntry } from './divergence/timeline';

/** How the composite is shown: scaled to the window, or one framebuffer pixel per screen pixel. */
export type ViewMode = 'fit' | '1:1';

/** What the UI shows of one replica. */
export interface ReplicaView {
  readonly id: string;
  readonly label: string;
  readonly endpoint: string;
  readonly tunnel: boolean;
  readonly hasPassword: boolean;
  readonly state: ReplicaState;
  /** The state's wire name (also the thumbnail's data-state attribute). */
  readonly stateName: ReplicaStateName;
  /** Last known desktop size (kept while reconnecting), null before the first connect. */
  readonly width: number | null;
  readonly height: number | null;
  /** Why the replica last failed; cleared when it connects. */
  readonly lastError: string | null;
}

/** A replica whose server waits for credentials the profile does not give. */
export interface PasswordPrompt {
  readonly replicaId: string;
  readonly label: string;
  readonly endpoint: string;
  readonly needsUsername: boolean;
  readonly message: string | null;
}

/** A toast: a back-end notice or something the UI itself wants read. */
export interface NoticeItem extends Notice {
  readonly id: number;
}

/** Who the back end is, and whether it is still there. */
export interface BackendSlice {
  readonly shell: StartupInfo['shell'] | null;
  readonly version: string | null;
  readonly headless: boolean;
  /** Set once the back end is gone: the whole UI is blocked by a banner. */
  readonly backendLost: string | null;
  readonly setStartup: (info: Pick<StartupInfo, 'shell' | 'version' | 'headless'>) => void;
  readonly setBackendLost: (reason: string) => void;
  /** What the back end remembers for the user (recent quick-connect sets, "don't ask again"); null until read. */
  readonly preferences: UserPreferences | null;
  readonly setPreferences: (preferences: UserPreferences) => void;
  /**
   * The browser shell's Web Notifications: 'unsupported' (no Notification API, or the Electron shell,
   * which notifies natively), 'off', 'on' (permission granted and the user wants them), 'denied'.
   */
  readonly webNotifications: 'unsupported' | 'off' | 'on' | 'denied';
  readonly setWebNotifications: (state: 'unsupported' | 'off' | 'on' | 'denied') => void;
}

/** The start screen: an open request in flight and the last profile problems. */
export interface StartSlice {
  /** An open request is on its way to the back end. */
  readonly opening: boolean;
  /** The problems of the last profile that failed to open, one per JSON path. */
  readonly problems: readonly ProfileProblem[];
  /** Which profile they belong to ("profile.json", "quick connect"). */
  readonly problemsSource: string | null;
  readonly setOpening: (opening: boolean) => void;
  readonly showProblems: (source: string, problems: readonly ProfileProblem[]) => void;
  readonly clearProblems: () => void;
}

/** The profile library on the start screen, and the profile editor when it is open. */
export interface LibrarySlice {
  /** The saved profiles as last listed (most recently opened first); null before the first answer. */
  readonly library: ProfileListing | null;
  /** Whether typed secrets can be saved (asked when the editor opens); null before the answer. */
  readonly keyring: KeyringStatus | null;
  /** The editor in place of the start screen's content: a saved profile's id, or null for a new one. */
  readonly editing: { readonly id: string | null } | null;
  readonly setLibrary: (library: ProfileListing) => void;
  readonly setKeyring: (keyring: KeyringStatus) => void;
  readonly setEditing: (editing: { readonly id: string | null } | null) => void;
}

/** The open session: its replicas as the UI shows them and the reference replica. */
export interface SessionSlice {
  readonly session: SessionInfo | null;
  /** Replica ids in profile order. */
  readonly replicaIds: readonly string[];
  readonly replicas: Readonly<Record<string, ReplicaView>>;
  /** The replica the composite shows. */
  readonly referenceId: string | null;
  /** The user chose the reference: it stays even while disconnected. */
  readonly referencePinned: boolean;
  readonly openSession: (session: SessionInfo) => void;
  readonly closeSession: () => void;
  readonly setReplicaState: (replicaId: string, state: ReplicaState) => void;
  /** The user's "make reference". */
  readonly chooseReference: (replicaId: string) => void;
}

/** How the composite is shown. */
export interface ViewSlice {
  readonly viewMode: ViewMode;
  readonly fullScreen: boolean;
  readonly setViewMode: (mode: ViewMode) => void;
  readonly setFullScreen: (fullScreen: boolean) => void;
}

/** Toasts. */
export interface NoticeSlice {
  readonly notices: readonly NoticeItem[];
  readonly pushNotice: (notice: Notice) => number;
  readonly dismissNotice: (id: number) => void;
}

/** Replicas waiting for the user to type a password. */
export interface PromptSlice {
  /** Waiting password prompts, oldest first; the dialog shows the first. */
  readonly passwordPrompts: readonly PasswordPrompt[];
  readonly requestPassword: (prompt: PasswordPrompt) => void;
  readonly withdrawPassword: (replicaId: string) => void;
}

/** A demo panel request on its way to the back end: which replica, and what (for the busy state). */
export interface DemoPending {
  readonly replicaId: string;
  readonly action: string;
}

/** The built-in demo lab, while the open session shows it (the demo panel). */
export interface DemoSlice {
  /** The lab's status when the open session is the demo lab, else null (no demo panel). */
  readonly demo: DemoStatus | null;
  readonly demoPending: DemoPending | null;
  /** What the last demo action did, in words (the panel's status line). */
  readonly demoMessage: string | null;
  /** The panel is expanded (kept across sessions). */
  readonly demoPanelOpen: boolean;
  readonly setDemoStatus: (status: DemoStatus | null) => void;
  readonly setDemoPending: (pending: DemoPending | null) => void;
  readonly setDemoMessage: (message: string | null) => void;
  readonly setDemoPanelOpen: (open: boolean) => void;
}

/** Input broadcast: on/off, who is left out, who receives input now, and whether the composite has the keyboard. */
export interface InputSlice {
  /** On: every included, connected replica receives input. Off: only the reference replica. */
  readonly broadcastEnabled: boolean;
  /** Replicas the user excluded from broadcast. */
  readonly excludedIds: Readonly<Record<string, true>>;
  /** Replicas the remediation manager isolated: no input (what the others get is kept for their replay), no vote. */
  readonly isolatedIds: Readonly<Record<string, true>>;
  /** The replicas receiving input now (pushed by the workspace's broadcast after every change). */
  readonly inputTargets: readonly string[];
  /** The composite canvas has keyboard focus. */
  readonly compositeFocused: boolean;
  /** The composite captures the keyboard: every key (Tab, Escape…) goes to the replicas until Ctrl+Alt. */
  readonly compositeCaptured: boolean;
  /** Who repeats a held key: RetroVisor (keys tapped, identical everywhere) or each server. Kept across sessions. */
  readonly keyRepeat: KeyRepeatMode;
  readonly setBroadcastEnabled: (enabled: boolean) => void;
  readonly setKeyRepeat: (mode: KeyRepeatMode) => void;
  readonly setExcluded: (replicaId: string, excluded: boolean) => void;
  readonly setIsolated: (replicaId: string, isolated: boolean) => void;
  readonly setInputTargets: (targets: readonly string[]) => void;
  readonly setCompositeFocused: (focused: boolean) => void;
  readonly setCompositeCaptured: (captured: boolean) => void;
}

/** Divergence detection: the engine's confirmed divergences, pushed by the workspace on every event. */
export interface DivergenceSlice {
  /** The current divergences (empty: every compared replica agrees). */
  readonly divergences: readonly Divergence[];
  readonly setDivergenceState: (state: DivergenceState) => void;
}

/** What the diff view compares: replica `subjectId` against `referenceId`. */
export interface DiffViewTarget {
  readonly subjectId: string;
  /** The user's choice of reference; null: the default (a replica of the agreeing majority). */
  readonly referenceId: string | null;
}

/** The divergence timeline and the diff view: plain data only (screenshots as object URL strings), as the store holds no pixels. */
export interface DivergenceViewsSlice {
  /** Divergence events of the session, newest first (bounded; see renderer/divergence/timeline.ts). */
  readonly timeline: readonly TimelineEntry[];
  /** The timeline panel is shown (kept across sessions). */
  readonly timelineOpen: boolean;
  /** The entry whose screenshots are shown large, or null. */
  readonly timelineDetailId: number | null;
  /** The open diff view, or null. */
  readonly diffView: DiffViewTarget | null;
  readonly setTimeline: (entries: readonly TimelineEntry[]) => void;
  readonly setTimelineOpen: (open: boolean) => void;
  readonly showTimelineDetail: (entryId: number | null) => void;
  /** Opens the diff view on `subjectId` (closing the entry detail: one dialog at a time). */
  readonly openDiffView: (subjectId: string, referenceId?: string | null) => void;
  readonly chooseDiffReference: (referenceId: string) => void;
  readonly closeDiffView: () => void;
}

/** The remediation manager of the open session (docs/remediation.md): its view, and what the user has on its way. */
export interface RemediationSlice {
  /** The manager's view of the open session, as the back end last pushed it; null before its first answer. */
  readonly remediation: RemediationView | null;
  /** Requests on their way to the back end, by key (remediationRequestKey): their buttons show busy. */
  readonly remediationRequests: readonly string[];
  /** The confirmation the user put aside (Escape): its dialog stays closed until reopened from the panel. */
  readonly deferredPlanId: string | null;
  /** The panel is expanded (kept across sessions). */
  readonly remediationPanelOpen: boolean;
  /** Takes the manager's view when it is the open session's (a late view of a closed session is ignored). */
  readonly setRemediation: (view: RemediationView) => void;
  readonly setRemediationRequest: (key: string, inFlight: boolean) => void;
  readonly deferConfirmation: (planId: string | null) => void;
  readonly setRemediationPanelOpen: (open: boolean) => void;
}

/** The whole store's state: every slice together. */
export type AppState = BackendSlice & StartSlice & LibrarySlice & SessionSlice & ViewSlice & NoticeSlice & PromptSlice & DemoSlice & InputSlice & DivergenceSlice & DivergenceViewsSlice & RemediationSlice;

/** Most toasts shown at once (older ones go first). */
export const MAX_NOTICES = 5;

// ---------------------------------------------------------------------------------------------
// Pure reducers (exported for tests).

/** The view of a replica as the profile describes it, before any connection. */
export function initialReplicaView(summary: ReplicaSummary): ReplicaView {
  return {
    id: summary.id,
    label: summary.label,
    endpoint: summary.endpoint,
    tunnel: summary.tunnel,
    hasPassword: summary.hasPassword,
    state: { name: 'idle' },
    stateName: 'idle',
    width: null,
    height: null,
    lastError: null,
  };
}

/** A replica's view after a state change. */
export function withReplicaState(view: ReplicaView, state: ReplicaState): ReplicaView {
  const connected = state.name === 'connected';
  const failure = state.name === 'auth-failed' || state.name === 'disconnected' || state.name === 'reconnecting' ? state.reason : null;
  return {
    ...view,
    state,
    stateName: state.name,
    width: connected ? state.width : view.width,
    height: connected ? state.height : view.height,
    lastError: connected ? null : (failure ?? view.lastError),
  };
}

/**
 * Which replica the composite shows: the user's choice if pinned, else the first connected replica in
 * profile order (deterministic, whatever order the servers answer in); with none connected the
 * current one stays (its last picture), or null.
 */
export function pickReference(
  replicaIds: readonly string[],
  replicas: Readonly<Record<string, ReplicaView>>,
  current: string | null,
  pinned: boolean,
): string | null {
  if (pinned && current !== null && replicas[current]) return current;
  const firstConnected = replicaIds.find((id) => replicas[id]?.stateName === 'connected');
  return firstConnected ?? (current !== null && replicas[current] ? current : null);
}

/** True when a connected replica's desktop size differs from the reference's (last known) size. */
export function sizeDiffersFromReference(state: Pick<AppState, 'replicas' | 'referenceId'>, replicaId: string): boolean {
  const replica = state.replicas[replicaId];
  const reference = state.referenceId === null ? undefined : state.replicas[state.referenceId];
  if (!replica || !reference || replica.id === reference.id || replica.stateName !== 'connected') return false;
  if (replica.width === null || replica.height === null || reference.width === null || reference.height === null) return false;
  return replica.width !== reference.width || replica.height !== reference.height;
}

/** Per replica, in how many regions it is an outlier now (replicas absent: none). */
export function outlierRegionCounts(divergences: readonly Divergence[]): Readonly<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const divergence of divergences) {
    for (const id of divergence.outliers) counts[id] = (counts[id] ?? 0) + Math.max(1, divergence.regions.length);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Slices.

/** A slice's actions; its data starts from SESSION_INITIAL_STATE or APP_INITIAL_STATE. */
type Slice<T> = StateCreator<AppState, [], [], Omit<T, DataKey>>;

/** The keys of AppState that hold data (not actions). */
type DataKey = { [K in keyof AppState]: AppState[K] extends (...args: never[]) => unknown ? never : K }[keyof AppState];

/**
 * Everything that belongs to one session, as it is before any session: the ONE list that opening a
 * session, closing it and resetting the store all start from, so none of them leaves a field of the
 * previous session behind. A new per-session field goes here (and nowhere else).
 */
export const SESSION_INITIAL_STATE = {
  session: null,
  replicaIds: [],
  replicas: {},
  referenceId: null,
  referencePinned: false,
  // The problems of a profile that failed to open are about that attempt: gone once a session opens or closes.
  problems: [],
  problemsSource: null,
  fullScreen: false,
  passwordPrompts: [],
  demo: null,
  demoPending: null,
  demoMessage: null,
  broadcastEnabled: true,
  excludedIds: {},
  isolatedIds: {},
  inputTargets: [],
  compositeFocused: false,
  compositeCaptured: false,
  divergences: [],
  timeline: [],
  timelineDetailId: null,
  diffView: null,
  remediation: null,
  remediationRequests: [],
  deferredPlanId: null,
} as const satisfies Partial<Pick<AppState, DataKey>>;

/** The fields a session resets. */
export type SessionKey = keyof typeof SESSION_INITIAL_STATE;

/**
 * The rest of the data, kept across sessions: who the back end is, choices the user makes once (view
 * mode, key repeat, which panels are open), toasts, and an open request in flight (opening a profile
 * closes the previous session before the new one opens). The type makes every data field of AppState
 * appear in exactly one of the two lists.
 */
export const APP_INITIAL_STATE: Readonly<Pick<AppState, Exclude<DataKey, SessionKey>>> = {
  shell: null,
  version: null,
  headless: false,
  backendLost: null,
  preferences: null,
  webNotifications: 'unsupported',
  opening: false,
  library: null,
  keyring: null,
  editing: null,
  viewMode: 'fit',
  notices: [],
  demoPanelOpen: true,
  keyRepeat: DEFAULT_KEY_REPEAT_MODE,
  timelineOpen: false,
  remediationPanelOpen: true,
};

const createBackendSlice: Slice<BackendSlice> = (set) => ({
  setStartup: ({ shell, version, headless }) => set({ shell, version, headless }),
  setBackendLost: (reason) => set((state) => (state.backendLost === null ? { backendLost: reason } : {})),
  setPreferences: (preferences) => set({ preferences }),
  setWebNotifications: (webNotifications) => set({ webNotifications }),
});

const createStartSlice: Slice<StartSlice> = (set) => ({
  setOpening: (opening) => set({ opening }),
  showProblems: (source, problems) => set({ problems, problemsSource: source }),
  clearProblems: () => set({ problems: [], problemsSource: null }),
});

const createLibrarySlice: Slice<LibrarySlice> = (set) => ({
  setLibrary: (library) => set({ library }),
  setKeyring: (keyring) => set({ keyring }),
  setEditing: (editing) => set({ editing }),
});

const createSessionSlice: Slice<SessionSlice> = (set) => ({
  openSession: (session) =>
    set({
      ...SESSION_INITIAL_STATE,
      session,
      replicaIds: session.replicas.map((replica) => replica.id),
      replicas: Object.fromEntries(session.replicas.map((replica) => [replica.id, initialReplicaView(replica)])),
    }),
  closeSession: () => set(SESSION_INITIAL_STATE),
  setReplicaState: (replicaId, replicaState) =>
    set((state) => {
      const view = state.replicas[replicaId];
      if (!view) return {};
      const replicas = { ...state.replicas, [replicaId]: withReplicaState(view, replicaState) };
      return { replicas, referenceId: pickReference(state.replicaIds, replicas, state.referenceId, state.referencePinned) };
    }),
  chooseReference: (replicaId) =>
    set((state) => (state.replicas[replicaId] ? { referenceId: replicaId, referencePinned: true } : {})),
});

const createViewSlice: Slice<ViewSlice> = (set) => ({
  setViewMode: (viewMode) => set({ viewMode }),
  setFullScreen: (fullScreen) => set({ fullScreen }),
});

let nextNoticeId = 1;

const createNoticeSlice: Slice<NoticeSlice> = (set) => ({
  pushNotice: (notice) => {
    const id = nextNoticeId++;
    set((state) => ({ notices: [...state.notices, { ...notice, id }].slice(-MAX_NOTICES) }));
    return id;
  },
  dismissNotice: (id) => set((state) => ({ notices: state.notices.filter((notice) => notice.id !== id) })),
});

const createPromptSlice: Slice<PromptSlice> = (set) => ({
  requestPassword: (prompt) =>
    set((state) => {
      const others = state.passwordPrompts.filter((entry) => entry.replicaId !== prompt.replicaId);
      const index = state.passwordPrompts.findIndex((entry) => entry.replicaId === prompt.replicaId);
      // A repeated request keeps its place in the queue.
      if (index >= 0) others.splice(index, 0, prompt);
      else others.push(prompt);
      return { passwordPrompts: others };
    }),
  withdrawPassword: (replicaId) =>
    set((state) => ({ passwordPrompts: state.passwordPrompts.filter((entry) => entry.replicaId !== replicaId) })),
});

const createDemoSlice: Slice<DemoSlice> = (set) => ({
  setDemoStatus: (demo) => set({ demo }),
  setDemoPending: (demoPending) => set({ demoPending }),
  setDemoMessage: (demoMessage) => set({ demoMessage }),
  setDemoPanelOpen: (demoPanelOpen) => set({ demoPanelOpen }),
});

const createInputSlice: Slice<InputSlice> = (set) => ({
  setBroadcastEnabled: (broadcastEnabled) => set({ broadcastEnabled }),
  setKeyRepeat: (keyRepeat) => set({ keyRepeat }),
  setExcluded: (replicaId, excluded) =>
    set((state) => {
      const { [replicaId]: _was, ...others } = state.excludedIds;
      return { excludedIds: excluded ? { ...others, [replicaId]: true } : others };
    }),
  setIsolated: (replicaId, isolated) =>
    set((state) => {
      if ((state.isolatedIds[replicaId] === true) === isolated) return {};
      const { [replicaId]: _was, ...others } = state.isolatedIds;
      return { isolatedIds: isolated ? { ...others, [replicaId]: true } : others };
    }),
  setInputTargets: (inputTargets) =>
    set((state) => (state.inputTargets.length === inputTargets.length && state.inputTargets.every((id, index) => id === inputTargets[index]) ? {} : { inputTargets: [...inputTargets] })),
  setCompositeFocused: (compositeFocused) => set({ compositeFocused }),
  setCompositeCaptured: (compositeCaptured) => set({ compositeCaptured }),
});

const createDivergenceSlice: Slice<DivergenceSlice> = (set) => ({
  setDivergenceState: (state) => set({ divergences: state.divergences }),
});

const createDivergenceViewsSlice: Slice<DivergenceViewsSlice> = (set) => ({
  setTimeline: (timeline) =>
    set((state) => ({
      timeline,
      // The entry shown large went out of the bounded list: its detail closes.
      timelineDetailId: state.timelineDetailId !== null && timeline.some((entry) => entry.id === state.timelineDetailId) ? state.timelineDetailId : null,
    })),
  setTimelineOpen: (timelineOpen) => set({ timelineOpen }),
  showTimelineDetail: (timelineDetailId) => set((state) => (timelineDetailId === null || state.timeline.some((entry) => entry.id === timelineDetailId) ? { timelineDetailId } : {})),
  openDiffView: (subjectId, referenceId = null) =>
    set((state) => (state.replicas[subjectId] ? { diffView: { subjectId, referenceId: referenceId !== null && state.replicas[referenceId] && referenceId !== subjectId ? referenceId : null }, timelineDetailId: null } : {})),
  chooseDiffReference: (referenceId) =>
    set((state) => (state.diffView !== null && state.replicas[referenceId] && referenceId !== state.diffView.subjectId ? { diffView: { ...state.diffView, referenceId } } : {})),
  closeDiffView: () => set({ diffView: null }),
});

const createRemediationSlice: Slice<RemediationSlice> = (set) => ({
  setRemediation: (view) => set((state) => (state.session?.sessionId === view.sessionId ? { remediation: view } : {})),
  setRemediationRequest: (key, inFlight) =>
    set((state) => {
      if (state.remediationRequests.includes(key) === inFlight) return {};
      return { remediationRequests: inFlight ? [...state.remediationRequests, key] : state.remediationRequests.filter((entry) => entry !== key) };
    }),
  deferConfirmation: (deferredPlanId) => set({ deferredPlanId }),
  setRemediationPanelOpen: (remediationPanelOpen) => set({ remediationPanelOpen }),
});

/** Creates a fresh store (the app has one; tests may make their own). */
export function createAppStore() {
  return createStore<AppState>()((...args) => ({
    ...SESSION_INITIAL_STATE,
    ...APP_INITIAL_STATE,
    ...createBackendSlice(...args),
    ...createStartSlice(...args),
    ...createLibrarySlice(...args),
    ...createSessionSlice(...args),
    ...createViewSlice(...args),
    ...createNoticeSlice(...args),
    ...createPromptSlice(...args),
    ...createDemoSlice(...args),
    ...createInputSlice(...args),
    ...createDivergenceSlice(...args),
    ...createDivergenceViewsSlice(...args),
    ...createRemediationSlice(...args),
  }));
}

/** The vanilla zustand store holding AppState. */
export type AppStore = ReturnType<typeof createAppStore>;

/** The app's store. */
export const appStore: AppStore = createAppStore();

/** Puts the app's store back to its initial state (tests). */
export function resetAppStore(): void {
  appStore.setState({ ...SESSION_INITIAL_STATE, ...APP_INITIAL_STATE });
}

/** Subscribes a component to one narrow slice of the store (use useShallow for objects). */
export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector);
}
