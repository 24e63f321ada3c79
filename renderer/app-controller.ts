// The UI's actions that talk to the back end: start-up, opening a profile (file, drop, quick
// connect), closing a session, the remediation manager's checkpoints, confirmations and replica
// actions. Owns the open workspace. Runs in the renderer; React calls into it.

import type { Notice, OpenResult, ReplicaActionName, UserPreferences } from '../common/contract';
import { MAX_PROFILE_BYTES } from '../common/profile';
import type { BackendConnection } from './backend/backend-connection';
import { DemoController } from './demo/demo-controller';
import { LibraryController } from './library/library-controller';
import { DesktopPresence, type WebNotificationApi } from './desktop/desktop-presence';
import type { AppStore } from './store';
import { runStartupScript } from './input/startup-script';
import type { KeyboardCaptureFactory, VncClientFactory } from './vnc/vnc-client';
import { RemediationActions } from './workspace/remediation-actions';
import { WorkspaceController } from './workspace/workspace-controller';

/** The name shown for profiles opened through the quick-connect form. */
export const QUICK_CONNECT_SOURCE = 'quick connect';
/** The name under which a failure to open the command line's profile is shown when its path is unknown. */
const COMMAND_LINE_SOURCE = 'the command line';
/** The name under which a failure to open the demo lab is shown. */
export const DEMO_LAB_SOURCE = 'the demo lab';

/** The app's single controller: one per page. */
export class AppController {
  private currentWorkspace: WorkspaceController | null = null;
  /** The demo panel's actions (faults, simulated L0) when the session is the built-in demo lab. */
  readonly demo: DemoController;
  /** The remediation manager's view in the store, and the user's requests to it. */
  readonly remediation: RemediationActions;
  /** The profile library and the profile editor. */
  readonly library: LibraryController;
  /** The title, favicon and Web Notifications; the tray's and notifications' requests. */
  readonly presence: DesktopPresence;

  constructor(
    private readonly backend: BackendConnection,
    private readonly store: AppStore,
    private readonly createClient: VncClientFactory,
    /** noVNC's keyboard on the composite; null where there is no DOM keyboard (tests). */
    private readonly captureKeyboard: KeyboardCaptureFactory | null = null,
  ) {
    this.demo = new DemoController(backend.api, store);
    this.remediation = new RemediationActions(backend.api, store);
    this.library = new LibraryController(backend.api, store);
    this.presence = new DesktopPresence(backend.api, store, this, null);
  }

  /** The open session's controller, or null on the start screen. */
  get workspace(): WorkspaceController | null {
    return this.currentWorkspace;
  }

  /** Reads who we are from the back end, listens for notices and opens the command-line profile. */
  async start(): Promise<void> {
    this.backend.api.on('notice', (notice) => this.store.getState().pushNotice(notice));
    this.remediation.listen();
    const startup = await this.backend.api.getStartup();
    this.store.getState().setStartup(startup);
    // The Electron shell notifies natively (its main process); the browser shell through Web Notifications.
    const webNotifications = startup.shell === 'browser' && typeof Notification === 'function' ? (Notification as unknown as WebNotificationApi) : null;
    this.presence.useWebNotifications(webNotifications);
    this.presence.start().catch((error: unknown) => this.store.getState().pushNotice({ level: 'warning', message: `The window title cannot follow the sessions' state: ${messageOf(error)}` }));
    // Not needed to open anything: a back end that cannot read them still opens profiles.
    void this.updatePreferences(() => this.backend.api.getPreferences());
    if (startup.startupSession !== null) this.applyOpenResult(startup.startupSession, COMMAND_LINE_SOURCE);
    const workspace = this.currentWorkspace;
    if (startup.startupScript !== undefined && workspace !== null) {
      runStartupScript(workspace, this.store, this.backend.api, startup.startupScript, startup.startupScriptOptions).catch((error: unknown) =>
        this.store.getState().pushNotice({ level: 'error', message: `The startup script could not report its result: ${messageOf(error)}` }),
      );
    }
  }

  /**
   * Opens a profile file the user picked or dropped: by its path where the shell knows it (Electron:
   * the back end reads it, and files it names relative to its folder are found there), else as text
   * (the browser shell: such files are then refused, see docs/profiles.md).
   */
  async openProfileFile(file: File): Promise<void> {
    const path = this.backend.pathOfFile?.(file) ?? '';
    if (path !== '') {
      await this.openProfilePath(path);
      return;
    }
    if (file.size > MAX_PROFILE_BYTES) {
      this.store.getState().showProblems(file.name, [{ path: '$', message: `the file is ${file.size} bytes; a profile is at most ${MAX_PROFILE_BYTES}` }]);
      return;
    }
    await this.open(file.name, async () => this.backend.api.openProfileText({ text: await file.text(), sourceName: file.name }));
  }

  /** Opens the profile file at `path` on the back end's machine (relative: to its working folder). */
  async openProfilePath(path: string): Promise<void> {
    await this.open(path, () => this.backend.api.openProfileFile({ path }));
  }

  /** Shows a toast (for components that have something to say outside the store's own actions). */
  pushNotice(notice: Notice): void {
    this.store.getState().pushNotice(notice);
  }

  /** Opens a profile of the library as a session (the library records when); `name` names it in messages (default: its id). */
  async openSavedProfile(id: string, name: string = id): Promise<void> {
    await this.open(name, () => this.backend.api.openSavedProfile({ id }));
  }

  /** Opens the replicas typed into the quick-connect form (the back end remembers the set, never the password). */
  async quickConnect(endpoints: string, password: string): Promise<void> {
    await this.open(QUICK_CONNECT_SOURCE, () =>
      this.backend.api.quickConnect(password.length > 0 ? { endpoints, password } : { endpoints }),
    );
    if (this.currentWorkspace !== null) void this.updatePreferences(() => this.backend.api.getPreferences());
  }

  /** Forgets one recent quick-connect endpoint set, or all of them. */
  forgetRecentEndpoints(endpoints?: readonly string[]): Promise<void> {
    return this.updatePreferences(() => this.backend.api.forgetRecentEndpoints(endpoints === undefined ? {} : { endpoints: [...endpoints] }));
  }

  /** The Keys menu's "don't ask again" for Ctrl+Alt+Del and Ctrl+Alt+Backspace (true: ask). */
  setConfirmSystemKeys(confirm: boolean): Promise<void> {
    return this.updatePreferences(() => this.backend.api.setConfirmSystemKeys({ confirm }));
  }

  /** Runs a preferences call and keeps its answer; a failure is a warning, never in the way. */
  private async updatePreferences(request: () => Promise<UserPreferences>): Promise<void> {
    try {
      this.store.getState().setPreferences(await request());
    } catch (error) {
      this.store.getState().pushNotice({ level: 'warning', message: `Your saved preferences could not be read or changed: ${messageOf(error)}` });
    }
  }

  /** Tray and notification settings: close to tray, kinds turned off, do-not-disturb. */
  setDesktopPreferences(change: Partial<Pick<UserPreferences, 'closeToTray' | 'notifications'>>): Promise<void> {
    return this.updatePreferences(() => this.backend.api.setDesktopPreferences(change));
  }

  /** Starts the built-in demo lab in the back end (or reuses it) and opens it. */
  async openDemoLab(replicas?: number): Promise<void> {
    await this.open(DEMO_LAB_SOURCE, () => this.backend.api.startDemoLab(replicas === undefined ? {} : { replicas }));
  }

  /** Closes the open session and returns to the start screen. */
  async closeSession(): Promise<void> {
    const workspace = this.currentWorkspace;
    if (workspace === null) return;
    this.currentWorkspace = null;
    const closed = workspace.close();
    this.store.getState().closeSession();
    await closed;
    try {
      await this.backend.api.closeSession({ sessionId: workspace.info.sessionId });
    } catch (error) {
      this.store.getState().pushNotice({ level: 'warning', message: `The back end could not close the session: ${messageOf(error)}` });
    }
  }

  /** Takes a checkpoint of every replica of the open session (the outcome is a notice). */
  takeCheckpoint(): Promise<void> {
    return this.remediation.takeCheckpoint();
  }

  /** Answers a remediation waiting for the user's go-ahead (mode "confirm"). */
  confirmRemediation(planId: string, approve: boolean): Promise<void> {
    return this.remediation.confirmRemediation(planId, approve);
  }

  /** Runs an action from a replica's actions menu (the outcome is a notice). */
  replicaAction(replicaId: string, action: ReplicaActionName): Promise<void> {
    return this.remediation.replicaAction(replicaId, action);
  }

  private async open(source: string, request: () => Promise<OpenResult>): Promise<void> {
    const state = this.store.getState();
    if (state.opening) return;
    state.setOpening(true);
    try {
      this.applyOpenResult(await request(), source);
    } catch (error) {
      this.store.getState().showProblems(source, [{ path: '$', message: messageOf(error) }]);
    } finally {
      this.store.getState().setOpening(false);
    }
  }

  private applyOpenResult(result: OpenResult, source: string): void {
    if (!result.ok) {
      // The back end names the file it read (the command line's profile, a path typed in).
      const named = result.source === undefined ? source : source === COMMAND_LINE_SOURCE ? `${result.source} (from the command line)` : result.source;
      this.store.getState().showProblems(named, result.problems);
      return;
    }
    // Only one session at a time: a new one replaces the old (the back end forgets it too).
    if (this.currentWorkspace !== null) void this.closeSession();
    const sessionId = result.session.sessionId;
    const api = this.backend.api;
    // The remediation manager's commands to this session's UI: hold input, isolate, replay, rejoin...
    const workspace = new WorkspaceController(result.session, this.backend, this.store, this.createClient, this.captureKeyboard, {
      readJournal: (afterSeq, limit) => api.readInputJournal({ sessionId, afterSeq, limit }),
      answer: (answer) => api.answerManagerCommand(answer),
      onCommand: (listener) => api.on('managerCommand', listener),
    });
    this.currentWorkspace = workspace;
    this.store.getState().openSession(result.session);
    workspace.start();
    // Any session may be the demo lab's (the start screen's button, --demo, a page reload).
    void this.demo.sync(result.session.sessionId);
    // Events say what changes; the manager's view so far is asked for once.
    void this.remediation.sync(result.session.sessionId);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
