// The connection lifecycle of one replica's VNC session as an explicit transition table:
// every state change goes through `transition`, which refuses (and names) illegal ones. Pure.

/** Wire names of the states, as the UI labels them and `retrovisor run --json` prints them. */
export type ReplicaStateName =
  | 'idle'
  | 'connecting'
  | 'needs-password'
  | 'connected'
  | 'auth-failed'
  | 'disconnected'
  | 'reconnecting'
  | 'closed';

export type ReplicaState =
  | { readonly name: 'idle' }
  | { readonly name: 'connecting'; readonly attempt: number }
  | { readonly name: 'needs-password'; readonly attempt: number }
  /** `attempt` and `sinceMs` let a connection that fails right after connecting keep backing off. */
  | { readonly name: 'connected'; readonly width: number; readonly height: number; readonly attempt: number; readonly sinceMs: number }
  | { readonly name: 'auth-failed'; readonly reason: string }
  | { readonly name: 'disconnected'; readonly reason: string; readonly attempt: number }
  | { readonly name: 'reconnecting'; readonly reason: string; readonly attempt: number; readonly retryAtMs: number }
  | { readonly name: 'closed' };

export type ReplicaEvent =
  /** The user (or the app) asks to connect; also a manual "retry now". */
  | { readonly type: 'connect' }
  | { readonly type: 'credentials-required' }
  | { readonly type: 'credentials-supplied' }
  | { readonly type: 'connected'; readonly width: number; readonly height: number; readonly nowMs: number }
  | { readonly type: 'resized'; readonly width: number; readonly height: number }
  | { readonly type: 'security-failure'; readonly reason: string }
  | { readonly type: 'dropped'; readonly reason: string; readonly nowMs: number }
  | { readonly type: 'schedule-retry'; readonly nowMs: number }
  | { readonly type: 'retry-due' }
  | { readonly type: 'close' };

export type TransitionResult =
  | { readonly ok: true; readonly state: ReplicaState }
  | { readonly ok: false; readonly state: ReplicaState; readonly error: string };

/** First reconnect delay; doubles per failed attempt up to RECONNECT_MAX_DELAY_MS (like virt-viewer --reconnect, but bounded). */
export const RECONNECT_BASE_DELAY_MS = 1000;
export const RECONNECT_MAX_DELAY_MS = 8000;
/** A connection that lasted this long resets the backoff; one that fails sooner (a hostile or broken server) keeps backing off. */
export const STABLE_CONNECTION_MS = 10_000;

/** Delay before reconnect attempt number `attempt` (1-based). */
export function reconnectDelayMs(attempt: number): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 16));
  return Math.min(RECONNECT_BASE_DELAY_MS * 2 ** exponent, RECONNECT_MAX_DELAY_MS);
}

function refuse(state: ReplicaState, event: ReplicaEvent): TransitionResult {
  return { ok: false, state, error: `illegal transition: "${event.type}" in state "${state.name}"` };
}

function attemptOf(state: ReplicaState): number {
  return 'attempt' in state ? state.attempt : 0;
}

/** Applies one event; an event that makes no sense in the current state is refused and the state kept. */
export function transition(state: ReplicaState, event: ReplicaEvent): TransitionResult {
  const ok = (next: ReplicaState): TransitionResult => ({ ok: true, state: next });
  switch (event.type) {
    case 'connect':
      // From any resting state: a first connect, a manual retry, or a retry after a new password.
      if (state.name === 'idle' || state.name === 'auth-failed' || state.name === 'disconnected' || state.name === 'reconnecting' || state.name === 'closed') {
        return ok({ name: 'connecting', attempt: 0 });
      }
      return refuse(state, event);
    case 'credentials-required':
      if (state.name === 'connecting') return ok({ name: 'needs-password', attempt: state.attempt });
      return refuse(state, event);
    case 'credentials-supplied':
      if (state.name === 'needs-password') return ok({ name: 'connecting', attempt: state.attempt });
      return refuse(state, event);
    case 'connected':
      if (state.name === 'connecting' || state.name === 'needs-password') {
        return ok({ name: 'connected', width: event.width, height: event.height, attempt: state.attempt, sinceMs: event.nowMs });
      }
      return refuse(state, event);
    case 'resized':
      if (state.name === 'connected') return ok({ ...state, width: event.width, height: event.height });
      return refuse(state, event);
    case 'security-failure':
      if (state.name === 'connecting' || state.name === 'needs-password') return ok({ name: 'auth-failed', reason: event.reason });
      return refuse(state, event);
    case 'dropped':
      if (state.name === 'connecting' || state.name === 'needs-password' || state.name === 'connected') {
        // A session that stayed connected starts its backoff afresh; a failed attempt, or a connection
        // that failed right away, keeps counting (no tight reconnect loop against a broken server).
        const stable = state.name === 'connected' && event.nowMs - state.sinceMs >= STABLE_CONNECTION_MS;
        const attempt = stable ? 0 : attemptOf(state);
        return ok({ name: 'disconnected', reason: event.reason, attempt });
      }
      // A failed auth is followed by the server closing the socket: the auth failure is the news.
      if (state.name === 'auth-failed' || state.name === 'closed') return ok(state);
      return refuse(state, event);
    case 'schedule-retry':
      if (state.name === 'disconnected') {
        const attempt = state.attempt + 1;
        return ok({ name: 'reconnecting', reason: state.reason, attempt, retryAtMs: event.nowMs + reconnectDelayMs(attempt) });
      }
      return refuse(state, event);
    case 'retry-due':
      if (state.name === 'reconnecting') return ok({ name: 'connecting', attempt: state.attempt });
      return refuse(state, event);
    case 'close':
      return ok({ name: 'closed' });
  }
}

/** A short human label for a state ("reconnecting in 3 s"), given the current time. */
export function describeReplicaState(state: ReplicaState, nowMs: number): string {
  switch (state.name) {
    case 'idle':
      return 'not connected';
    case 'connecting':
      return state.attempt > 0 ? `connecting (attempt ${state.attempt + 1})` : 'connecting';
    case 'needs-password':
      return 'needs password';
    case 'connected':
      return `connected ${state.width}×${state.height}`;
    case 'auth-failed':
      return `auth failed: ${state.reason}`;
    case 'disconnected':
      return `disconnected: ${state.reason}`;
    case 'reconnecting':
      return `reconnecting in ${Math.max(0, Math.ceil((state.retryAtMs - nowMs) / 1000))} s`;
    case 'closed':
      return 'closed';
  }
}
