// The contract carried over a message pipe (the browser shell's WebSocket): message shapes, the
// back-end dispatcher and the UI-side client. Pure: tests run both ends over an in-memory pair.

import {
  CALL_NAMES,
  CONTRACT_CALLS,
  ContractError,
  isCallName,
  isEventName,
  type BackendApi,
  type CallName,
  type CallRequest,
  type CallResponse,
  type ContractHandlers,
  type EventName,
  type EventPayload,
} from './contract';

export type RpcMessage =
  | { readonly kind: 'call'; readonly id: number; readonly name: CallName; readonly request: unknown }
  | { readonly kind: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'result'; readonly id: number; readonly ok: false; readonly error: string }
  | { readonly kind: 'event'; readonly name: EventName; readonly payload: unknown };

/** Largest RPC message accepted (a profile text is at most 1 MiB; JSON escaping can grow it). */
export const MAX_RPC_MESSAGE_CHARS = 4 * 1024 * 1024;

/** Parses one wire message; returns null for anything malformed (the caller drops it). */
export function decodeRpcMessage(raw: string): RpcMessage | null {
  if (raw.length > MAX_RPC_MESSAGE_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const message = value as Record<string, unknown>;
  switch (message.kind) {
    case 'call':
      if (!Number.isSafeInteger(message.id) || !isCallName(message.name)) return null;
      return { kind: 'call', id: message.id as number, name: message.name, request: message.request };
    case 'result':
      if (!Number.isSafeInteger(message.id)) return null;
      if (message.ok === true) return { kind: 'result', id: message.id as number, ok: true, value: message.value };
      if (message.ok === false && typeof message.error === 'string') {
        return { kind: 'result', id: message.id as number, ok: false, error: message.error };
      }
      return null;
    case 'event':
      if (!isEventName(message.name)) return null;
      return { kind: 'event', name: message.name, payload: message.payload };
    default:
      return null;
  }
}

/** Checks an untrusted request against the call's declared shape, then runs its handler. Shared by both shells. */
export async function invokeHandler(handlers: ContractHandlers, name: CallName, untrustedRequest: unknown): Promise<unknown> {
  const request: unknown = CONTRACT_CALLS[name].parseRequest(untrustedRequest);
  const handler = handlers[name] as (request: unknown) => Promise<unknown>;
  return handler(request);
}

/**
 * Back-end side: validates a call's request against the contract, runs its handler and returns the
 * result message. Handler errors become `{ok:false}` results with the error's message, never a crash.
 */
export async function dispatchCall(
  handlers: ContractHandlers,
  message: Extract<RpcMessage, { kind: 'call' }>,
): Promise<RpcMessage> {
  try {
    const value = await invokeHandler(handlers, message.name, message.request);
    return { kind: 'result', id: message.id, ok: true, value: value ?? null };
  } catch (error) {
    const reason = error instanceof ContractError ? `bad request: ${error.message}` : error instanceof Error ? error.message : String(error);
    return { kind: 'result', id: message.id, ok: false, error: reason };
  }
}

/** Thrown in the UI when the back end answered a call with an error. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
}

export interface RpcClient {
  readonly api: BackendApi;
  /** Feed every message received from the back end. */
  receive(raw: string): void;
  /** The pipe is gone: every pending call fails with this reason. */
  fail(reason: string): void;
}

/** UI side: a BackendApi whose calls are sent as messages through `send`. */
export function createRpcClient(send: (raw: string) => void): RpcClient {
  let nextId = 1;
  let failure: string | null = null;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();

  function invoke<K extends CallName>(name: K, request: CallRequest<K>): Promise<CallResponse<K>> {
    if (failure !== null) return Promise.reject(new BackendError(failure));
    const id = nextId++;
    return new Promise<CallResponse<K>>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      const message: RpcMessage = { kind: 'call', id, name, request };
      send(JSON.stringify(message));
    });
  }

  const calls = Object.fromEntries(
    CALL_NAMES.map((name) => [name, (request: unknown) => invoke(name, request as never)]),
  ) as unknown as ContractHandlers;

  const api: BackendApi = {
    ...calls,
    on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  };

  return {
    api,
    receive(raw: string): void {
      const message = decodeRpcMessage(raw);
      if (message === null || message.kind === 'call') return;
      if (message.kind === 'event') {
        for (const listener of listeners.get(message.name) ?? []) listener(message.payload as never);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new BackendError(message.error));
    },
    fail(reason: string): void {
      failure = reason;
      for (const waiter of pending.values()) waiter.reject(new BackendError(reason));
      pending.clear();
    },
  };
}

/** Encodes an event for the pipe. */
export function encodeEvent<K extends EventName>(name: K, payload: EventPayload<K>): string {
  const message: RpcMessage = { kind: 'event', name, payload };
  return JSON.stringify(message);
}
