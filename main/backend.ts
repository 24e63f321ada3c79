// The back end both shells share: the contract's call handlers (sessions, profiles, secrets, replica
// streams), stream attachment by single-use id, replica state reports and contract events.
// Node-side; the Electron shell and the browser shell each carry it to the UI their own way.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  type ContractHandlers,
  type DivergenceReport,
  type EventName,
  type EventPayload,
  type Notice,
  type OpenResult,
  type ReplicaStatusReport,
  type ScriptResult,
  type SessionInfo,
  type StartupInfo,
} from '../common/contract';
import { quickConnectProfile } from '../common/endpoint';
import type { InputJournalEntry } from '../common/input/input-events';
import { InputJournal } from '../common/input/input-journal';
import type { InputScriptStep } from '../common/input/input-script';
import { MAX_PROFILE_BYTES, parseProfileText, validateProfile, type Profile, type ProfileProblem } from '../common/profile';
import { DemoService, type DemoLabAccess, type DemoServiceOptions } from './demo-service';
import { EvidenceStore, dataRoot } from './divergence-evidence';
import { errorMessage, SECRET_REDACTOR, type Logger, type SecretRedactor } from './logger';
import { connectReplica } from './replica-transport';
import { readSmallFile, resolveSecret, resolveUserPath } from './secrets';
import { SessionStore, summarizeSession } from './sessions';
import { SshL0Pool, type SshL0Options } from './ssh-l0';
import { serveInputChannel, type InputChannelEndpoint } from './input-channel';
import { startStreamRelay, type StreamEndpoint, type StreamRelay, type StreamRelayOptions } from './stream-relay';

/** An id from openReplicaStream that is not attached within this long is forgotten. */
export const STREAM_ID_TTL_MS = 30_000;
/** Stream ids waiting to be attached, at most (a UI that opens streams and never attaches is stopped). */
export const MAX_PENDING_STREAMS = 64;
/** Longest stream id accepted by attachStream (ids are 32 characters). */
const MAX_STREAM_ID_CHARS = 128;

/** How a shell configures its back end. */
export interface BackendOptions {
  readonly shell: 'electron' | 'browser';
  /** True under `retrovisor run`: no person is watching. */
  readonly headless: boolean;
  readonly version: string;
  /** The profile named on the command line; opened once, on the first getStartup. */
  readonly startupProfilePath?: string;
  /** `retrovisor run --script`: steps the UI plays into the startup session (handed over by getStartup). */
  readonly startupScript?: readonly InputScriptStep[];
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
  /** Where divergence evidence goes (under `<profile>/evidence/`). Default: dataRoot() ($RETROVISOR_DATA_DIR…). */
  readonly dataDirectory?: string;
}

/** A divergence report with the evidence folder started for it (absolute path; null when none). */
export type DivergenceReportListener = (report: DivergenceReport, evidenceFolder: string | null, session: SessionInfo) => void;

/** A replica state report with the (secret-free) session it belongs to. */
export type ReplicaReportListener = (report: ReplicaStatusReport, session: SessionInfo) => void;

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
  /** The built-in demo lab (started by startDemoLab); in-process callers (the tour, tests) read its guests. */
  readonly demo: DemoLabAccess;
  /** Closes every stream, SSH connection and the demo lab; later calls fail. */
  close(): Promise<void>;
}

interface PendingStream {
  readonly sessionId: string;
  readonly replicaId: string;
  readonly timer: NodeJS.Timeout;
}

interface ActiveStream {
  readonly sessionId: string;
  readonly relay: StreamRelay;
}

/** Runs a synchronous handler body as a promise: a throw becomes a rejection, as for an async handler. */
function answer<T>(compute: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(compute()));
}

function problemResult(message: string): OpenResult {
  return { ok: false, problems: [{ path: '$', message }] };
}

/** Creates the back end. */
export function createBackend(options: BackendOptions): Backend {
  const logger = options.logger;
  const redactor = options.redactor ?? SECRET_REDACTOR;
  const workingDirectory = options.workingDirectory ?? process.cwd();
  const streamIdTtlMs = options.streamIdTtlMs ?? STREAM_ID_TTL_MS;
  const sessions = new SessionStore(redactor);
  const ssh = new SshL0Pool({ ...options.ssh, logger: logger.child({ component: 'ssh' }), redactor });
  const pendingStreams = new Map<string, PendingStream>();
  const activeStreams = new Set<ActiveStream>();
  /** Attached streams by id, for the input channel (removed when the relay ends). */
  const streamsById = new Map<string, StreamRelay>();
  const inputChannels = new Set<InputChannelEndpoint>();
  const reportListeners = new Set<ReplicaReportListener>();
  const journals = new Map<string, InputJournal>();
  const inputListeners = new Set<(entries: readonly InputJournalEntry[], sessionId: string) => void>();
  const scriptListeners = new Set<(result: ScriptResult) => void>();
  const divergenceListeners = new Set<DivergenceReportListener>();
  const evidence = new EvidenceStore(options.dataDirectory ?? dataRoot());
  const eventListeners = new Map<EventName, Set<(payload: never) => void>>();
  let startup: Promise<OpenResult> | null = null;
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new Error('the back end is shut down');
  }

  function openSession(
    validation: { readonly ok: true; readonly profile: Profile } | { readonly ok: false; readonly problems: readonly ProfileProblem[] },
    baseDir: string,
    source: string,
  ): OpenResult {
    if (!validation.ok) {
      logger.info('profile rejected', { source, problems: validation.problems.length });
      return { ok: false, problems: validation.problems };
    }
    try {
      const session = sessions.open(validation.profile, baseDir, source);
      logger.info('session opened', { sessionId: session.id, source, replicas: validation.profile.replicas.length });
      return { ok: true, session: summarizeSession(session) };
    } catch (error) {
      return problemResult(errorMessage(error));
    }
  }

  async function openProfileFile(filePath: string): Promise<OpenResult> {
    const absolutePath = resolveUserPath(filePath, workingDirectory);
    let text: string;
    try {
      text = (await readSmallFile(absolutePath, MAX_PROFILE_BYTES, 'profile')).toString('utf8');
    } catch (error) {
      return problemResult(`${errorMessage(error)} — check the path`);
    }
    // Editors on some systems write a byte-order mark; JSON.parse would reject it.
    if (text.startsWith('\uFEFF')) text = text.slice(1);
    return openSession(parseProfileText(text), path.dirname(absolutePath), absolutePath);
  }

  const demo = new DemoService({
    logger,
    openProfile: (document, source) => openSession(validateProfile(document), workingDirectory, source),
    sessionExists: (sessionId) => sessions.get(sessionId) !== undefined,
    closeSession: (sessionId, reason) => {
      closeStreamsOf(sessionId, reason);
      journals.delete(sessionId);
      if (sessions.delete(sessionId)) logger.info('session closed', { sessionId, reason });
    },
    ...(options.demoLab === undefined ? {} : { lab: options.demoLab }),
  });

  /** The session opened at start-up: the command line's profile, else the demo lab with --demo. */
  function openStartupSession(): Promise<OpenResult> | null {
    if (options.startupProfilePath !== undefined) return openProfileFile(options.startupProfilePath);
    if (options.startupDemo === true) return demo.open().catch((error: unknown) => problemResult(errorMessage(error)));
    return null;
  }

  function closeStreamsOf(sessionId: string, reason: string): void {
    for (const [streamId, pending] of pendingStreams) {
      if (pending.sessionId !== sessionId) continue;
      clearTimeout(pending.timer);
      pendingStreams.delete(streamId);
    }
    for (const stream of activeStreams) {
      if (stream.sessionId === sessionId) stream.relay.close(reason);
    }
  }

  function emit<K extends EventName>(event: K, payload: EventPayload<K>): void {
    for (const listener of eventListeners.get(event) ?? []) {
      try {
        (listener as (payload: EventPayload<K>) => void)(payload);
      } catch (error) {
        logger.error('event listener failed', { event, error });
      }
    }
  }

  const handlers: ContractHandlers = {
    async getStartup(): Promise<StartupInfo> {
      assertOpen();
      if (startup === null) startup = openStartupSession();
      if (startup !== null) {
        // A page reloaded after the user closed the startup session opens it again.
        const previous = await startup;
        if (previous.ok && sessions.get(previous.session.sessionId) === undefined) startup = openStartupSession();
      }
      return {
        shell: options.shell,
        version: options.version,
        headless: options.headless,
        startupSession: startup === null ? null : await startup,
        ...(options.startupScript === undefined ? {} : { startupScript: options.startupScript }),
      };
    },

    async openProfileFile({ path: filePath }) {
      assertOpen();
      return openProfileFile(filePath);
    },

    openProfileText: ({ text, sourceName }) =>
      answer(() => {
        assertOpen();
        return openSession(parseProfileText(text.startsWith('\uFEFF') ? text.slice(1) : text), workingDirectory, sourceName);
      }),

    quickConnect: ({ endpoints, password }) =>
      answer(() => {
        assertOpen();
        // Registered before anything else happens with it: it must never reach a log.
        if (password !== undefined) redactor.add(password);
        return openSession(quickConnectProfile(endpoints, password), workingDirectory, 'quick connect');
      }),

    closeSession: ({ sessionId }) =>
      answer(() => {
        closeStreamsOf(sessionId, 'the session was closed');
        journals.delete(sessionId);
        if (sessions.delete(sessionId)) logger.info('session closed', { sessionId });
      }),

    recordInput: ({ sessionId, entries }) =>
      answer(() => {
        assertOpen();
        if (sessions.get(sessionId) === undefined) {
          // Late input of a session the UI just closed (or the demo lab replaced): nothing to keep it for.
          journals.delete(sessionId);
          return;
        }
        let journal = journals.get(sessionId);
        if (journal === undefined) {
          journal = new InputJournal(options.inputJournalCapacity);
          journals.set(sessionId, journal);
        }
        const refused = journal.append(entries);
        if (refused > 0) logger.warn('input journal entries out of sequence were refused', { sessionId, refused });
        for (const listener of inputListeners) {
          try {
            listener(entries, sessionId);
          } catch (error) {
            logger.error('input listener failed', { error });
          }
        }
      }),

    exportInputJournal: ({ sessionId }) =>
      answer(() => {
        assertOpen();
        if (sessions.get(sessionId) === undefined) throw new Error(`no open session "${sessionId}": open the session again to journal its input`);
        const journal = journals.get(sessionId);
        return { jsonLines: journal?.toJsonLines() ?? '', entries: journal?.size ?? 0, dropped: journal?.dropped ?? 0 };
      }),

    reportScriptResult: (result) =>
      answer(() => {
        assertOpen();
        logger.info('input script finished', { ...result });
        for (const listener of scriptListeners) {
          try {
            listener(result);
          } catch (error) {
            logger.error('script result listener failed', { error });
          }
        }
      }),

    async reportDivergence(report) {
      assertOpen();
      const session = sessions.get(report.sessionId);
      if (!session) {
        logger.debug('divergence report for a closed session', { sessionId: report.sessionId });
        return { evidenceId: null };
      }
      const replicaIds = session.profile.replicas.map((replica) => replica.id);
      const unknown = [...report.outliers, ...report.agreeing].find((id) => !replicaIds.includes(id));
      if (unknown !== undefined) throw new Error(`the profile "${session.profile.name}" has no replica "${unknown}"`);
      let started: { evidenceId: string; folder: string } | null = null;
      if (report.kind === 'divergence' && report.change === 'new') {
        try {
          started = await evidence.start(report, session.profile.name, replicaIds, Date.now());
        } catch (error) {
          logger.warn('cannot write divergence evidence', { sessionId: report.sessionId, error: errorMessage(error) });
        }
      }
      logger.info(report.kind === 'consensus' ? 'replicas agree again' : 'replicas diverge', { ...report, evidence: started?.folder ?? null });
      const info = summarizeSession(session);
      for (const listener of divergenceListeners) {
        try {
          listener(report, started?.folder ?? null, info);
        } catch (error) {
          logger.error('divergence listener failed', { error });
        }
      }
      return { evidenceId: started?.evidenceId ?? null, evidenceFolder: started?.folder ?? null };
    },

    async saveDivergenceScreen({ sessionId, evidenceId, replicaId, pngBase64 }) {
      assertOpen();
      await evidence.saveScreen(sessionId, evidenceId, replicaId, Buffer.from(pngBase64, 'base64'));
    },

    openReplicaStream: ({ sessionId, replicaId }) =>
      answer(() => {
        assertOpen();
        const found = sessions.replica(sessionId, replicaId);
        if ('error' in found) throw new Error(found.error);
        if (pendingStreams.size >= MAX_PENDING_STREAMS) {
          throw new Error(`${MAX_PENDING_STREAMS} streams are waiting to be attached: attach or let them expire before opening more`);
        }
        const streamId = randomBytes(24).toString('base64url');
        const timer = setTimeout(() => {
          if (pendingStreams.delete(streamId)) logger.debug('stream id expired unused', { sessionId, replicaId });
        }, streamIdTtlMs);
        timer.unref();
        pendingStreams.set(streamId, { sessionId, replicaId, timer });
        return { streamId };
      }),

    async getReplicaPassword({ sessionId, replicaId }) {
      assertOpen();
      const found = sessions.replica(sessionId, replicaId);
      if ('error' in found) return { password: null, error: found.error };
      const reference = found.replica.vnc.password;
      if (reference === undefined) return { password: null };
      try {
        return { password: await resolveSecret(reference, found.session.baseDir, redactor) };
      } catch (error) {
        const message = `the password of replica "${replicaId}": ${errorMessage(error)}`;
        logger.warn('cannot resolve a VNC password', { sessionId, replicaId, error: message });
        return { password: null, error: message };
      }
    },

    reportReplicaState: (report) =>
      answer(() => {
        assertOpen();
        const session = sessions.get(report.sessionId);
        if (!session) {
          // A late report from a session the UI just closed: nothing to pair it with.
          logger.debug('state report for a closed session', { sessionId: report.sessionId, replicaId: report.replicaId });
          return;
        }
        if (!session.profile.replicas.some((replica) => replica.id === report.replicaId)) {
          logger.warn('state report for an unknown replica', { sessionId: report.sessionId, replicaId: report.replicaId });
          return;
        }
        logger.info('replica state', { ...report });
        const info = summarizeSession(session);
        for (const listener of reportListeners) {
          try {
            listener(report, info);
          } catch (error) {
            logger.error('replica report listener failed', { error });
          }
        }
      }),

    async startDemoLab({ replicas }) {
      assertOpen();
      return demo.open(replicas);
    },

    async getDemoStatus() {
      assertOpen();
      return demo.status();
    },

    async setDemoFault({ replicaId, fault }) {
      assertOpen();
      return demo.setFault(replicaId, fault);
    },

    async clearDemoFaults({ replicaId }) {
      assertOpen();
      return demo.clearFaults(replicaId);
    },

    async demoL0Action({ replicaId, action }) {
      assertOpen();
      return demo.l0Action(replicaId, action);
    },
  };

  function refuseEndpoint(endpoint: StreamEndpoint, reason: string): void {
    try {
      endpoint.sendControl({ type: 'close', reason });
      endpoint.close();
    } catch (error) {
      logger.debug('a refused stream endpoint failed while closing', { error });
    }
  }

  return {
    handlers,

    attachStream(streamId, endpoint) {
      if (closed) {
        refuseEndpoint(endpoint, 'RetroVisor is shutting down');
        return;
      }
      const pending = typeof streamId === 'string' && streamId.length <= MAX_STREAM_ID_CHARS ? pendingStreams.get(streamId) : undefined;
      if (!pending) {
        logger.warn('stream attach refused: unknown or expired stream id');
        refuseEndpoint(endpoint, 'unknown or expired stream id: open the stream again');
        return;
      }
      // Single use: the id is gone whatever happens next.
      pendingStreams.delete(streamId);
      clearTimeout(pending.timer);
      const found = sessions.replica(pending.sessionId, pending.replicaId);
      if ('error' in found) {
        refuseEndpoint(endpoint, found.error);
        return;
      }
      const { session, replica } = found;
      const relay = startStreamRelay(
        endpoint,
        (signal) =>
          connectReplica(
            replica,
            {
              profile: session.profile,
              baseDir: session.baseDir,
              ssh,
              ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
            },
            signal,
          ),
        { ...options.relay, logger: logger.child({ sessionId: session.id, replicaId: replica.id }) },
      );
      const active: ActiveStream = { sessionId: session.id, relay };
      activeStreams.add(active);
      streamsById.set(streamId, relay);
      void relay.done.then(() => {
        activeStreams.delete(active);
        streamsById.delete(streamId);
      });
    },

    attachInputChannel(endpoint) {
      if (closed) {
        endpoint.close('RetroVisor is shutting down', false);
        return;
      }
      inputChannels.add(endpoint);
      endpoint.onClose(() => inputChannels.delete(endpoint));
      serveInputChannel(endpoint, (streamId) => streamsById.get(streamId), logger.child({ component: 'input-channel' }));
    },

    onReplicaReport(listener) {
      reportListeners.add(listener);
      return () => reportListeners.delete(listener);
    },

    onInputRecorded(listener) {
      inputListeners.add(listener);
      return () => inputListeners.delete(listener);
    },

    onScriptResult(listener) {
      scriptListeners.add(listener);
      return () => scriptListeners.delete(listener);
    },

    onDivergenceReport(listener) {
      divergenceListeners.add(listener);
      return () => divergenceListeners.delete(listener);
    },

    emit,

    emitNotice(notice) {
      const clean: Notice = { level: notice.level, message: redactor.redact(notice.message) };
      if (clean.level === 'error') logger.error('notice', { message: clean.message });
      else if (clean.level === 'warning') logger.warn('notice', { message: clean.message });
      else logger.info('notice', { message: clean.message });
      emit('notice', clean);
    },

    onEvent(event, listener) {
      const listeners = eventListeners.get(event) ?? new Set();
      eventListeners.set(event, listeners);
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    demo,

    async close() {
      if (closed) return;
      closed = true;
      for (const pending of pendingStreams.values()) clearTimeout(pending.timer);
      pendingStreams.clear();
      const relays = [...activeStreams].map((stream) => stream.relay);
      for (const relay of relays) relay.close('RetroVisor is shutting down');
      for (const channel of [...inputChannels]) channel.close('RetroVisor is shutting down', false);
      inputChannels.clear();
      await Promise.all(relays.map((relay) => relay.done));
      await demo.stop();
      sessions.clear();
      reportListeners.clear();
      inputListeners.clear();
      scriptListeners.clear();
      divergenceListeners.clear();
      journals.clear();
      eventListeners.clear();
      await ssh.close();
      logger.info('back end closed');
    },
  };
}
