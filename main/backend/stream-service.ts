// Replica byte streams: single-use stream ids that expire, their attachment to a shell's transport
// (one relay per stream), the UI's input channels that write into attached streams, closing a
// session's streams when it closes, and every stream on shutdown. Node-side.

import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { ReplicaConfig } from '../../common/profile';
import { serveInputChannel, type InputChannelEndpoint } from '../input-channel';
import type { Logger } from '../logger';
import type { Session } from '../sessions';
import { startStreamRelay, type StreamEndpoint, type StreamRelay, type StreamRelayOptions } from '../stream-relay';
import type { SessionService } from './session-service';

/** An id from openReplicaStream that is not attached within this long is forgotten. */
export const STREAM_ID_TTL_MS = 30_000;
/** Stream ids waiting to be attached, at most (a UI that opens streams and never attaches is stopped). */
export const MAX_PENDING_STREAMS = 64;
/** Longest stream id accepted by attachStream (ids are 32 characters). */
const MAX_STREAM_ID_CHARS = 128;

/** Opens the server side of a replica's stream (TCP, or an SSH channel through its L0). */
export type ReplicaConnector = (replica: ReplicaConfig, session: Session, signal: AbortSignal) => Promise<Duplex>;

/** What the stream service needs. */
export interface StreamServiceOptions {
  readonly logger: Logger;
  /** Where stream ids find their replica; a closed session's streams are closed. */
  readonly sessions: SessionService;
  readonly connect: ReplicaConnector;
  /** Default STREAM_ID_TTL_MS. */
  readonly streamIdTtlMs?: number;
  /** Default MAX_PENDING_STREAMS. */
  readonly maxPendingStreams?: number;
  /** Flow-control tuning of the relays (tests use small windows). */
  readonly relay?: Omit<StreamRelayOptions, 'logger'>;
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

/** The back end's replica streams and input channels. */
export class StreamService {
  private readonly pending = new Map<string, PendingStream>();
  private readonly active = new Set<ActiveStream>();
  /** Attached streams by id, for the input channels (removed when the relay ends). */
  private readonly streamsById = new Map<string, StreamRelay>();
  private readonly inputChannels = new Set<InputChannelEndpoint>();
  private readonly streamIdTtlMs: number;
  private readonly maxPendingStreams: number;
  private closed = false;

  constructor(private readonly options: StreamServiceOptions) {
    this.streamIdTtlMs = options.streamIdTtlMs ?? STREAM_ID_TTL_MS;
    this.maxPendingStreams = options.maxPendingStreams ?? MAX_PENDING_STREAMS;
    options.sessions.onSessionClosed((session, reason) => this.closeSessionStreams(session.id, reason));
  }

  /** Stream ids handed out and not yet attached nor expired. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Relays running now. */
  get activeCount(): number {
    return this.active.size;
  }

  /** A new single-use stream id for a replica of an open session (attach it within the TTL); throws why not. */
  open(sessionId: string, replicaId: string): { streamId: string } {
    const found = this.options.sessions.replica(sessionId, replicaId);
    if ('error' in found) throw new Error(found.error);
    if (this.pending.size >= this.maxPendingStreams) {
      throw new Error(`${this.maxPendingStreams} streams are waiting to be attached: attach or let them expire before opening more`);
    }
    const streamId = randomBytes(24).toString('base64url');
    const timer = setTimeout(() => {
      if (this.pending.delete(streamId)) this.options.logger.debug('stream id expired unused', { sessionId, replicaId });
    }, this.streamIdTtlMs);
    timer.unref();
    this.pending.set(streamId, { sessionId, replicaId, timer });
    return { streamId };
  }

  /**
   * Connects a shell's transport to the stream `streamId` and relays it. The id is used up whatever
   * happens; an unknown or expired id (or a closed session) gets `{type:'close', reason}` and a closed endpoint.
   */
  attach(streamId: string, endpoint: StreamEndpoint): void {
    if (this.closed) {
      this.refuse(endpoint, 'RetroVisor is shutting down');
      return;
    }
    const pending = typeof streamId === 'string' && streamId.length <= MAX_STREAM_ID_CHARS ? this.pending.get(streamId) : undefined;
    if (!pending) {
      this.options.logger.warn('stream attach refused: unknown or expired stream id');
      this.refuse(endpoint, 'unknown or expired stream id: open the stream again');
      return;
    }
    this.pending.delete(streamId);
    clearTimeout(pending.timer);
    const found = this.options.sessions.replica(pending.sessionId, pending.replicaId);
    if ('error' in found) {
      this.refuse(endpoint, found.error);
      return;
    }
    const { session, replica } = found;
    const relay = startStreamRelay(endpoint, (signal) => this.options.connect(replica, session, signal), {
      ...this.options.relay,
      logger: this.options.logger.child({ sessionId: session.id, replicaId: replica.id }),
    });
    const active: ActiveStream = { sessionId: session.id, relay };
    this.active.add(active);
    this.streamsById.set(streamId, relay);
    void relay.done.then(() => {
      this.active.delete(active);
      this.streamsById.delete(streamId);
    });
  }

  /** Serves a UI's input channel: each frame's bytes go to the named streams attached here and still open. */
  attachInputChannel(endpoint: InputChannelEndpoint): void {
    if (this.closed) {
      endpoint.close('RetroVisor is shutting down', false);
      return;
    }
    this.inputChannels.add(endpoint);
    endpoint.onClose(() => this.inputChannels.delete(endpoint));
    serveInputChannel(endpoint, (streamId) => this.streamOf(streamId), this.options.logger.child({ component: 'input-channel' }));
  }

  /** The attached, not yet ended stream with this id. */
  streamOf(streamId: string): StreamRelay | undefined {
    return this.streamsById.get(streamId);
  }

  /** Forgets a session's unattached ids and closes its streams, telling the UI `reason`. */
  closeSessionStreams(sessionId: string, reason: string): void {
    for (const [streamId, pending] of this.pending) {
      if (pending.sessionId !== sessionId) continue;
      clearTimeout(pending.timer);
      this.pending.delete(streamId);
    }
    for (const stream of this.active) {
      if (stream.sessionId === sessionId) stream.relay.close(reason);
    }
  }

  /** Closes every stream and input channel (telling the UI `reason`) and refuses new ones; resolves once every relay ended. */
  async closeAll(reason: string): Promise<void> {
    this.closed = true;
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
    const relays = [...this.active].map((stream) => stream.relay);
    for (const relay of relays) relay.close(reason);
    for (const channel of [...this.inputChannels]) channel.close(reason, false);
    this.inputChannels.clear();
    await Promise.all(relays.map((relay) => relay.done));
  }

  private refuse(endpoint: StreamEndpoint, reason: string): void {
    try {
      endpoint.sendControl({ type: 'close', reason });
      endpoint.close();
    } catch (error) {
      this.options.logger.debug('a refused stream endpoint failed while closing', { error });
    }
  }
}
