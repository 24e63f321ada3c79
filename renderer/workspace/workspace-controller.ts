// One open session: a ReplicaSession per replica, the element each one renders into, the composite
// fed from the reference replica's damage, the input broadcast captured on the composite, and (when
// the back end offers it) the executor of the remediation manager's commands.
// Bridges the controllers to the store. Runs in the renderer (creates DOM elements); noVNC comes in
// through the client and keyboard-capture factories.

import type { ManagerCommandAnswer, ManagerCommandEvent, SessionInfo } from '../../common/contract';
import type { ReplicaState } from '../../common/replica-state';
import { DEFAULT_DIVERGENCE_SETTINGS } from '../../common/profile';
import { workerComparison } from '../divergence/comparison-worker-link';
import { DivergenceMonitor, canvasPixelSource, engineOptionsOf, type PixelSource } from '../divergence/divergence-monitor';
import { DivergenceReporter, canvasToPngBlob } from '../divergence/divergence-reporter';
import { ScreenUpdateHub } from '../divergence/diff-refresh';
import { TimelineRecorder } from '../divergence/timeline-recorder';
import type { InputScriptStep } from '../../common/input/input-script';
import { BroadcastController, type JournalReader } from '../input/broadcast-controller';
import { InputChannel } from '../input/input-channel';
import type { KeyRepeatMode } from '../../common/input/key-repeat';
import { CompositeInput } from '../input/composite-input';
import type { BackendConnection } from '../backend/backend-connection';
import type { AppStore } from '../store';
import type { KeyboardCaptureFactory, VncClient, VncClientFactory, VncCredentials } from '../vnc/vnc-client';
import { ReplicaSession, SYSTEM_CLOCK } from '../vnc/replica-session';
import { ManagerCommandExecutor } from '../remediation/manager-command-executor';
import { ANIMATION_FRAMES, CompositeRenderer } from './composite-renderer';
import { ThumbnailPacer, ThumbnailRenderer } from './thumbnail-renderer';

/**
 * The remediation manager's side of the back end, for one session: its commands, the answers, and
 * the input journal a replay reads. Absent: the workspace runs without the manager.
 */
export interface ManagerUi {
  readonly readJournal: JournalReader;
  readonly answer: (answer: ManagerCommandAnswer) => Promise<void>;
  /** Subscribes to the manager's commands (every session's; the executor keeps its own); returns the unsubscribe. */
  readonly onCommand: (listener: (event: ManagerCommandEvent) => void) => () => void;
}

interface ConnectionWaiter {
  readonly replicaId: string;
  readonly settle: (error: Error | null) => void;
}

interface ReplicaEntry {
  readonly session: ReplicaSession;
  /** The element the replica's noVNC screen lives in; the thumbnail mounts it, hidden. */
  readonly host: HTMLElement;
  /** Paints the thumbnail: the screen scaled down, from noVNC's canvas, on damage. */
  readonly thumbnail: ThumbnailRenderer;
  client: VncClient | null;
}

/** Owns the hot side of one open session; the UI reaches it through the app controller. */
export class WorkspaceController {
  /** Paints the replicas' thumbnails in the composite's frames, or together at most THUMBNAIL_MAX_WAIT_MS later. */
  private readonly thumbnailPacer = new ThumbnailPacer();
  readonly composite = new CompositeRenderer(ANIMATION_FRAMES, () => this.thumbnailPacer.paintWaiting());
  /** Input broadcast: one capture on the composite, delivered to every target replica. */
  readonly broadcast: BroadcastController;
  /** Divergence detection: fed with every replica's damaged rectangles, ticked by its own timer. */
  readonly divergence: DivergenceMonitor;
  private readonly divergenceReporter: DivergenceReporter;
  /** The divergence timeline (the reporter's captures become its screenshots). */
  private readonly timeline: TimelineRecorder;
  /** Which replica's screen just changed: the diff view listens while open. */
  readonly screenUpdates = new ScreenUpdateHub();
  /** One pixel source per noVNC canvas (the monitor recognises a replica's unchanged source). */
  private readonly pixelSources = new WeakMap<HTMLCanvasElement, PixelSource>();
  private compositeInput: CompositeInput | null = null;
  private readonly replicas = new Map<string, ReplicaEntry>();
  private readonly unsubscribe: () => void;
  /** The remediation manager's commands, when the back end offers them. */
  private readonly managerExecutor: ManagerCommandExecutor | null = null;
  private readonly unsubscribeManager: () => void = () => undefined;
  private readonly connectionWaiters = new Set<ConnectionWaiter>();
  /** Replicas connected now, and those that were connected and lost it (their return goes in the timeline). */
  private readonly connectedIds = new Set<string>();
  private readonly lostIds = new Set<string>();
  private closed = false;

  constructor(
    readonly info: SessionInfo,
    backend: BackendConnection,
    private readonly store: AppStore,
    createClient: VncClientFactory,
    private readonly captureKeyboard: KeyboardCaptureFactory | null = null,
    managerUi: ManagerUi | null = null,
  ) {
    this.broadcast = new BroadcastController({
      sessionId: info.sessionId,
      replicaIds: info.replicas.map((replica) => replica.id),
      clientOf: (replicaId) => this.replicas.get(replicaId)?.client ?? null,
      inputChannel: backend.openInputChannel === null ? null : new InputChannel(backend.openInputChannel, { warn: (message) => console.warn(`[input] ${message}`) }),
      api: backend.api,
      onTargetsChange: () => this.store.getState().setInputTargets(this.broadcast.targets()),
    });
    // The profile's divergence settings: off means no engine and no canvas reads at all.
    const divergenceSettings = info.divergence ?? DEFAULT_DIVERGENCE_SETTINGS;
    this.timeline = new TimelineRecorder({ publish: (entries) => this.store.getState().setTimeline(entries), foldWindowMs: divergenceSettings.confirmMs });
    this.divergenceReporter = new DivergenceReporter({
      sessionId: info.sessionId,
      amendWindowMs: divergenceSettings.confirmMs,
      api: backend.api,
      lastInputSeq: () => this.lastInputSeq(),
      screenIds: () => info.replicas.map((replica) => replica.id).filter((id) => this.store.getState().replicas[id]?.stateName === 'connected'),
      captureScreen: (replicaId) => {
        const client = this.replicas.get(replicaId)?.client ?? null;
        return client === null ? Promise.resolve(null) : canvasToPngBlob(client.canvas);
      },
    });
    this.divergence = new DivergenceMonitor({
      enabled: divergenceSettings.enabled,
      engine: engineOptionsOf(divergenceSettings),
      onEvents: (events, state) => {
        this.store.getState().setDivergenceState(state);
        this.timeline.record(this.divergenceReporter.handle(events));
      },
      // The engine runs in a dedicated worker; if that fails, the monitor compares in the page.
      comparison: workerComparison(),
      warn: (message) => console.warn(message),
    });
    for (const replica of info.replicas) {
      const host = document.createElement('div');
      host.className = 'replica-host';
      const entry: ReplicaEntry = {
        host,
        thumbnail: new ThumbnailRenderer(this.thumbnailPacer),
        client: null,
        session: new ReplicaSession({
          sessionId: info.sessionId,
          replica,
          api: backend.api,
          openStream: (streamId, handlers) => backend.openStream(streamId, handlers),
          createClient,
          host,
          listener: {
            onStateChange: (state) => {
              this.noteConnection(replica.id, state);
              this.broadcast.setConnected(replica.id, state.name === 'connected');
              this.store.getState().setReplicaState(replica.id, state);
              this.trackDivergence(replica.id, state);
              if (state.name === 'connected') this.settleConnectionWaiters(replica.id, null);
            },
            onClientChange: (client) => {
              entry.client = client;
              entry.thumbnail.setSource(client);
              this.trackDivergence(replica.id, entry.session.state);
              if (this.store.getState().referenceId === replica.id) this.bindComposite();
            },
            onFramebufferUpdate: (rects) => {
              this.broadcast.noteScreenUpdate(replica.id);
              this.screenUpdates.notify(replica.id);
              this.divergence.damage(replica.id, rects);
              entry.thumbnail.damage(rects);
              if (this.store.getState().referenceId === replica.id) this.composite.damage(rects);
            },
            onPasswordRequest: (request) => {
              const state = this.store.getState();
              if (request === null) state.withdrawPassword(replica.id);
              else state.requestPassword({ replicaId: replica.id, label: replica.label, endpoint: replica.endpoint, ...request });
            },
          },
        }),
      };
      this.replicas.set(replica.id, entry);
    }
    this.unsubscribe = store.subscribe((state, previous) => {
      if (state.referenceId !== previous.referenceId) {
        this.bindComposite();
        // With broadcast off, input goes to the replica the user is looking at.
        this.broadcast.setSoloReplica(state.referenceId);
      }
    });
    if (managerUi !== null) {
      const executor = new ManagerCommandExecutor({
        sessionId: info.sessionId,
        broadcast: this.broadcast,
        divergence: this.divergence,
        reconnect: (replicaId) => this.replicas.get(replicaId)?.session.reconnectNow('reconnecting after an action on its L0'),
        waitConnected: (replicaId, timeoutMs) => this.waitConnected(replicaId, timeoutMs),
        readJournal: managerUi.readJournal,
        answer: managerUi.answer,
        clock: SYSTEM_CLOCK,
        log: {
          warn: (message) => {
            console.warn(message);
            this.store.getState().pushNotice({ level: 'warning', message });
          },
        },
        onIsolationChange: (replicaId, isolated) => this.store.getState().setIsolated(replicaId, isolated),
      });
      this.managerExecutor = executor;
      this.unsubscribeManager = managerUi.onCommand((event) => executor.handle(event));
    }
  }

  /** Connects every replica at once. */
  start(): void {
    for (const entry of this.replicas.values()) entry.session.start();
    this.divergence.start();
  }

  /** The element a replica's noVNC screen renders into (the thumbnail appends it). */
  hostOf(replicaId: string): HTMLElement | null {
    return this.replicas.get(replicaId)?.host ?? null;
  }

  /** What paints a replica's thumbnail canvas (the thumbnail attaches its canvas and size). */
  thumbnailOf(replicaId: string): ThumbnailRenderer | null {
    return this.replicas.get(replicaId)?.thumbnail ?? null;
  }

  /** The live VNC client of a replica (its canvas holds the replica's framebuffer). */
  clientOf(replicaId: string): VncClient | null {
    return this.replicas.get(replicaId)?.client ?? null;
  }

  /** The user's "make reference": the composite shows this replica from now on. */
  makeReference(replicaId: string): void {
    if (this.replicas.has(replicaId)) this.store.getState().chooseReference(replicaId);
  }

  retryNow(replicaId: string): void {
    this.replicas.get(replicaId)?.session.retryNow();
  }

  /** Resolves once the replica is connected (at once if it is); rejects after `timeoutMs` or when the session closes. */
  waitConnected(replicaId: string, timeoutMs: number): Promise<void> {
    const entry = this.replicas.get(replicaId);
    if (entry === undefined) return Promise.reject(new Error(`this session has no replica "${replicaId}"`));
    if (this.closed) return Promise.reject(new Error('the session closed'));
    if (entry.session.state.name === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = SYSTEM_CLOCK.setTimeout(() => {
        const state = entry.session.state;
        waiter.settle(new Error(`${replicaId} did not connect within ${timeoutMs} ms (it is ${state.name}${'reason' in state ? `: ${state.reason}` : ''})`));
      }, timeoutMs);
      const waiter: ConnectionWaiter = {
        replicaId,
        settle: (error) => {
          SYSTEM_CLOCK.clearTimeout(timer);
          this.connectionWaiters.delete(waiter);
          if (error === null) resolve();
          else reject(error);
        },
      };
      this.connectionWaiters.add(waiter);
    });
  }

  /** After "auth failed": reconnect and ask the user for the password. */
  enterPasswordAgain(replicaId: string): void {
    this.replicas.get(replicaId)?.session.enterPasswordAgain();
  }

  /** Sends what the user typed to each named replica still waiting for it. */
  submitCredentials(replicaIds: readonly string[], credentials: VncCredentials): void {
    for (const replicaId of replicaIds) this.replicas.get(replicaId)?.session.submitCredentials(credentials);
  }

  cancelPasswordRequest(replicaId: string): void {
    this.replicas.get(replicaId)?.session.cancelPasswordRequest();
  }

  /**
   * Starts (canvas) or stops (null) capturing the user's input on the composite canvas;
   * `releaseTarget` names where the keyboard goes when the user releases it (Ctrl+Alt).
   */
  attachCompositeInput(canvas: HTMLCanvasElement | null, options: { readonly releaseTarget?: () => HTMLElement | null } = {}): void {
    this.compositeInput?.dispose();
    this.compositeInput = null;
    if (canvas === null || this.closed) return;
    if (this.captureKeyboard === null) return;
    this.compositeInput = new CompositeInput(
      canvas,
      this.broadcast,
      this.captureKeyboard,
      {
        onFocusChange: (focused) => this.store.getState().setCompositeFocused(focused),
        onCaptureChange: (captured) => this.store.getState().setCompositeCaptured(captured),
        releaseTarget: () => options.releaseTarget?.() ?? null,
      },
      this.store.getState().keyRepeat,
    );
  }

  /** Who repeats a held key: RetroVisor (keys are tapped; the default) or each server on its own timer. */
  setKeyRepeat(mode: KeyRepeatMode): void {
    this.compositeInput?.setKeyRepeatMode(mode);
    this.store.getState().setKeyRepeat(mode);
  }

  /** Broadcast on (every included replica) or off (the reference replica only). */
  setBroadcastEnabled(enabled: boolean): void {
    this.broadcast.setBroadcast(enabled);
    this.store.getState().setBroadcastEnabled(enabled);
  }

  /** Includes a replica in broadcast or leaves it out (it is released of held keys first). */
  setIncluded(replicaId: string, included: boolean): void {
    if (!this.replicas.has(replicaId)) return;
    this.broadcast.setIncluded(replicaId, included);
    this.store.getState().setExcluded(replicaId, !included);
  }

  /** Plays a script through the broadcast once the replicas are connected; resolves with the steps run. */
  runScript(steps: readonly InputScriptStep[]): Promise<number> {
    return this.broadcast.runScript(steps);
  }

  /**
   * Ends every replica session; the back end is told by the caller (closeSession) once this resolves.
   * Resolves when the sessions are closed (after the releases reached the back end, at most ~1 s).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.unsubscribeManager();
    this.managerExecutor?.dispose();
    for (const waiter of [...this.connectionWaiters]) waiter.settle(new Error('the session closed'));
    this.compositeInput?.dispose();
    this.compositeInput = null;
    this.divergence.dispose();
    this.divergenceReporter.close();
    this.timeline.dispose();
    this.screenUpdates.clear();
    // Released while the connections still stand: no key stays down on a server after we leave.
    await this.broadcast.close();
    for (const entry of this.replicas.values()) {
      entry.session.close();
      entry.thumbnail.dispose();
    }
    this.thumbnailPacer.dispose();
    this.composite.dispose();
  }

  /** The last input broadcast sequence number used, or null before any input. */
  private lastInputSeq(): number | null {
    return this.broadcast.fanout.nextSequence > 1 ? this.broadcast.fanout.nextSequence - 1 : null;
  }

  /**
   * A replica that was connected and no longer is goes in the timeline as lost (with why), and its
   * return as back: agreement is only ever among the connected replicas, so the timeline says when
   * one was not compared.
   */
  private noteConnection(replicaId: string, state: ReplicaState): void {
    if (this.closed || state.name === 'closed') return;
    if (state.name === 'connected') {
      if (this.connectedIds.has(replicaId)) return;
      this.connectedIds.add(replicaId);
      if (this.lostIds.delete(replicaId)) this.timeline.recordConnection('back', replicaId, null, this.lastInputSeq());
      return;
    }
    if (!this.connectedIds.delete(replicaId)) return;
    this.lostIds.add(replicaId);
    this.timeline.recordConnection('lost', replicaId, 'reason' in state ? state.reason : state.name, this.lastInputSeq());
  }

  /** A connected replica (with its client) is compared; any other state takes it out of the comparison. */
  private trackDivergence(replicaId: string, state: ReplicaState): void {
    const client = this.replicas.get(replicaId)?.client ?? null;
    if (state.name !== 'connected' || client === null) {
      this.divergence.disconnect(replicaId);
      return;
    }
    let source = this.pixelSources.get(client.canvas);
    if (source === undefined) {
      source = canvasPixelSource(client.canvas);
      this.pixelSources.set(client.canvas, source);
    }
    this.divergence.connect(replicaId, source, state.width, state.height);
  }

  private settleConnectionWaiters(replicaId: string, error: Error | null): void {
    for (const waiter of [...this.connectionWaiters]) if (waiter.replicaId === replicaId) waiter.settle(error);
  }

  private bindComposite(): void {
    const referenceId = this.store.getState().referenceId;
    const client = referenceId === null ? null : (this.replicas.get(referenceId)?.client ?? null);
    this.composite.setSource(client);
  }
}
