// "Test" for one replica's VNC server, as the profile editor runs it: reach it (directly or through its
// L0's tunnel), read its RFB version and security types, try the password, read the desktop size and
// name, then close — as a shared client, so nobody else's session is disturbed. Node-side.

import type { Duplex } from 'node:stream';
import { connectionTestReport, securityTypeName, type ConnectionTestReport, type TestStep } from '../../common/connection-test';
import { escapeControl } from '../../common/terminal-text';
import { VNC_CHALLENGE_BYTES, vncAuthResponse } from '../demo/vnc-auth';
import { errorMessage } from '../logger';
import { ByteReader, ProbeReadError } from './byte-reader';

/** The whole test (connect included) gives up after this long. */
export const RFB_PROBE_TIMEOUT_MS = 15_000;
/** Longest failure reason or desktop name read from a server (the rest is not read). */
const MAX_SERVER_TEXT_BYTES = 1024;

const SECURITY_NONE = 1;
const SECURITY_VNC_AUTH = 2;
const RFB_VERSION = /^RFB (\d{3})\.(\d{3})\n$/;

/** What the probe needs: how to open the stream, what to call it, and the password to try. */
export interface RfbProbeOptions {
  /** "127.0.0.1:5901" or "127.0.0.1:5901 via l0-a", for the report. */
  readonly endpoint: string;
  readonly connect: (signal: AbortSignal) => Promise<Duplex>;
  /** The password to try when the server asks for one; absent: the auth step says it was not tried. */
  readonly password?: string;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** Server text (a reason, a desktop name) for the report: bounded, decoded leniently, controls escaped. */
function serverText(bytes: Buffer): string {
  return escapeControl(bytes.toString('latin1'));
}

/** Runs the test; never throws (every failure is a failed step with what to do next). */
export async function probeRfbServer(options: RfbProbeOptions): Promise<ConnectionTestReport> {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? RFB_PROBE_TIMEOUT_MS);
  const steps: TestStep[] = [];
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - now()));
  let socket: Duplex | null = null;
  try {
    try {
      socket = await options.connect(abort.signal);
    } catch (error) {
      steps.push({ id: 'reach', title: 'VNC server reached', outcome: 'failed', detail: errorMessage(error) });
      return connectionTestReport(steps);
    }
    steps.push({ id: 'reach', title: 'VNC server reached', outcome: 'passed', detail: options.endpoint });
    await handshake(new ByteReader(socket, deadline, now), socket, options.password, steps);
    return connectionTestReport(steps);
  } catch (error) {
    const reason = error instanceof ProbeReadError ? error.message : `unexpected failure: ${errorMessage(error)}`;
    const last = steps.at(-1);
    const pending = nextStep(last?.id);
    steps.push({ ...pending, outcome: 'failed', detail: `${reason} — is this a VNC server, and is it still running?` });
    return connectionTestReport(steps);
  } finally {
    clearTimeout(timer);
    socket?.destroy();
  }
}

/** The step a read failure belongs to: the one after the last one recorded. */
function nextStep(lastId: string | undefined): Pick<TestStep, 'id' | 'title'> {
  switch (lastId) {
    case 'reach':
      return { id: 'version', title: 'RFB version' };
    case 'version':
      return { id: 'security', title: 'Security types' };
    case 'security':
      return { id: 'auth', title: 'Authentication' };
    default:
      return { id: 'desktop', title: 'Desktop' };
  }
}

async function handshake(reader: ByteReader, socket: Duplex, password: string | undefined, steps: TestStep[]): Promise<void> {
  const versionBytes = await reader.read(12);
  const version = RFB_VERSION.exec(versionBytes.toString('latin1'));
  if (version === null) {
    steps.push({
      id: 'version',
      title: 'RFB version',
      outcome: 'failed',
      detail: 'the server did not start with an RFB version: this port is not a VNC server — check the port',
    });
    return;
  }
  const major = Number(version[1]);
  const minor = Number(version[2]);
  // RFB 3.3 and 3.7 differ in the security handshake; anything newer than 3.8 speaks 3.8 (RFC 6143 §7.1.1).
  const spoken = major > 3 || minor >= 8 ? 8 : minor >= 7 ? 7 : 3;
  steps.push({ id: 'version', title: 'RFB version', outcome: 'passed', detail: `the server speaks RFB ${major}.${minor}; RetroVisor answers 3.${spoken}` });
  socket.write(`RFB 003.00${spoken}\n`);

  let offered: number[];
  if (spoken === 3) {
    const type = await reader.u32();
    offered = type === 0 ? [] : [type];
  } else {
    const count = await reader.u8();
    offered = count === 0 ? [] : [...(await reader.read(count))];
  }
  if (offered.length === 0) {
    const reason = await readReason(reader);
    steps.push({ id: 'security', title: 'Security types', outcome: 'failed', detail: `the server refused the connection: ${reason}` });
    return;
  }
  const names = offered.map(securityTypeName).join(', ');
  const chosen = offered.includes(SECURITY_NONE) ? SECURITY_NONE : offered.includes(SECURITY_VNC_AUTH) ? SECURITY_VNC_AUTH : null;
  if (chosen === null) {
    steps.push({
      id: 'security',
      title: 'Security types',
      outcome: 'warning',
      detail: `the server offers ${names}; this test speaks only None and VNC Authentication, so it stops here (the viewer itself may still connect)`,
    });
    return;
  }
  steps.push({ id: 'security', title: 'Security types', outcome: 'passed', detail: `the server offers ${names}` });
  if (spoken !== 3) socket.write(Uint8Array.of(chosen));

  if (chosen === SECURITY_VNC_AUTH) {
    if (password === undefined || password.length === 0) {
      steps.push({
        id: 'auth',
        title: 'Password',
        outcome: 'warning',
        detail: 'the server asks for a password and none is set: enter it to test it (without one, RetroVisor asks at connect time)',
      });
      return;
    }
    const challenge = await reader.read(VNC_CHALLENGE_BYTES);
    socket.write(vncAuthResponse(password, challenge));
  }
  // RFB 3.3 sends no SecurityResult for None; 3.7 none for None either; 3.8 always does.
  if (chosen === SECURITY_VNC_AUTH || spoken === 8) {
    const result = await reader.u32();
    if (result !== 0) {
      const reason = spoken === 8 ? await readReason(reader) : 'no reason given';
      steps.push({
        id: 'auth',
        title: chosen === SECURITY_VNC_AUTH ? 'Password' : 'Authentication',
        outcome: 'failed',
        detail:
          chosen === SECURITY_VNC_AUTH
            ? `the server refused the password (${reason}) — check it; VNC passwords count only their first 8 characters`
            : `the server refused the connection (${reason})`,
      });
      return;
    }
  }
  steps.push({
    id: 'auth',
    title: chosen === SECURITY_VNC_AUTH ? 'Password' : 'Authentication',
    outcome: 'passed',
    detail: chosen === SECURITY_VNC_AUTH ? 'the server accepted the password' : 'no password needed',
  });

  // ClientInit with shared = 1: other viewers of this server stay connected.
  socket.write(Uint8Array.of(1));
  const init = await reader.read(24);
  const width = init.readUInt16BE(0);
  const height = init.readUInt16BE(2);
  const nameLength = init.readUInt32BE(20);
  const name = nameLength === 0 ? '' : serverText(await reader.read(Math.min(nameLength, MAX_SERVER_TEXT_BYTES)));
  const named = name.length > 0 ? ` named “${name}${nameLength > MAX_SERVER_TEXT_BYTES ? '…' : ''}”` : '';
  steps.push(
    width === 0 || height === 0
      ? { id: 'desktop', title: 'Desktop', outcome: 'warning', detail: `the server announced an empty ${width}×${height} desktop${named}` }
      : { id: 'desktop', title: 'Desktop', outcome: 'passed', detail: `${width}×${height}${named}` },
  );
}

/** A failure reason (u32 length + text), bounded. */
async function readReason(reader: ByteReader): Promise<string> {
  const length = await reader.u32();
  if (length === 0) return 'no reason given';
  const text = serverText(await reader.read(Math.min(length, MAX_SERVER_TEXT_BYTES)));
  return length > MAX_SERVER_TEXT_BYTES ? `${text}…` : text;
}
