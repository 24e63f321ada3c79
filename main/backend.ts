// The back end both shells share, as a composition root: it builds the services (sessions, streams,
// input journals, divergence and replica reports, events, the demo lab) and joins them into the
// contract's handlers and the Backend a shell drives. Node-side; each service lives in main/backend/.

import type { ContractHandlers, EventName, EventPayload, KeyringStatus, Notice, ScriptResult, StartupInfo, StartupScriptOptions } from '../common/contract';
import type { InputJournalEntry } from '../common/input/input-events';
import type { InputScriptStep } from '../common/input/input-script';
import { ConnectionTestService } from './backend/connection-test-service';
import { DesktopStatusService } from './backend/desktop-status-service';
import { DivergenceService, type DivergenceReportListener } from './backend/divergence-service';
import { EventService } from './backend/event-service';
import { InputJournalService } from './backend/input-journal-service';
import { Listeners } from './backend/listeners';
import { ReplicaReportService, type ReplicaReportListener } from './backend/replica-report-service';
import { SessionService } from './backend/session-service';
import { StartupSession } from './backend/startup-session';
import { StreamService } from './backend/stream-service';
import { ProfileLibraryService } from './backend/profile-library-service';
import { ProfileLibrary } from './profile-library';
import { RemediationService } from './remediation/remediation-service';
import type { ManagerEvent } from './remediation/session-manager';
import { DemoService, type DemoLabAccess, type DemoServiceOptions } from './demo-service';
import { EvidenceStore, dataRoot } from './divergence-evidence';
import type { InputChannelEndpoint } from './input-channel';
import { LibsecretStore } from './keyring/libsecret-store';
import type { SecretStore } from './keyring/secret-store';
import { SECRET_REDACTOR, type Logger, type SecretRedactor } from './logger';
import { connectReplica } from './replica-transport';
import { SshL0Pool, type SshL0Options } from './ssh-l0';
import { PreferencesStore } from './preferences';
import { canonicalEndpointSet } from '../common/recent-endpoints';
import type { StreamEndpoint, StreamRelayOptions } from './stream-relay';

export { MAX_PENDING_STREAMS, STREAM_ID_TTL_MS } from './backend/stream-service';
export type { DivergenceReportListener } from './backend/divergence-service';
export type { ReplicaReportListener } from './backend/replica-report-service';

/** How a shell configures its back end. */
export interface BackendOptions {
  readonly shell: 'electron' | 'browser';
  /** True under `retrovisor run`: no person is watching. */
  readonly headless: boolean;
  readonly version: string;
  /** The profile named on the command line; opened once, on the first getStartup. */
  readonly startupProfilePath?: string;
  /** The startup profile is this saved profile (its library file is startupProfilePath): opened through the library. */
  readonly startupSavedProfileId?: string;
  /** `retrovisor run --script`: steps the UI plays into the startup session (handed over by getStartup). */
  readonly startupScript?: readonly InputScriptStep[];
  /** `retrovisor run --script --require-all / --connect-timeout`: how the script waits for replicas. */
  readonly startupScriptOptions?: StartupScriptOptions;
  /** Entries each session's input journal keeps (default INPUT_JOURNAL_CAPACITY). */
  readonly inputJournalCapacity?: number;
  /** `--demo`: the built-in demo lab is the startup session (unless a startup profile is given). */
  readonly startupDemo?: boolean;
  /** Demo lab tuning (size, cursor blink, clock) for tests and the tour. */
  readonly demoLab?: DemoServiceOptions['lab'];
  readonly logger: Logger;
  /** Where profile text and quick-connect sessions resolve relative paths. Default: process.cwd(). */
  readonly workingDirectory?: string;
  readonly streamIdTtlMs?: number;
  /** Direct TCP connect timeout toward VNC servers. */
  readonly connectTimeoutMs?: number;
  /** SSH tuning (timeouts); the logger and redactor are the back end's. */
  readonly ssh?: Omit<SshL0Options, 'logger' | 'redactor'>;
  /** Flow-control tuning of replica streams (tests use small windows). */
  readonly relay?: Omit<StreamRelayOptions, 'logger'>;
  /** Default: the process-wide redactor. */
  readonly redactor?: SecretRedactor;
  /** Where divergence evidence (under `<profile>/evidence/`), the profile library (profiles/) and the user's preferences go. Default: dataRoot() ($RETROVISOR_DATA_DIR…). */
  readonly dataDirectory?: string;
  /**
   * Where saved secrets go: the Electron shell passes its safeStorage store (electron/secret-store.ts);
   * default, for the browser shell and the CLI, the Secret Service through secret-tool.
   */
  readonly secretStore?: SecretStore;
}

/** The back end a shell drives: contract handlers, stream attachment, reports and events. */
export interface Backend {
  /** Implements every call of CONTRACT_CALLS; requests are already checked by the caller (invokeHandler). */
  readonly handlers: ContractHandlers;
  /**
   * Connects a shell's stream transport to the stream `streamId` (from openReplicaStream). Ids are
   * single use and expire; an unknown id gets `{type:'close', reason}` and a closed endpoint.
   */
  attachStream(streamId: string, endpoint: StreamEndpoint): void;
  /**
   * Serves a UI's input channel: each frame's bytes go to the named streams — only streams attached
   * here and still open (ids are single-use secrets handed to the UI that opened them).
   */
  attachInputChannel(endpoint: InputChannelEndpoint): void;
  /** Listens to replica state reports (the `run` command prints them); returns the unsubscribe. */
  onReplicaReport(listener: ReplicaReportListener): () => void;
  /** Listens to input the UI broadcast, as it is journaled (the `run` command prints it); returns the unsubscribe. */
  onInputRecorded(listener: (entries: readonly InputJournalEntry[], sessionId: string) => void): () => void;
  /** Listens for the end of the startup script (`run --script`); returns the unsubscribe. */
  onScriptResult(listener: (result: ScriptResult) => void): () => void;
  /** Listens to divergence reports (the `run` command prints them); returns the unsubscribe. */
  onDivergenceReport(listener: DivergenceReportListener): () => void;
  /** Sends an event to every UI listener (the shells forward events to the UI). */
  emit<K extends EventName>(event: K, payload: EventPayload<K>): void;
  /** Shortcut for emit('notice', notice); the notice is logged too. */
  emitNotice(notice: Notice): void;
  /** Subscribes to a contract event; returns the unsubscribe. */
  onEvent<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void;
  /** Listens to the remediation manager's checkpoint, remediation and alert events (`run --json` prints them). */
  onManagerEvent(listener: (event: ManagerEvent) => void): () => void;
  /** The built-in demo lab (started by startDemoLab); in-process callers (the tour, tests) read its guests. */
  readonly demo: DemoLabAccess;
  /** The keyring saved secrets go to (the profile library saves and removes them through it). */
  readonly secrets: SecretStore;
  /**
   * The next getStartup answers the session opened last, if still open (the Electron shell calls it
   * before reloading a window whose renderer was lost: the page gets its session back).
   */
  resumeLatestSession(): void;
  /** The desktop status (tray state, words, events for notifications), derived from the reports. */
  readonly desktop: DesktopStatusService;
  /** The user's preferences (the Electron shell reads close-to-tray and the notification settings). */
  readonly preferences: PreferencesStore;
  /** Closes every stream, SSH connection and the demo lab; later calls fail. */
  close(): Promise<void>;
}

/** Runs a synchronous handler body as a promise: a throw becomes a rejection, as for an async handler. */
function answer<T>(compute: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(compute()));
}

/** Creates the back end. */
export function createBackend(options: BackendOptions): Backend {
  const logger = options.logger;
  const redactor = options.redactor ?? SECRET_REDACTOR;
  const ssh = new SshL0Pool({ ...options.ssh, logger: logger.child({ component: 'ssh' }), redactor });
  const secrets = options.secretStore ?? new LibsecretStore({ logger: logger.child({ component: 'keyring' }), redactor });
  const events = new EventService({ logger, redactor });
  const sessions = new SessionService({ logger, redactor, workingDirectory: options.workingDirectory ?? process.cwd() });
  const streams = new StreamService({
    logger,
    sessions,
    connect: (replica, session, signal) =>
      connectReplica(
        replica,
        {
          profile: session.profile,
          baseDir: session.baseDir,
          ssh,
          ...(session.keyring === undefined ? {} : { keyring: session.keyring }),
          ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
        },
        signal,
      ),
    ...(options.streamIdTtlMs === undefined ? {} : { streamIdTtlMs: options.streamIdTtlMs }),
    ...(options.relay === undefined ? {} : { relay: options.relay }),
  });
  const journals = new InputJournalService({ logger, sessions, ...(options.inputJournalCapacity === undefined ? {} : { capacity: options.inputJournalCapacity }) });
  const divergences = new DivergenceService({ logger, sessions, evidence: new EvidenceStore(options.dataDirectory ?? dataRoot()) });
  const preferences = new PreferencesStore(options.dataDirectory ?? dataRoot(), logger);
  const replicaReports = new ReplicaReportService({ logger, sessions });
  const connectionTests = new ConnectionTestService({ logger, redactor });
  const library = new ProfileLibrary({ dataDirectory: options.dataDirectory ?? dataRoot(), secretStore: secrets });
  const savedProfiles = new ProfileLibraryService({ logger, sessions, library, secrets });
  const scriptResults = new Listeners<(result: ScriptResult) => void>(logger, 'script result');
  const demo = new DemoService({
    logger,
    openProfile: (document, source) => sessions.openDocument(document, source),
    sessionExists: (sessionId) => sessions.get(sessionId) !== undefined,
    closeSession: (sessionId, reason) => sessions.close(sessionId, reason),
    ...(options.demoLab === undefined ? {} : { lab: options.demoLab }),
  });
  const remediation = new RemediationService({
    logger,
    redactor,
    sessions,
    events,
    ssh,
    dataDirectory: options.dataDirectory ?? dataRoot(),
    simulatedL0: () => demo.lab?.l0 ?? null,
  });
  // The manager judges from what the UI reports: replica states and divergences.
  replicaReports.onReport((report) => remediation.replicaReport(report));
  divergences.onReport((report, evidenceFolder) => remediation.divergenceReport(report, evidenceFolder));
  // A session opened from the library keeps its profile's "last state" up to date.
  replicaReports.onReport((report) => savedProfiles.replicaReport(report));
  divergences.onReport((report) => savedProfiles.divergenceReport(report));
  // The tray and notifications follow the same reports, without the renderer.
  const desktop = new DesktopStatusService(logger);
  replicaReports.onReport((report, session) => desktop.replicaReport(report, session));
  divergences.onReport((report, _evidenceFolder, session) => desktop.divergenceReport(report, session));
  remediation.onManagerEvent((event) => desktop.managerEvent(event));
  events.on('remediation', (view) => desktop.remediationView(view));
  sessions.onSessionClosed((session) => desktop.sessionClosed(session.id));
  desktop.onChange((summary, happened) => events.emit('desktopStatus', { summary, events: happened }));
  const startup = new StartupSession({
    sessions,
    openDemo: () => demo.open(),
    ...(options.startupProfilePath === undefined ? {} : { profilePath: options.startupProfilePath }),
    ...(options.startupSavedProfileId === undefined ? {} : { openSaved: () => savedProfiles.open(options.startupSavedProfileId as string) }),
    ...(options.startupDemo === undefined ? {} : { demo: options.startupDemo }),
  });
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new Error('the back end is shut down');
  }

  /** A handler that refuses once the back end is shut down, then runs `body` (sync or async). */
  function whileOpen<Request, Response>(body: (request: Request) => Response | Promise<Response>): (request: Request) => Promise<Response> {
    return (request) =>
      new Promise<Response>((resolve) => {
        assertOpen();
        resolve(body(request));
      });
  }

  const handlers: ContractHandlers = {
    getStartup: whileOpen(
      async (): Promise<StartupInfo> => ({
        shell: options.shell,
        version: options.version,
        headless: options.headless,
        startupSession: await startup.get(),
        ...(options.startupScript === undefined ? {} : { startupScript: options.startupScript }),
        ...(options.startupScriptOptions === undefined ? {} : { startupScriptOptions: options.startupScriptOptions }),
      }),
    ),
    openProfileFile: whileOpen(({ path }) => sessions.openFile(path)),
    openProfileText: whileOpen(({ text, sourceName }) => sessions.openText(text, sourceName)),
    quickConnect: whileOpen(async ({ endpoints, password }) => {
      const result = sessions.quickConnect(endpoints, password);
      // Only the endpoints are remembered: the password is never handed to the preferences.
      const set = result.ok ? canonicalEndpointSet(endpoints) : null;
      if (set !== null) await preferences.rememberEndpoints(set);
      return result;
    }),
    getPreferences: whileOpen(() => preferences.get()),
    setConfirmSystemKeys: whileOpen(({ confirm }) => preferences.setConfirmSystemKeys(confirm)),
    setDesktopPreferences: whileOpen((change) => preferences.setDesktop(change)),
    getDesktopStatus: whileOpen(() => desktop.summary()),
    reportBroadcast: whileOpen(({ sessionId, enabled }) => desktop.broadcast(sessionId, enabled)),
    forgetRecentEndpoints: whileOpen(({ endpoints }) => preferences.forgetEndpoints(endpoints)),
    // Not refused after shutdown: closing what is already gone is harmless.
    closeSession: ({ sessionId }) =>
      answer(() => {
        sessions.close(sessionId, 'the session was closed');
      }),
    recordInput: whileOpen(({ sessionId, entries }) => journals.record(sessionId, entries)),
    exportInputJournal: whileOpen(({ sessionId }) => journals.exportJsonLines(sessionId)),
    reportScriptResult: whileOpen((result) => {
      logger.info('input script finished', { ...result });
      scriptResults.emit(result);
    }),
    reportDivergence: whileOpen((report) => divergences.report(report)),
    saveDivergenceScreen: whileOpen((screen) => divergences.saveScreen(screen)),
    openReplicaStream: whileOpen(({ sessionId, replicaId }) => streams.open(sessionId, replicaId)),
    getReplicaPassword: whileOpen(({ sessionId, replicaId }) => sessions.replicaPassword(sessionId, replicaId)),
    reportReplicaState: whileOpen((report) => replicaReports.report(report)),
    startDemoLab: whileOpen(({ replicas }) => demo.open(replicas)),
    getDemoStatus: whileOpen(() => demo.status()),
    setDemoFault: whileOpen(({ replicaId, fault }) => demo.setFault(replicaId, fault)),
    clearDemoFaults: whileOpen(({ replicaId }) => demo.clearFaults(replicaId)),
    demoL0Action: whileOpen(({ replicaId, action }) => demo.l0Action(replicaId, action)),
    getRemediationState: whileOpen(({ sessionId }) => remediation.view(sessionId)),
    takeCheckpoint: whileOpen(({ sessionId }) => remediation.takeCheckpoint(sessionId)),
    confirmRemediation: whileOpen(({ sessionId, planId, approve }) => remediation.confirm(sessionId, planId, approve)),
    replicaAction: whileOpen(({ sessionId, replicaId, action }) => remediation.replicaAction(sessionId, replicaId, action)),
    answerManagerCommand: whileOpen((answer) => remediation.answer(answer)),
    readInputJournal: whileOpen(({ sessionId, afterSeq, limit }) => journals.read(sessionId, afterSeq, limit)),
    testReplicaConnection: whileOpen(({ profile, replicaId }) => connectionTests.testReplica(profile, replicaId)),
    testL0Connection: whileOpen(({ profile, l0 }) => connectionTests.testL0(profile, l0)),
    listProfiles: whileOpen(() => library.list()),
    getSavedProfile: whileOpen(({ id }) => savedProfiles.get(id)),
    openSavedProfile: whileOpen(({ id }) => savedProfiles.open(id)),
    saveProfile: whileOpen(({ document, id, expectedRevision }) =>
      library.save(document, id === undefined ? {} : { id, ...(expectedRevision === undefined ? {} : { expectedRevision }) }),
    ),
    duplicateProfile: whileOpen(({ id, name }) => library.duplicate(id, name)),
    deleteProfile: whileOpen(({ id }) => library.delete(id)),
    restoreProfile: whileOpen(({ id }) => library.restore(id)),
    importProfiles: whileOpen(({ sources, name, intoId, expectedRevision }) =>
      library.import(sources, {
        ...(name === undefined ? {} : { name }),
        ...(intoId === undefined ? {} : { intoId }),
        ...(expectedRevision === undefined ? {} : { expectedRevision }),
      }),
    ),
    exportProfile: whileOpen(({ id }) => library.export(id)),
    getKeyringStatus: whileOpen(async (): Promise<KeyringStatus> => {
      const status = await secrets.status();
      // Copied field by field: only what the contract declares crosses to the UI.
      return status.available ? { available: true, backend: status.backend } : { available: false, reason: status.reason, hint: status.hint };
    }),
  };

  return {
    handlers,
    attachStream: (streamId, endpoint) => streams.attach(streamId, endpoint),
    attachInputChannel: (endpoint) => streams.attachInputChannel(endpoint),
    resumeLatestSession: () => startup.resumeLatest(),
    onReplicaReport: (listener) => replicaReports.onReport(listener),
    onInputRecorded: (listener) => journals.onInputRecorded(listener),
    onScriptResult: (listener) => scriptResults.add(listener),
    onDivergenceReport: (listener) => divergences.onReport(listener),
    onManagerEvent: (listener) => remediation.onManagerEvent(listener),
    emit: (event, payload) => events.emit(event, payload),
    emitNotice: (notice) => events.notice(notice),
    onEvent: (event, listener) => events.on(event, listener),
    demo,
    secrets,
    desktop,
    preferences,

    async close() {
      if (closed) return;
      closed = true;
      await remediation.close();
      await streams.closeAll('RetroVisor is shutting down');
      await savedProfiles.flush();
      await demo.stop();
      sessions.clear();
      replicaReports.clear();
      journals.clear();
      scriptResults.clear();
      divergences.clear();
      desktop.clear();
      events.clear();
      await ssh.close();
      logger.info('back end closed');
    },
  };
}
