// The renderer's entry point (bundled to app.js): connects to the back end of whichever shell
// loaded the page, then renders the UI. Runs in the renderer (Electron or a browser).

import compareKernelsWasm from 'retrovisor-wasm:compare-kernels';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AppControllerContext } from './app-context';
import { AppController } from './app-controller';
import { BACKEND_LOST_MESSAGE } from './backend/backend-connection';
import { connectBackend } from './backend/connect-backend';
import { App } from './components/app';
import { BackendLostBanner } from './components/backend-lost-banner';
import { provideComparisonKernels } from './divergence/comparison-core';
import { appStore } from './store';
import { captureNoVncKeyboard, createNoVncClient } from './vnc/novnc-client';

// The comparison runs in its worker; the page compiles the same kernels only if it has to compare
// itself (the worker could not start), on first use.
provideComparisonKernels(compareKernelsWasm);

async function main(): Promise<void> {
  const container = document.getElementById('root');
  if (container === null) throw new Error('index.html has no #root');
  const root = createRoot(container);

  let backend;
  try {
    backend = await connectBackend({ onConnectionLost: (reason) => appStore.getState().setBackendLost(reason) });
  } catch (error) {
    console.error('[retrovisor] no back end:', error instanceof Error ? error.message : error);
    appStore.getState().setBackendLost(BACKEND_LOST_MESSAGE);
    root.render(<BackendLostBanner />);
    return;
  }

  const controller = new AppController(backend, appStore, createNoVncClient, captureNoVncKeyboard);
  root.render(
    <StrictMode>
      <AppControllerContext value={controller}>
        <App />
      </AppControllerContext>
    </StrictMode>,
  );
  try {
    await controller.start();
  } catch (error) {
    appStore.getState().pushNotice({
      level: 'error',
      message: `The back end did not answer at start-up: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

void main();
