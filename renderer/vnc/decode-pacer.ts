// Gives the page's main thread back while noVNC decodes a burst of screen data. noVNC decodes
// everything complete in its receive queue before it returns, so a full-screen update of a 1080p
// replica was one 20–50 ms task on the thread that also takes the user's input and draws the
// composite. The pacer lets noVNC decode rectangles until the task has run DECODE_BUDGET_MS, then
// pauses it at the next rectangle boundary (the way noVNC itself waits for a display flush), holds
// the channel's further bytes, and resumes in a later task. A task is then at most the budget plus one
// rectangle (TigerVNC sends at most 65536 pixels per rectangle: about a millisecond here).
// DOM-free: the noVNC members it touches are typed below, so it is tested in plain Node.

/** The parts of noVNC's RFB the pacer wraps and drives (noVNC 1.7 internals, see NOVNC.md). */
export interface PacedRfb {
  /** Decodes the current rectangle (header parsed); false when it must wait (for bytes, or a flush). */
  _handleRect(): boolean;
  /** While true, noVNC's message loop stops before the next message (set around display flushes). */
  _flushing: boolean;
  readonly _rfbConnectionState: string;
  readonly _sock: {
    readonly _rQi: number;
    readonly _rQlen: number;
    /** The receive handler: RFB._handleMessage (or the bench probe's wrapper around it). */
    readonly _eventHandlers: { readonly message: () => void };
  };
}

/** What the pacer asks of the transport while noVNC is paused. */
export interface DeliveryGate {
  /** Stop handing noVNC bytes (and acknowledging them) until release. */
  hold(): void;
  /** Hand over what was held. */
  release(): void;
  /**
   * noVNC threw while decoding in a resumed task, outside the message event the transport guards:
   * end the session with this error, as a throw in that event does.
   */
  fail(error: unknown): void;
}

/** How the pacer tells time and yields the thread; replaceable for tests. */
export interface PacerTiming {
  /** Milliseconds, monotonic. */
  readonly now: () => number;
  /** Runs `task` in a later task, behind pending input (a macrotask without setTimeout's clamping). */
  readonly nextTask: (task: () => void) => void;
}

/** Decoding goes on in one task until this much time has passed; well under a 60 Hz frame. */
export const DECODE_BUDGET_MS = 4;

/**
 * Wraps `rfb._handleRect` so that decoding pauses at a rectangle boundary once the current task has
 * spent DECODE_BUDGET_MS in it, and resumes in a later task. The first rectangle of every task is
 * always decoded, so decoding always progresses.
 */
export function paceDecoding(rfb: PacedRfb, gate: DeliveryGate, timing: PacerTiming = defaultPacerTiming()): void {
  const handleRect = rfb._handleRect.bind(rfb);
  let taskStart: number | null = null;
  let paused = false;

  const resume = (): void => {
    paused = false;
    rfb._flushing = false;
    try {
      if (rfb._rfbConnectionState === 'connected' && rfb._sock._rQlen > rfb._sock._rQi) rfb._sock._eventHandlers.message();
    } catch (error) {
      // A broken stream (a hostile server's) fails here as it would in a message event; left
      // uncaught, the gate would stay held and the session would never see its server close.
      gate.fail(error);
      return;
    }
    // Paused again within the resumed work: the gate stays held and a later task goes on.
    if (!paused) gate.release();
  };

  rfb._handleRect = (): boolean => {
    const now = timing.now();
    if (taskStart === null) {
      // The first rectangle of this task: a microtask, run as the task ends, forgets the start.
      taskStart = now;
      queueMicrotask(() => (taskStart = null));
    } else if (now - taskStart >= DECODE_BUDGET_MS && !rfb._flushing) {
      paused = true;
      rfb._flushing = true;
      gate.hold();
      timing.nextTask(resume);
      return false;
    }
    return handleRect();
  };
}

/** performance.now() and a MessageChannel post: a macrotask without setTimeout's 4 ms clamp on nesting. */
export function defaultPacerTiming(): PacerTiming {
  return { now: () => performance.now(), nextTask: postTask };
}

let taskPort: MessagePort | null = null;
const queuedTasks: (() => void)[] = [];

function postTask(task: () => void): void {
  if (taskPort === null) {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => queuedTasks.shift()?.();
    // Node keeps a process alive while a port listens; a browser has no unref.
    (channel.port1 as MessagePort & { unref?: () => void }).unref?.();
    taskPort = channel.port2;
  }
  queuedTasks.push(task);
  taskPort.postMessage(null);
}
