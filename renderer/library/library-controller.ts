// The start screen's profile library and the profile editor talking to the back end: list, save,
// duplicate, delete and restore, import, export (as a download), connection tests and the keyring's
// status. Keeps what the screens show in the store. Runs in the renderer.

import type { BackendApi, ImportProfilesResult, KeyringStatus, SavedProfileDocument, SaveProfileResult } from '../../common/contract';
import type { ConnectionTestReport } from '../../common/connection-test';
import type { ImportInput } from '../../common/profile-import/import-profile';
import type { AppStore } from '../store';

/** The library's actions; React calls them, the store shows their results. */
export class LibraryController {
  constructor(
    private readonly api: BackendApi,
    private readonly store: AppStore,
  ) {}

  /** Lists the saved profiles again (after any change, and whenever the start screen shows). */
  async refresh(): Promise<void> {
    try {
      this.store.getState().setLibrary(await this.api.listProfiles());
    } catch (error) {
      this.warn(`The saved profiles could not be listed: ${messageOf(error)}`);
    }
  }

  /** Asks whether typed secrets can be saved here; a failure to ask reads as "no keyring". */
  async loadKeyringStatus(): Promise<KeyringStatus> {
    let status: KeyringStatus;
    try {
      status = await this.api.getKeyringStatus();
    } catch (error) {
      status = { available: false, reason: `the keyring's status could not be read (${messageOf(error)})`, hint: 'passwords typed here are asked at connect time' };
    }
    this.store.getState().setKeyring(status);
    return status;
  }

  /** Opens the editor on a saved profile, or on a new one (null). */
  edit(id: string | null): void {
    this.store.getState().setEditing({ id });
  }

  /** Closes the editor and lists the profiles again. */
  closeEditor(): void {
    this.store.getState().setEditing(null);
    void this.refresh();
  }

  /** A saved profile's document and revision, for the editor. */
  get(id: string): Promise<SavedProfileDocument> {
    return this.api.getSavedProfile({ id });
  }

  /** Saves the editor's document (new, or over `id` at `expectedRevision`); a save's notices become toasts. */
  async save(document: Record<string, unknown>, target?: { readonly id: string; readonly expectedRevision: number }): Promise<SaveProfileResult> {
    const result = await this.api.saveProfile(target === undefined ? { document } : { document, id: target.id, expectedRevision: target.expectedRevision });
    if (result.kind === 'saved') this.pushSaveNotices(result.notices);
    return result;
  }

  /** Saves a copy of a saved profile; the list shows it. */
  async duplicate(id: string): Promise<void> {
    const result = await this.api.duplicateProfile({ id });
    if (result.kind === 'saved') this.pushSaveNotices(result.notices);
    else this.warn(`The profile could not be duplicated: ${describeFailedSave(result)}`);
    await this.refresh();
  }

  /** Moves a profile to the trash; answers whether it went (the list offers undo). */
  async remove(id: string): Promise<boolean> {
    const result = await this.api.deleteProfile({ id });
    if (!result.ok) this.warn(`The profile could not be deleted: ${result.error ?? 'unknown error'}`);
    await this.refresh();
    return result.ok;
  }

  /** Brings a deleted profile back (the list's undo). */
  async restore(id: string): Promise<void> {
    const result = await this.api.restoreProfile({ id });
    if (!result.ok) this.warn(`The profile could not be restored: ${result.error ?? 'unknown error'}`);
    await this.refresh();
  }

  /** Imports files and URIs as one new profile; the list shows it, its notices become toasts. */
  async importSources(sources: ImportInput[], name?: string): Promise<ImportProfilesResult> {
    const result = await this.api.importProfiles(name === undefined || name.trim() === '' ? { sources } : { sources, name: name.trim() });
    if (result.kind === 'saved') this.pushSaveNotices(result.notices);
    await this.refresh();
    return result;
  }

  /** Offers a saved profile as a RetroVisor JSON download, without its secrets (each left out is a toast). */
  async exportToDownload(id: string): Promise<void> {
    try {
      const exported = await this.api.exportProfile({ id });
      const url = URL.createObjectURL(new Blob([exported.text], { type: 'application/json' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = exported.fileName;
      link.click();
      // The click has started the download; the URL is not needed after this task.
      setTimeout(() => URL.revokeObjectURL(url), 0);
      for (const notice of exported.notices) this.store.getState().pushNotice({ level: 'info', message: notice });
    } catch (error) {
      this.warn(`The profile could not be exported: ${messageOf(error)}`);
    }
  }

  /** The editor's "Test" of one replica of the draft. */
  testReplica(profile: Record<string, unknown>, replicaId: string): Promise<ConnectionTestReport> {
    return this.api.testReplicaConnection({ profile, replicaId });
  }

  /** The editor's "Test" of one L0 of the draft. */
  testL0(profile: Record<string, unknown>, l0: string): Promise<ConnectionTestReport> {
    return this.api.testL0Connection({ profile, l0 });
  }

  private pushSaveNotices(notices: readonly string[]): void {
    for (const notice of notices) this.store.getState().pushNotice({ level: 'warning', message: notice });
  }

  private warn(message: string): void {
    this.store.getState().pushNotice({ level: 'warning', message });
  }
}

/** A save that did not happen, in words. */
export function describeFailedSave(result: Exclude<SaveProfileResult, { kind: 'saved' }>): string {
  switch (result.kind) {
    case 'conflict':
      return `it was changed elsewhere (now revision ${result.currentRevision})`;
    case 'invalid':
      return result.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
    case 'missing':
      return result.message;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
