// The messages between the renderer's page and its comparison worker (the DivergenceEngine runs in a
// dedicated worker), by direction, and ONE strict parser per direction that both ends use. Pure: it
// takes a posted object and never trusts it; times are on the page's clock (see docs/architecture.md).

import type { Divergence, DivergenceEvent, DivergenceOptions, DivergenceState, PixelRect, ReplicaSize, Tolerance } from './divergence';

/** Longest replica id accepted (a profile's ids are at most 64 characters). */
export const MAX_COMPARISON_ID_CHARS = 64;
/** Most rectangles in one update message (noVNC reports a handful per framebuffer update). */
export const MAX_UPDATE_RECTS = 4096;
/** Most regions, outliers, events… in any list of a message: bounds what a bad peer can make us walk. */
export const MAX_LIST_ITEMS = 65_536;
/** Largest framebuffer side accepted, in pixels (VNC's own limit is 65535). */
export const MAX_SIDE_PX = 65_535;

/**
 * A snapshot of a canvas region handed to the worker (the DOM's ImageBitmap; common/ names only what
 * it uses). The worker reads its pixels back off the page's main thread, then closes it.
 */
export interface TransferredBitmap {
  readonly width: number;
  readonly height: number;
  close(): void;
}

/** What the parser of requests accepts as a bitmap (in the worker: `value instanceof ImageBitmap`). */
export type BitmapCheck = (value: unknown) => value is TransferredBitmap;

/** The engine settings as posted: DivergenceOptions with plain rectangles (no labels). */
export type ComparisonOptions = DivergenceOptions;

/** What the page sends the worker. `atMs`: when it happened, on the page's performance.now() clock. */
export type ComparisonRequest =
  /** First message: the engine's settings, the regular tick, and the page's clock origin (epoch ms). */
  | { readonly type: 'configure'; readonly options: ComparisonOptions; readonly tickMs: number; readonly pageTimeOriginMs: number }
  /** Start ticking (regularly, and at each decision falling due). */
  | { readonly type: 'start' }
  /** Register a replica, or give it a new size (DivergenceEngine.setReplicaSize). */
  | { readonly type: 'size'; readonly replicaId: string; readonly width: number; readonly height: number; readonly atMs: number }
  /** Damaged rectangles of one framebuffer update, each with its RGBA pixels (transferred, not copied). */
  | { readonly type: 'update'; readonly replicaId: string; readonly rects: readonly PixelRect[]; readonly pixels: readonly Uint8ClampedArray[]; readonly atMs: number }
  /** Damaged rectangles of one framebuffer update as snapshots (transferred), read back by the worker. */
  | { readonly type: 'frame'; readonly replicaId: string; readonly rects: readonly PixelRect[]; readonly bitmaps: readonly TransferredBitmap[]; readonly atMs: number }
  /** Forget a replica (DivergenceEngine.removeReplica). */
  | { readonly type: 'remove'; readonly replicaId: string; readonly atMs: number }
  /** Tick once now (on top of the worker's own ticks). */
  | { readonly type: 'tick' }
  /** Stop ticking and forget everything; the worker may be terminated after this. */
  | { readonly type: 'dispose' };

/** What the worker sends the page. */
export type ComparisonReport =
  /**
   * After a tick that has something to tell (see ComparisonCore.tick): what changed (events, possibly
   * none), the report, the held-back divergences, how many 'update' and 'frame' requests were carried
   * out (or failed) since the last report (the page paces its frames by it), and how long those and
   * the ticks since the last report took in the worker (for the bench): `ticks` of them (at least
   * one), the latest starting at `tickStartMs`.
   */
  | {
      readonly type: 'report';
      readonly events: readonly DivergenceEvent[];
      readonly state: DivergenceState;
      readonly held: readonly Divergence[];
      readonly tickStartMs: number;
      readonly ticks: number;
      readonly tickMs: number;
      readonly updateMs: number;
      readonly updates: number;
    }
  /** The worker could not do what it was asked (a bad message, an engine error); the page logs it. */
  | { readonly type: 'problem'; readonly problem: string };

/** A parsed message, or the problem with it in words (for a log line). */
export type ComparisonParse<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly problem: string };

/** A message refused by a parser: the path and what is wrong there. */
class Refusal extends Error {}

function refuse(path: string, problem: string): never {
  throw new Refusal(`${path}: ${problem}`);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value).slice(0, 40)}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** A plain object whose own keys are all in `required` or `optional` and include every `required`. */
function record(value: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(path, `expected an object, found ${describeValue(value)}`);
  // Structured clone gives plain objects; anything else (a Map, a Date) is not a message.
  if (Object.prototype.toString.call(value) !== '[object Object]') refuse(path, 'not a plain object');
  if (Object.getOwnPropertySymbols(value).length > 0) refuse(path, 'has symbol keys');
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) refuse(path, `unexpected field ${JSON.stringify(key.slice(0, 40))}`);
  }
  for (const key of required) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) refuse(path, `missing field "${key}"`);
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, path: string, maxItems = MAX_LIST_ITEMS): readonly unknown[] {
  if (!Array.isArray(value)) refuse(path, `expected an array, found ${describeValue(value)}`);
  if (value.length > maxItems) refuse(path, `more than ${maxItems} items`);
  return value;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) refuse(path, `expected a finite number, found ${describeValue(value)}`);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) refuse(path, `expected an integer from ${min} to ${max}, found ${describeValue(value)}`);
  return value;
}

function nonNegative(value: unknown, path: string): number {
  const number = finite(value, path);
  if (number < 0) refuse(path, `expected a number ≥ 0, found ${number}`);
  return number;
}

function id(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_COMPARISON_ID_CHARS) refuse(path, `expected an id of 1 to ${MAX_COMPARISON_ID_CHARS} characters, found ${describeValue(value)}`);
  return value;
}

function ids(value: unknown, path: string): string[] {
  return list(value, path).map((item, index) => id(item, `${path}[${index}]`));
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') refuse(path, `expected true or false, found ${describeValue(value)}`);
  return value;
}

/** A rectangle of whole pixels inside the largest framebuffer (x, y ≥ 0; width, height ≥ 0). */
function rect(value: unknown, path: string): PixelRect {
  const fields = record(value, path, ['x', 'y', 'width', 'height']);
  return {
    x: integer(fields.x, `${path}.x`, 0, MAX_SIDE_PX),
    y: integer(fields.y, `${path}.y`, 0, MAX_SIDE_PX),
    width: integer(fields.width, `${path}.width`, 0, MAX_SIDE_PX),
    height: integer(fields.height, `${path}.height`, 0, MAX_SIDE_PX),
  };
}

function rects(value: unknown, path: string, maxItems = MAX_LIST_ITEMS): PixelRect[] {
  return list(value, path, maxItems).map((item, index) => rect(item, `${path}[${index}]`));
}

function tolerance(value: unknown, path: string): Tolerance | null {
  if (value === null) return null;
  const fields = record(value, path, ['maxChannelDelta', 'maxDifferingPixelsPerTile']);
  return { maxChannelDelta: integer(fields.maxChannelDelta, `${path}.maxChannelDelta`, 0, 255), maxDifferingPixelsPerTile: integer(fields.maxDifferingPixelsPerTile, `${path}.maxDifferingPixelsPerTile`, 0, Number.MAX_SAFE_INTEGER) };
}

const OPTION_FIELDS = ['tileSizePx', 'settleMs', 'confirmMs', 'blinkWindowMs', 'maxBlinkStates', 'tolerance', 'ignoreRegions'] as const;

function options(value: unknown, path: string): ComparisonOptions {
  const fields = record(value, path, [], OPTION_FIELDS);
  const parsed: { -readonly [K in keyof ComparisonOptions]: ComparisonOptions[K] } = {};
  if (fields.tileSizePx !== undefined) parsed.tileSizePx = integer(fields.tileSizePx, `${path}.tileSizePx`, 1, 1024);
  if (fields.settleMs !== undefined) parsed.settleMs = nonNegative(fields.settleMs, `${path}.settleMs`);
  if (fields.confirmMs !== undefined) parsed.confirmMs = nonNegative(fields.confirmMs, `${path}.confirmMs`);
  if (fields.blinkWindowMs !== undefined) parsed.blinkWindowMs = nonNegative(fields.blinkWindowMs, `${path}.blinkWindowMs`);
  if (fields.maxBlinkStates !== undefined) parsed.maxBlinkStates = integer(fields.maxBlinkStates, `${path}.maxBlinkStates`, 0, 64);
  if (fields.tolerance !== undefined) parsed.tolerance = tolerance(fields.tolerance, `${path}.tolerance`);
  if (fields.ignoreRegions !== undefined) parsed.ignoreRegions = rects(fields.ignoreRegions, `${path}.ignoreRegions`);
  return parsed;
}

function size(value: unknown, path: string): ReplicaSize {
  const fields = record(value, path, ['replicaId', 'widthPx', 'heightPx']);
  return { replicaId: id(fields.replicaId, `${path}.replicaId`), widthPx: integer(fields.widthPx, `${path}.widthPx`, 1, MAX_SIDE_PX), heightPx: integer(fields.heightPx, `${path}.heightPx`, 1, MAX_SIDE_PX) };
}

/** A divergence as the engine reports it (held-back ones have an empty id). */
function divergence(value: unknown, path: string): Divergence {
  const fields = record(value, path, ['id', 'kind', 'regions', 'outliers', 'agreeing', 'groups', 'noMajority', 'sinceMs', 'sizes']);
  if (typeof fields.id !== 'string' || fields.id.length > MAX_COMPARISON_ID_CHARS) refuse(`${path}.id`, `expected a divergence id, found ${describeValue(fields.id)}`);
  if (fields.kind !== 'pixels' && fields.kind !== 'size') refuse(`${path}.kind`, `expected "pixels" or "size", found ${describeValue(fields.kind)}`);
  return {
    id: fields.id,
    kind: fields.kind,
    regions: rects(fields.regions, `${path}.regions`),
    outliers: ids(fields.outliers, `${path}.outliers`),
    agreeing: ids(fields.agreeing, `${path}.agreeing`),
    groups: list(fields.groups, `${path}.groups`).map((group, index) => ids(group, `${path}.groups[${index}]`)),
    noMajority: boolean(fields.noMajority, `${path}.noMajority`),
    sinceMs: finite(fields.sinceMs, `${path}.sinceMs`),
    sizes: list(fields.sizes, `${path}.sizes`).map((item, index) => size(item, `${path}.sizes[${index}]`)),
  };
}

function event(value: unknown, path: string): DivergenceEvent {
  const type = record(value, path, ['type'], ['change', 'divergence', 'id', 'atMs']).type;
  switch (type) {
    case 'divergence': {
      const fields = record(value, path, ['type', 'change', 'divergence', 'atMs']);
      if (fields.change !== 'new' && fields.change !== 'changed') refuse(`${path}.change`, `expected "new" or "changed", found ${describeValue(fields.change)}`);
      return { type, change: fields.change, divergence: divergence(fields.divergence, `${path}.divergence`), atMs: finite(fields.atMs, `${path}.atMs`) };
    }
    case 'divergence-resolved': {
      const fields = record(value, path, ['type', 'id', 'atMs']);
      return { type, id: id(fields.id, `${path}.id`), atMs: finite(fields.atMs, `${path}.atMs`) };
    }
    case 'consensus': {
      const fields = record(value, path, ['type', 'atMs']);
      return { type, atMs: finite(fields.atMs, `${path}.atMs`) };
    }
    default:
      return refuse(`${path}.type`, `unexpected event type ${describeValue(type)}`);
  }
}

function state(value: unknown, path: string): DivergenceState {
  const fields = record(value, path, ['divergences', 'allAgree']);
  const divergences = list(fields.divergences, `${path}.divergences`).map((item, index) => divergence(item, `${path}.divergences[${index}]`));
  const allAgree = boolean(fields.allAgree, `${path}.allAgree`);
  if (allAgree !== (divergences.length === 0)) refuse(`${path}.allAgree`, 'contradicts the divergences listed');
  return { divergences, allAgree };
}

/** Runs a parser, turning a refusal into a problem. */
function parseWith<T>(input: unknown, parse: (input: unknown) => T): ComparisonParse<T> {
  try {
    return { ok: true, message: parse(input) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, problem: error.message };
    throw error;
  }
}

const REQUEST_TYPES = ['configure', 'start', 'size', 'update', 'frame', 'remove', 'tick', 'dispose'];

/**
 * Parses what the page posted to the worker; refuses anything but a well-formed ComparisonRequest.
 * 'frame' requests are accepted only where bitmaps can be read (`isBitmap` given).
 */
export function parseComparisonRequest(input: unknown, isBitmap: BitmapCheck | null = null): ComparisonParse<ComparisonRequest> {
  return parseWith(input, (value): ComparisonRequest => {
    const type = record(value, '$', ['type'], ['options', 'tickMs', 'pageTimeOriginMs', 'replicaId', 'width', 'height', 'atMs', 'rects', 'pixels', 'bitmaps']).type;
    if (typeof type !== 'string' || !REQUEST_TYPES.includes(type)) return refuse('$.type', `unexpected message type ${describeValue(type)}`);
    switch (type) {
      case 'configure': {
        const fields = record(value, '$', ['type', 'options', 'tickMs', 'pageTimeOriginMs']);
        const tickMs = finite(fields.tickMs, '$.tickMs');
        if (!(tickMs > 0)) refuse('$.tickMs', 'must be > 0');
        return { type, options: options(fields.options, '$.options'), tickMs, pageTimeOriginMs: nonNegative(fields.pageTimeOriginMs, '$.pageTimeOriginMs') };
      }
      case 'size': {
        const fields = record(value, '$', ['type', 'replicaId', 'width', 'height', 'atMs']);
        return { type, replicaId: id(fields.replicaId, '$.replicaId'), width: integer(fields.width, '$.width', 1, MAX_SIDE_PX), height: integer(fields.height, '$.height', 1, MAX_SIDE_PX), atMs: finite(fields.atMs, '$.atMs') };
      }
      case 'update': {
        const fields = record(value, '$', ['type', 'replicaId', 'rects', 'pixels', 'atMs']);
        const damaged = rects(fields.rects, '$.rects', MAX_UPDATE_RECTS);
        const pixels = list(fields.pixels, '$.pixels', MAX_UPDATE_RECTS).map((item, index) => {
          if (!(item instanceof Uint8ClampedArray)) return refuse(`$.pixels[${index}]`, `expected a Uint8ClampedArray, found ${describeValue(item)}`);
          return item;
        });
        if (pixels.length !== damaged.length) refuse('$.pixels', `${pixels.length} pixel buffers for ${damaged.length} rectangles`);
        damaged.forEach((damage, index) => {
          const expected = damage.width * damage.height * 4;
          if (pixels[index]?.length !== expected) refuse(`$.pixels[${index}]`, `expected ${expected} bytes for a ${damage.width}×${damage.height} rectangle, found ${pixels[index]?.length}`);
        });
        return { type, replicaId: id(fields.replicaId, '$.replicaId'), rects: damaged, pixels, atMs: finite(fields.atMs, '$.atMs') };
      }
      case 'frame': {
        if (isBitmap === null) return refuse('$.type', 'bitmaps cannot be read here');
        const fields = record(value, '$', ['type', 'replicaId', 'rects', 'bitmaps', 'atMs']);
        const damaged = rects(fields.rects, '$.rects', MAX_UPDATE_RECTS);
        const bitmaps = list(fields.bitmaps, '$.bitmaps', MAX_UPDATE_RECTS).map((item, index) => {
          if (!isBitmap(item)) return refuse(`$.bitmaps[${index}]`, `expected an ImageBitmap, found ${describeValue(item)}`);
          return item;
        });
        if (bitmaps.length !== damaged.length) refuse('$.bitmaps', `${bitmaps.length} bitmaps for ${damaged.length} rectangles`);
        damaged.forEach((damage, index) => {
          const bitmap = bitmaps[index];
          if (bitmap?.width !== damage.width || bitmap.height !== damage.height) refuse(`$.bitmaps[${index}]`, `a ${bitmap?.width}×${bitmap?.height} bitmap for a ${damage.width}×${damage.height} rectangle`);
        });
        return { type, replicaId: id(fields.replicaId, '$.replicaId'), rects: damaged, bitmaps, atMs: finite(fields.atMs, '$.atMs') };
      }
      case 'remove': {
        const fields = record(value, '$', ['type', 'replicaId', 'atMs']);
        return { type, replicaId: id(fields.replicaId, '$.replicaId'), atMs: finite(fields.atMs, '$.atMs') };
      }
      default:
        record(value, '$', ['type']);
        return { type: type as 'start' | 'tick' | 'dispose' };
    }
  });
}

/** Parses what the worker posted to the page; refuses anything but a well-formed ComparisonReport. */
export function parseComparisonReport(input: unknown): ComparisonParse<ComparisonReport> {
  return parseWith(input, (value): ComparisonReport => {
    const type = record(value, '$', ['type'], ['events', 'state', 'held', 'tickStartMs', 'ticks', 'tickMs', 'updateMs', 'updates', 'problem']).type;
    switch (type) {
      case 'report': {
        const fields = record(value, '$', ['type', 'events', 'state', 'held', 'tickStartMs', 'ticks', 'tickMs', 'updateMs', 'updates']);
        return {
          type,
          events: list(fields.events, '$.events').map((item, index) => event(item, `$.events[${index}]`)),
          state: state(fields.state, '$.state'),
          held: list(fields.held, '$.held').map((item, index) => divergence(item, `$.held[${index}]`)),
          tickStartMs: finite(fields.tickStartMs, '$.tickStartMs'),
          ticks: integer(fields.ticks, '$.ticks', 1, Number.MAX_SAFE_INTEGER),
          tickMs: nonNegative(fields.tickMs, '$.tickMs'),
          updateMs: nonNegative(fields.updateMs, '$.updateMs'),
          updates: integer(fields.updates, '$.updates', 0, Number.MAX_SAFE_INTEGER),
        };
      }
      case 'problem': {
        const fields = record(value, '$', ['type', 'problem']);
        if (typeof fields.problem !== 'string') refuse('$.problem', `expected a string, found ${describeValue(fields.problem)}`);
        return { type, problem: fields.problem.slice(0, 1024) };
      }
      default:
        return refuse('$.type', `unexpected message type ${describeValue(type)}`);
    }
  });
}

/** The plain-rectangle form of the engine options (ignore regions lose their labels), ready to post. */
export function comparisonOptionsOf(options: DivergenceOptions): ComparisonOptions {
  const posted: { -readonly [K in keyof ComparisonOptions]: ComparisonOptions[K] } = {};
  for (const field of OPTION_FIELDS) {
    if (options[field] === undefined) continue;
    if (field === 'ignoreRegions') posted.ignoreRegions = (options.ignoreRegions ?? []).map(({ x, y, width, height }) => ({ x, y, width, height }));
    else if (field === 'tolerance') posted.tolerance = options.tolerance === null || options.tolerance === undefined ? null : { maxChannelDelta: options.tolerance.maxChannelDelta, maxDifferingPixelsPerTile: options.tolerance.maxDifferingPixelsPerTile };
    else posted[field] = options[field];
  }
  return posted;
}
