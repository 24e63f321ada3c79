// The React context that hands components the app controller (actions and the open workspace).
// Runs in the renderer.

import { createContext, useContext } from 'react';
import type { AppController } from './app-controller';

/** Provided once at the root by index.tsx. */
export const AppControllerContext = createContext<AppController | null>(null);

/** The app controller; components call its actions and read the store for what to show. */
export function useAppController(): AppController {
  const controller = useContext(AppControllerContext);
  if (controller === null) throw new Error('useAppController needs <AppControllerContext> above it');
  return controller;
}
