// One instance per user: the first launch takes Electron's single-instance lock; a later launch hands
// its arguments and working folder to it (additionalData) and quits, and the first opens what it
// names. Runs in Electron's main process; typed structurally so tests drive it with a fake app.

import { instanceMessage, requestFromSecondInstance, type OpenRequest } from '../main/open-request';

/** The part of Electron's `app` this adapter uses. */
export interface SingleInstanceAppLike {
  requestSingleInstanceLock(additionalData?: Record<string, unknown>): boolean;
  on(event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string, additionalData: unknown) => void): unknown;
}

/**
 * Takes the lock for this launch. False: another instance runs and has been handed `args` (this
 * launch's arguments after the executable and app folder) with `workingDirectory`; the caller quits.
 * True: this is the instance; each later launch's request goes to `onRequest`.
 * `argumentOffset`: how many argv entries precede the arguments (the executable; the app folder too
 * when Electron runs the app unpackaged), for a launch that sent no message of its own.
 */
export function claimSingleInstance(options: {
  readonly app: SingleInstanceAppLike;
  readonly args: readonly string[];
  readonly workingDirectory: string;
  readonly argumentOffset: number;
  readonly onRequest: (request: OpenRequest) => void;
}): boolean {
  const message = instanceMessage(options.args, options.workingDirectory);
  if (!options.app.requestSingleInstanceLock({ ...message })) return false;
  options.app.on('second-instance', (_event, argv, workingDirectory, additionalData) => {
    options.onRequest(requestFromSecondInstance(argv, workingDirectory, additionalData, options.argumentOffset));
  });
  return true;
}
