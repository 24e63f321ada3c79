// Evidence of divergences: per new divergence, a folder under the profile's data folder holding a
// JSON record, each replica's screen as a PNG and a diff PNG (the reference screen with the regions in
// translucent red), rewritten when the divergence grows within its confirm window. Private (0700 folders, 0600 files), created exclusively, never through a symlink.
// Runs in Node; paths are built here, never taken from the UI.

import { mkdir, realpath, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { DivergenceReport, ReportedRegion } from '../common/contract';
import { PRIVATE_FOLDER_MODE, privateFolder, writeFileAtomic, writeNewFile } from './private-files';

/** Largest screen accepted as evidence, per side (profiles' desktops stay below it). */
export const MAX_EVIDENCE_SIDE_PX = 8192;
/** Evidence folders a back end keeps open for screens, at most (older ones stop accepting screens). */
const MAX_OPEN_FOLDERS = 32;
/** Opacity of the red painted over the diff PNG's regions (0..1). */
const DIFF_RED_OPACITY = 0.45;
/** Random bytes in an evidence folder's name: unguessable, and no two processes pick the same. */
const FOLDER_NAME_RANDOM_BYTES = 6;
/** Names tried before giving up (a collision of 48 random bits is already a sign of trouble). */
const MAX_FOLDER_NAME_ATTEMPTS = 8;

/**
 * The folder all RetroVisor data goes under: $RETROVISOR_DATA_DIR, else $XDG_DATA_HOME/retrovisor,
 * else ~/.local/share/retrovisor.
 */
export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RETROVISOR_DATA_DIR) return path.resolve(env.RETROVISOR_DATA_DIR);
  const xdg = env.XDG_DATA_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share'), 'retrovisor');
}

/** A profile name as a folder name: letters, digits, "-", "_" and "." kept, the rest "-"; never empty or dots only. */
export function folderName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 64);
  return cleaned === '' ? 'profile' : cleaned;
}

/** What one evidence folder is for. */
interface OpenFolder {
  readonly sessionId: string;
  /** The engine's id of the divergence the folder records. */
  readonly divergenceId: string | null;
  readonly folder: string;
  /** Replica ids of the session, in profile order (file names use their index when an id is unsafe). */
  readonly replicaIds: readonly string[];
  /** The replica whose screen the diff PNG paints on (the majority's first, else the first outlier). */
  diffBaseId: string | null;
  regions: readonly ReportedRegion[];
  /** The record as last written (an amendment rewrites it). */
  record: EvidenceRecord;
  /** Screens saved since the record was last written. */
  readonly written: Set<string>;
  /** Amended at least once: screens replace the earlier ones instead of being new files. */
  amended: boolean;
}

/** divergence.json. */
interface EvidenceRecord {
  readonly time: string;
  readonly divergenceId: string | null;
  readonly kind: 'pixels' | 'size';
  readonly outliers: readonly string[];
  readonly agreeing: readonly string[];
  readonly noMajority: boolean;
  readonly regions: readonly ReportedRegion[];
  readonly inputSeq: number | null;
  readonly replicas: readonly string[];
  /** How many times the divergence grew within its confirm window, and when it last did (absent: never). */
  readonly amendments?: number;
  readonly amendedAt?: string;
}

/** Writes evidence folders; the back end owns one. Several stores (processes) may share one data folder. */
export class EvidenceStore {
  private readonly folders = new Map<string, OpenFolder>();
  private nextNumber = 1;

  constructor(private readonly root: string) {}

  /**
   * Starts the folder of a new divergence (`<root>/<profile>/evidence/<timestamp>-<random>/`) with its
   * record (divergence.json); resolves with its id (for the screens) and its absolute path. Every
   * folder it makes is 0700; `<profile>` and `evidence` must be this user's real folders (a symlink or
   * another user's folder planted there is refused); the new folder is made exclusively.
   */
  async start(report: DivergenceReport, profileName: string, replicaIds: readonly string[], nowMs: number): Promise<{ evidenceId: string; folder: string }> {
    const folder = await this.newFolder(profileName, nowMs);
    const record: EvidenceRecord = {
      time: new Date(nowMs).toISOString(),
      divergenceId: report.divergenceId ?? null,
      kind: report.divergenceKind ?? 'pixels',
      outliers: report.outliers,
      agreeing: report.agreeing,
      noMajority: report.noMajority,
      regions: report.regions,
      inputSeq: report.inputSeq ?? null,
      replicas: replicaIds,
    };
    await writeNewFile(path.join(folder, 'divergence.json'), `${JSON.stringify(record, null, 2)}\n`);
    const evidenceId = `e${this.nextNumber++}`;
    this.folders.set(evidenceId, {
      sessionId: report.sessionId,
      divergenceId: report.divergenceId ?? null,
      folder,
      replicaIds,
      diffBaseId: report.agreeing[0] ?? report.outliers[0] ?? null,
      regions: report.regions,
      record,
      written: new Set(),
      amended: false,
    });
    // Only recent folders take screens: a UI cannot keep old ones open forever.
    if (this.folders.size > MAX_OPEN_FOLDERS) this.folders.delete(this.folders.keys().next().value as string);
    return { evidenceId, folder };
  }

  /**
   * Rewrites the record of the open folder of `report`'s divergence (same session, same divergence id)
   * with its grown regions and split, and lets its screens be sent again (they replace the earlier
   * ones, with the diff). Resolves with the folder's id and path, or null when no open folder records
   * that divergence (it was never saved, or is too old).
   */
  async amend(report: DivergenceReport, nowMs: number): Promise<{ evidenceId: string; folder: string } | null> {
    if (report.divergenceId === undefined) return null;
    const found = [...this.folders.entries()].reverse().find(([, open]) => open.sessionId === report.sessionId && open.divergenceId === report.divergenceId);
    if (found === undefined) return null;
    const [evidenceId, open] = found;
    const record: EvidenceRecord = {
      ...open.record,
      outliers: report.outliers,
      agreeing: report.agreeing,
      noMajority: report.noMajority,
      regions: report.regions,
      amendments: (open.record.amendments ?? 0) + 1,
      amendedAt: new Date(nowMs).toISOString(),
    };
    await writeFileAtomic(path.join(open.folder, 'divergence.json'), `${JSON.stringify(record, null, 2)}\n`);
    open.record = record;
    open.regions = report.regions;
    open.diffBaseId = report.agreeing[0] ?? report.outliers[0] ?? null;
    open.written.clear();
    open.amended = true;
    return { evidenceId, folder: open.folder };
  }

  /** Makes the chain of private folders down to a new, exclusively created evidence folder. */
  private async newFolder(profileName: string, nowMs: number): Promise<string> {
    // The data root (and what leads to it) is the user's choice and may pass through symlinks; below
    // it, RetroVisor trusts only folders it made or that are the user's own.
    await mkdir(this.root, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    if (!(await stat(this.root)).isDirectory()) throw new Error(`the data folder ${this.root} is not a folder`);
    const profileFolder = path.join(this.root, folderName(profileName));
    const evidenceFolder = path.join(profileFolder, 'evidence');
    await privateFolder(profileFolder);
    await privateFolder(evidenceFolder);
    const stamp = new Date(nowMs).toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
    for (let attempt = 0; attempt < MAX_FOLDER_NAME_ATTEMPTS; attempt++) {
      const folder = path.join(evidenceFolder, `${stamp}-${randomBytes(FOLDER_NAME_RANDOM_BYTES).toString('hex')}`);
      try {
        await mkdir(folder, { mode: PRIVATE_FOLDER_MODE });
      } catch (error) {
        if ((error as { code?: unknown }).code === 'EEXIST') continue;
        throw error;
      }
      // The checks above and this mkdir are separate steps: the folder made must be where it was meant to be.
      const expected = path.join(await realpath(this.root), folderName(profileName), 'evidence', path.basename(folder));
      if ((await realpath(folder)) !== expected) throw new Error(`${folder} was redirected while it was made: evidence is not written there`);
      return folder;
    }
    throw new Error(`no free evidence folder name in ${evidenceFolder} after ${MAX_FOLDER_NAME_ATTEMPTS} tries`);
  }

  /**
   * Writes one replica's screen (decoded and re-encoded by sharp: only a real image of sane size is
   * kept) as `<replica>.png`, and for the diff base also `diff.png`. Throws on a bad request.
   */
  async saveScreen(sessionId: string, evidenceId: string, replicaId: string, png: Buffer): Promise<void> {
    const open = this.folders.get(evidenceId);
    if (open === undefined || open.sessionId !== sessionId) throw new Error(`unknown evidence "${evidenceId}" for this session`);
    const index = open.replicaIds.indexOf(replicaId);
    if (index < 0) throw new Error(`the session has no replica "${replicaId}"`);
    if (open.written.has(replicaId)) throw new Error(`the screen of "${replicaId}" is already saved`);
    open.written.add(replicaId);
    try {
      await this.write(open, replicaId, index, png);
    } catch (error) {
      // A refused screen may be sent again.
      open.written.delete(replicaId);
      throw error;
    }
  }

  private async write(open: OpenFolder, replicaId: string, index: number, png: Buffer): Promise<void> {
    const image = sharp(png, { limitInputPixels: MAX_EVIDENCE_SIDE_PX * MAX_EVIDENCE_SIDE_PX });
    const metadata = await image.metadata();
    if (metadata.format !== 'png') throw new Error('the screen is not a PNG');
    const width = metadata.width;
    const height = metadata.height;
    if (width > MAX_EVIDENCE_SIDE_PX || height > MAX_EVIDENCE_SIDE_PX) throw new Error('the screen is too large');
    const name = /^[A-Za-z0-9_-]{1,64}$/.test(replicaId) ? replicaId : `replica-${index + 1}`;
    // Encoded to memory and written by writeNewFile (or, once amended, replaced atomically through a new
    // file): sharp's toFile would follow a symlink and use the umask.
    const save = open.amended ? writeFileAtomic : writeNewFile;
    await save(path.join(open.folder, `screen-${name}.png`), await image.clone().png().toBuffer());
    if (replicaId === open.diffBaseId) {
      const diff = await image
        .clone()
        .composite([{ input: Buffer.from(regionsSvg(open.regions, width, height)), top: 0, left: 0 }])
        .png()
        .toBuffer();
      await save(path.join(open.folder, 'diff.png'), diff);
    }
  }
}

/** An SVG as large as the screen with every region (clipped to it) in translucent red, outlined. */
function regionsSvg(regions: readonly ReportedRegion[], width: number, height: number): string {
  const boxes = regions
    .map((region) => {
      const left = Math.max(0, Math.min(width, region.x));
      const top = Math.max(0, Math.min(height, region.y));
      const right = Math.max(left, Math.min(width, region.x + region.width));
      const bottom = Math.max(top, Math.min(height, region.y + region.height));
      if (right === left || bottom === top) return '';
      return `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="rgb(255,0,0)" fill-opacity="${DIFF_RED_OPACITY}" stroke="rgb(255,0,0)" stroke-width="1"/>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${boxes}</svg>`;
}
