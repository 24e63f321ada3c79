// Opens the byte stream to one replica's VNC server: plain TCP (Nagle off, bounded connect time) or
// a tunnel through the replica's L0 over SSH. Errors say what the user can check. Node-side.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Profile, ReplicaConfig } from '../common/profile';
import { formatHostPort } from './sessions';
import type { KeyringAccess } from './secrets';
import type { SshL0Pool } from './ssh-l0';

/** How long a direct TCP connect to a VNC server may take. */
export const VNC_CONNECT_TIMEOUT_MS = 10_000;
/** TCP keepalive probe delay on VNC sockets, so a vanished replica is noticed. */
const TCP_KEEPALIVE_DELAY_MS = 30_000;

/** Everything connectReplica needs from the session the replica belongs to. */
export interface ReplicaContext {
  readonly profile: Profile;
  /** Where relative paths in the profile resolve (identity files, passphrase files). */
  readonly baseDir: string;
  readonly ssh: SshL0Pool;
  readonly connectTimeoutMs?: number;
  /** How `{"keyring": slot}` secrets of the profile are read (profiles of the profile library). */
  readonly keyring?: KeyringAccess;
}

/** A replica's VNC server could not be reached; the message says what to check. */
export class ReplicaConnectError extends Error {
  override readonly name = 'ReplicaConnectError';
}

function describeSocketError(error: Error & { code?: string }, host: string, port: number): string {
  const address = formatHostPort(host, port);
  switch (error.code) {
    case 'ECONNREFUSED':
      return `${address} refused the connection — is the VNC server running?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name "${host}" not found — check "vnc.host" in the profile`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${address} — check the network and "vnc.host"`;
    case 'ETIMEDOUT':
      return `${address} did not answer — check the host, the port and any firewall`;
    case 'ECONNRESET':
      return `${address} reset the connection`;
    case 'EADDRNOTAVAIL':
      return `${address} is not a usable address — check "vnc.host"`;
    default:
      return `cannot connect to ${address}: ${error.message}`;
  }
}

/** Connects over TCP with Nagle off (input skew between replicas matters) and a bounded wait. */
function connectTcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_DELAY_MS });
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        // Until the caller adds its own listeners (a tick later) an error must not crash the process;
        // the caller still learns of it through 'close'.
        socket.on('error', () => undefined);
        resolve(socket);
      }
    };
    const onConnect = (): void => finish(null);
    const onError = (error: Error & { code?: string }): void => finish(new ReplicaConnectError(describeSocketError(error, host, port)));
    const onAbort = (): void => finish(new ReplicaConnectError('the connection attempt was cancelled'));
    const timer = setTimeout(() => {
      finish(
        new ReplicaConnectError(
          `${formatHostPort(host, port)} did not answer within ${Math.round(timeoutMs / 1000)} s — check the host, the port and any firewall`,
        ),
      );
    }, timeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Opens a byte stream to the replica's VNC server: TCP to vnc.host:vnc.port, or, when vnc.tunnel is
 * true, a channel through the replica's L0 (vnc.host is then resolved on the L0). Rejects with an
 * error worded for the user. Aborting `signal` cancels the attempt (a late tunnel is closed).
 */
export async function connectReplica(replica: ReplicaConfig, context: ReplicaContext, signal?: AbortSignal): Promise<Duplex> {
  const { host, port } = replica.vnc;
  if (!replica.vnc.tunnel) {
    return connectTcp(host, port, context.connectTimeoutMs ?? VNC_CONNECT_TIMEOUT_MS, signal);
  }
  const l0Name = replica.l0;
  const l0 = l0Name === undefined ? undefined : context.profile.l0[l0Name];
  if (l0Name === undefined || l0 === undefined) {
    throw new ReplicaConnectError(`replica "${replica.id}" is tunnelled but names no L0: set "l0" in the profile`);
  }
  if (l0.kind !== 'ssh') {
    throw new ReplicaConnectError(`replica "${replica.id}" is tunnelled through "${l0Name}", a simulated L0 that has no SSH`);
  }
  if (signal?.aborted) throw new ReplicaConnectError('the connection attempt was cancelled');
  const channel = await context.ssh.openTunnel(
    { name: l0Name, ssh: l0.ssh, baseDir: context.baseDir, ...(context.keyring === undefined ? {} : { keyring: context.keyring }) },
    host,
    port,
  );
  if (signal?.aborted) {
    channel.destroy();
    throw new ReplicaConnectError('the connection attempt was cancelled');
  }
  return channel;
}
