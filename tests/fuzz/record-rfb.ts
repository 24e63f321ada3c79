// Records a real VNC server's session with RetroVisor's own client (the browser shell in headless
// Chromium), through a TCP proxy that keeps every byte each way, for the fuzz fixtures. A script, run
// in Node after `node scripts/build.mjs`:
//   node --import tsx tests/fuzz/record-rfb.ts --source xvnc|qemu|demo [--out tests/fixtures/rfb/xvnc.rfb.gz]

import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDemoLab } from '../../main/demo/demo-lab';
import { launchBrowser, openAppPage, REPO_ROOT, startApp, typeLikeAPerson, waitForReplicaState, writeProfile } from '../e2e/support/app';
import { startVm, startXvnc } from '../lab/components';
import { writeRecording, type RecordedChunk, type RfbRecording } from './rfb-recording';
import { mapServerStream } from './rfb-stream-map';

/** The recordable sources: how to start each, what to type on it, and how long to watch it. */
const SOURCES = {
  xvnc: {
    description: 'TigerVNC Xvnc 640x400 with an xterm: the handshake, the first update, then printf with a bell and a scrolling ls',
    text: "printf 'fuzz\\a\\n'; ls -l /usr/lib | head -40\n",
  },
  qemu: {
    description: 'a QEMU VM console (busybox, 720x400 VGA text mode): the handshake, the first update, then a scrolling ls',
    text: 'ls -l /bin | head -40\n',
  },
  demo: {
    description: "RetroVisor's demo guest (640x400, blinking cursor): the handshake, the first update, typed text",
    text: 'hello from the fuzz recorder\n',
  },
} as const;
type Source = keyof typeof SOURCES;

/** Server silence that ends a phase of the recording (a settled screen). */
const QUIET_MS = 1000;
/** The longest a phase waits for that silence (the demo guest's cursor never stops blinking). */
const PHASE_MAX_MS = 4000;
/** Typing pace: slow enough for a software-emulated guest's keyboard queue. */
const KEYS_PER_SECOND = 12;

const { values } = parseArgs({ options: { source: { type: 'string' }, out: { type: 'string' } } });
const source = values.source as Source | undefined;
if (source === undefined || !(source in SOURCES)) {
  console.error(`usage: node --import tsx tests/fuzz/record-rfb.ts --source ${Object.keys(SOURCES).join('|')} [--out FILE]`);
  process.exit(2);
}
const outPath = values.out ?? join(REPO_ROOT, 'tests', 'fixtures', 'rfb', `${source}.rfb.gz`);

const stops: Array<() => Promise<unknown>> = [];
try {
  const target = await startTarget(source);
  const proxy = await startRecordingProxy(target);
  stops.push(() => proxy.stop());
  const profilePath = writeProfile({ version: 1, name: `record ${source}`, replicas: [{ id: 'recorded', label: source, vnc: { host: '127.0.0.1', port: proxy.port } }] });
  const app = await startApp({ profilePath });
  stops.unshift(() => app.stop());
  const browser = await launchBrowser();
  stops.unshift(() => browser.close());
  const page = await openAppPage(browser, app);
  await waitForReplicaState(page, 'recorded', 'connected', 30_000);
  await proxy.quiet(QUIET_MS, PHASE_MAX_MS);
  await page.focus('#composite');
  await typeLikeAPerson(page, SOURCES[source].text, { keysPerSecond: KEYS_PER_SECOND });
  await proxy.quiet(QUIET_MS, PHASE_MAX_MS);
  const recording: RfbRecording = { header: { source, description: SOURCES[source].description }, chunks: proxy.chunks() };
  const serverTotal = recording.chunks.filter((chunk) => chunk.from === 'server').reduce((sum, chunk) => sum + chunk.bytes.length, 0);
  const map = mapServerStream(Buffer.concat(recording.chunks.filter((chunk) => chunk.from === 'server').map((chunk) => chunk.bytes)));
  if (map.handshakeEnd === null) throw new Error('the recorded handshake is incomplete (a server with security None is needed: a VNC password cannot be replayed)');
  writeRecording(outPath, recording);
  console.log(
    `recorded ${recording.chunks.length} chunks, ${serverTotal} server bytes (${map.messageStarts.length} messages, mapped to byte ${map.mappedEnd}) -> ${outPath}`,
  );
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
}
process.exit(0);

async function startTarget(which: Source): Promise<{ host: string; port: number }> {
  switch (which) {
    case 'xvnc': {
      const server = await startXvnc();
      stops.push(() => server.stop());
      return server;
    }
    case 'qemu': {
      const vm = await startVm({ name: `record-${process.pid}` });
      stops.push(() => vm.stop());
      return vm;
    }
    case 'demo': {
      const lab = await startDemoLab({ replicas: 1, size: { width: 640, height: 400 } });
      stops.push(() => lab.stop());
      const replica = lab.replicas[0];
      if (replica === undefined) throw new Error('the demo lab started no replica');
      return replica;
    }
  }
}

/** A TCP proxy to `target` that records its first connection's bytes, both ways, in arrival order. */
async function startRecordingProxy(target: { host: string; port: number }): Promise<{
  port: number;
  chunks(): RecordedChunk[];
  quiet(quietMs: number, maxMs: number): Promise<void>;
  stop(): Promise<void>;
}> {
  const chunks: RecordedChunk[] = [];
  const sockets = new Set<Socket>();
  let recording = true;
  let lastServerByteAt = Date.now();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const record = recording;
    recording = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => (socket === client ? upstream : client).destroy());
    }
    client.on('data', (bytes: Buffer) => {
      if (record) chunks.push({ from: 'client', bytes: new Uint8Array(bytes) });
      upstream.write(bytes);
    });
    upstream.on('data', (bytes: Buffer) => {
      if (record) {
        chunks.push({ from: 'server', bytes: new Uint8Array(bytes) });
        lastServerByteAt = Date.now();
      }
      client.write(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    chunks: () => [...chunks],
    async quiet(quietMs, maxMs) {
      // A script's pause, not a test's: the screen has settled when the server stops sending.
      const deadline = Date.now() + maxMs;
      while (Date.now() < deadline && Date.now() - lastServerByteAt < quietMs) await new Promise((resolve) => setTimeout(resolve, 100));
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
