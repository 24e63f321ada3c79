// One demo replica "process": a guest desktop served by an RFB server on a fixed port, with its
// faults, and the life cycle the simulated L0 drives (boot, reset in place, halt, crash). Runs in
// Node (it owns a listening socket and timers).

import { FaultState, type Fault } from './faults';
import { GuestDesktop, type GuestSnapshot } from './guest-desktop';
import { textToKeysyms } from './keysyms';
import { RfbServer, type RfbInputSink } from './rfb-server';
import { type Size } from './framebuffer';

/** Milliseconds on the caller's clock; drives the cursor blink phase. */
export interface DemoClock {
  now(): number;
}

/** A replica process is running, stopped, or dead after a crash fault. */
export type ReplicaProcessState = 'running' | 'shut off' | 'crashed';

/** How to build a replica. */
export interface DemoReplicaOptions {
  readonly id: string;
  readonly label: string;
  /** The libvirt-like domain name the simulated L0 knows it by. */
  readonly domain: string;
  readonly size: Size;
  /** Title bar text of its guest. */
  readonly title: string;
  /** Sent in ServerInit. */
  readonly desktopName: string;
  readonly host: string;
  /** 0 = a free port, chosen on first boot and kept for the replica's lifetime. */
  readonly port: number;
  readonly password?: string;
  readonly clock: DemoClock;
  readonly cursorBlinkMs?: number;
  readonly random?: () => number;
  readonly log?: (message: string) => void;
}

/** A demo replica; boot() it before use. */
export class DemoReplica {
  private processState: ReplicaProcessState = 'shut off';
  private guestDesktop: GuestDesktop | null = null;
  private server: RfbServer | null = null;
  private blinkTimer: NodeJS.Timeout | null = null;
  private boundPort: number;
  readonly faults: FaultState;

  constructor(private readonly options: DemoReplicaOptions) {
    this.boundPort = options.port;
    this.faults = new FaultState(options.random);
  }

  get id(): string {
    return this.options.id;
  }

  get label(): string {
    return this.options.label;
  }

  get domain(): string {
    return this.options.domain;
  }

  get host(): string {
    return this.options.host;
  }

  /** The replica's port (0 until the first boot when a free port was asked for). */
  get port(): number {
    return this.boundPort;
  }

  get state(): ReplicaProcessState {
    return this.processState;
  }

  /** The running guest, or null when the replica is not running. */
  get guest(): GuestDesktop | null {
    return this.guestDesktop;
  }

  /** Clients connected right now. */
  get connectionCount(): number {
    return this.server?.connectionCount ?? 0;
  }

  /** Starts a NEW process: a guest (fresh, or restored from `snapshot`) and its server on the replica's port. */
  async boot(snapshot?: GuestSnapshot): Promise<void> {
    if (this.processState === 'running') throw new Error(`replica ${this.id} is already running`);
    const now = this.options.clock.now();
    const guest = snapshot ? GuestDesktop.restore(snapshot, now) : this.freshGuest();
    const server = new RfbServer({
      source: guest,
      input: this.inputSink(),
      desktopName: this.options.desktopName,
      host: this.options.host,
      port: this.boundPort,
      gate: this.faults,
      ...(this.options.password === undefined ? {} : { password: this.options.password }),
      ...(this.options.log === undefined ? {} : { log: this.options.log }),
    });
    this.boundPort = await server.listen();
    this.guestDesktop = guest;
    this.server = server;
    this.processState = 'running';
    this.scheduleBlink();
  }

  /** Reboots the guest inside the same process (like QEMU's reset): clients stay and see the boot screen. */
  resetInPlace(): void {
    if (this.processState !== 'running' || this.server === null) throw new Error(`replica ${this.id} is not running`);
    this.guestDesktop = this.freshGuest();
    this.server.setSource(this.guestDesktop);
  }

  /** Stops the process: every client cut, the port refuses connections. */
  async halt(): Promise<void> {
    await this.stopProcess();
    this.processState = 'shut off';
  }

  /** Kills the process as a crash would; only L0 start or reset bring it back. */
  async crash(): Promise<void> {
    await this.stopProcess();
    this.processState = 'crashed';
  }

  /** The running guest's state, or null when not running. */
  snapshot(): GuestSnapshot | null {
    return this.guestDesktop?.snapshot() ?? null;
  }

  /** Applies a fault now (crash stops the process; inject and banner act once on the guest). */
  async applyFault(fault: Fault): Promise<void> {
    switch (fault.kind) {
      case 'crash':
        if (this.processState === 'running') await this.crash();
        return;
      case 'inject':
        for (const keysym of textToKeysyms(fault.text)) {
          this.guestDesktop?.keyEvent(keysym, true);
          this.guestDesktop?.keyEvent(keysym, false);
        }
        return;
      case 'banner':
        this.guestDesktop?.paintBanner(fault.text);
        return;
      default:
        this.faults.apply(fault);
        this.server?.wake();
    }
  }

  /** Removes the lasting faults (lag, drop-key, freeze); a crashed replica stays down. */
  clearFaults(): void {
    this.faults.clear();
    this.server?.wake();
  }

  private freshGuest(): GuestDesktop {
    return new GuestDesktop(
      {
        width: this.options.size.width,
        height: this.options.size.height,
        title: this.options.title,
        ...(this.options.cursorBlinkMs === undefined ? {} : { cursorBlinkMs: this.options.cursorBlinkMs }),
      },
      this.options.clock.now(),
    );
  }

  // Input from every client goes to whichever guest is current, through the drop-key fault.
  private inputSink(): RfbInputSink {
    return {
      keyEvent: (keysym, down) => {
        if (this.faults.admitKey(keysym, down)) this.guestDesktop?.keyEvent(keysym, down);
      },
      pointerEvent: (x, y, buttonMask) => this.guestDesktop?.pointerEvent(x, y, buttonMask),
      clientCutText: (text) => this.guestDesktop?.clientCutText(text),
    };
  }

  private scheduleBlink(): void {
    const guest = this.guestDesktop;
    if (guest === null) return;
    const waitMs = guest.tick(this.options.clock.now());
    if (waitMs === null) return;
    // A clock that stands still (tests) would ask for 0 ms forever: never poll faster than 10 ms.
    this.blinkTimer = setTimeout(() => {
      this.blinkTimer = null;
      this.scheduleBlink();
    }, Math.max(10, waitMs + 1));
    this.blinkTimer.unref();
  }

  private async stopProcess(): Promise<void> {
    if (this.blinkTimer) clearTimeout(this.blinkTimer);
    this.blinkTimer = null;
    const server = this.server;
    this.server = null;
    this.guestDesktop = null;
    await server?.close();
  }
}
