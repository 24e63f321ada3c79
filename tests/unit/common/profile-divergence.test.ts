// A profile's "divergence" settings: defaults when absent, every field read into its typed form,
// and every bad value refused at its exact JSON path; the session summary carries them to the UI.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIRM_MS, SETTLE_MS } from '../../../common/divergence';
import { DEFAULT_DIVERGENCE_SETTINGS, MAX_IGNORE_REGIONS, divergenceSettingsOf, formatProblems, validateProfile } from '../../../common/profile';
import { summarizeSession } from '../../../main/sessions';

function profileWith(divergence: unknown): Record<string, unknown> {
  return {
    version: 1,
    name: 'lab',
    replicas: [
      { id: 'r1', vnc: { host: '127.0.0.1', port: 5901 } },
      { id: 'r2', vnc: { host: '127.0.0.1', port: 5902 } },
    ],
    ...(divergence === undefined ? {} : { divergence }),
  };
}

/** The problems of a rejected profile, as "path: message" lines. */
function problemsOf(divergence: unknown): string[] {
  const result = validateProfile(profileWith(divergence));
  assert.equal(result.ok, false, `expected ${JSON.stringify(divergence)} to be refused`);
  return result.ok ? [] : result.problems.map((problem) => `${problem.path}: ${problem.message}`);
}

/** Only the paths of the problems. */
function pathsOf(divergence: unknown): string[] {
  return problemsOf(divergence).map((line) => line.slice(0, line.indexOf(': ')));
}

describe('profile divergence settings', { timeout: 60_000 }, () => {
  it('defaults to comparison on, exact, nothing ignored, the engine timing, when absent', () => {
    const result = validateProfile(profileWith(undefined));
    assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
    assert.deepEqual(result.profile.divergence, { enabled: true, tolerance: null, ignoreRegions: [], settleMs: SETTLE_MS, confirmMs: CONFIRM_MS });
    assert.deepEqual(DEFAULT_DIVERGENCE_SETTINGS, result.profile.divergence);
    // An empty object means the same; a profile built by hand without settings gets the defaults.
    const empty = validateProfile(profileWith({}));
    assert.ok(empty.ok);
    assert.deepEqual(empty.profile.divergence, DEFAULT_DIVERGENCE_SETTINGS);
    assert.equal(divergenceSettingsOf({ version: 1, name: 'x', replicas: [], l0: {} }), DEFAULT_DIVERGENCE_SETTINGS);
  });

  it('reads every field, and the session summary hands them to the UI', () => {
    const divergence = {
      enabled: false,
      tolerance: { maxChannelDelta: 8, maxDifferingPixelsPerTile: 3 },
      ignoreRegions: [
        { x: 560, y: 0, width: 80, height: 16, label: 'clock' },
        { x: 0, y: 384, width: 640, height: 16 },
      ],
      settleMs: 250,
      confirmMs: 0,
    };
    const result = validateProfile(profileWith(divergence));
    assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
    assert.deepEqual(result.profile.divergence, divergence);
    const summary = summarizeSession({ id: 's1', profile: result.profile, baseDir: '/', source: 'test' });
    assert.deepEqual(summary.divergence, divergence);
    // A tolerance without a pixel allowance means "every differing pixel counts".
    const tolerant = validateProfile(profileWith({ tolerance: { maxChannelDelta: 0 } }));
    assert.ok(tolerant.ok);
    assert.deepEqual(tolerant.profile.divergence?.tolerance, { maxChannelDelta: 0, maxDifferingPixelsPerTile: 0 });
    assert.equal(tolerant.profile.divergence?.enabled, true);
  });

  it('accepts the bounds themselves', () => {
    const result = validateProfile(
      profileWith({
        tolerance: { maxChannelDelta: 255, maxDifferingPixelsPerTile: 255 },
        ignoreRegions: Array.from({ length: MAX_IGNORE_REGIONS }, (_, index) => ({ x: 16383, y: index, width: 16384, height: 1 })),
        settleMs: 10_000,
        confirmMs: 60_000,
      }),
    );
    assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
    assert.ok(validateProfile(profileWith({ settleMs: 50 })).ok);
  });

  it('refuses a divergence value that is not an object, and unknown fields at every level', () => {
    assert.deepEqual(problemsOf(true), ['$.divergence: must be an object like {"enabled": true, "tolerance": null, "ignoreRegions": []}, found boolean true']);
    assert.deepEqual(pathsOf({ enable: false }), ['$.divergence.enable']);
    assert.match(problemsOf({ enable: false })[0] ?? '', /unknown field; expected one of: enabled, tolerance, ignoreRegions, settleMs, confirmMs/);
    assert.deepEqual(pathsOf({ tolerance: { maxChannelDelta: 8, perPixel: 2 } }), ['$.divergence.tolerance.perPixel']);
    assert.deepEqual(pathsOf({ ignoreRegions: [{ x: 0, y: 0, width: 1, height: 1, colour: 'red' }] }), ['$.divergence.ignoreRegions[0].colour']);
  });

  it('refuses a non-boolean switch and a malformed tolerance', () => {
    assert.deepEqual(problemsOf({ enabled: 'no' }), ['$.divergence.enabled: must be true (compare the replicas\' screens) or false (do not), found the string "no"']);
    assert.deepEqual(pathsOf({ tolerance: 8 }), ['$.divergence.tolerance']);
    assert.deepEqual(pathsOf({ tolerance: {} }), ['$.divergence.tolerance.maxChannelDelta']);
    assert.match(problemsOf({ tolerance: {} })[0] ?? '', /is required/);
    assert.deepEqual(problemsOf({ tolerance: { maxChannelDelta: 256 } }), [
      '$.divergence.tolerance.maxChannelDelta: must be a colour channel difference, an integer from 0 to 255, found number 256',
    ]);
    assert.deepEqual(pathsOf({ tolerance: { maxChannelDelta: -1, maxDifferingPixelsPerTile: 256 } }), [
      '$.divergence.tolerance.maxChannelDelta',
      '$.divergence.tolerance.maxDifferingPixelsPerTile',
    ]);
    assert.deepEqual(pathsOf({ tolerance: { maxChannelDelta: 2.5 } }), ['$.divergence.tolerance.maxChannelDelta']);
  });

  it('refuses ignore regions that are not non-negative whole rectangles, and too many of them', () => {
    assert.deepEqual(pathsOf({ ignoreRegions: { x: 0 } }), ['$.divergence.ignoreRegions']);
    assert.deepEqual(pathsOf({ ignoreRegions: [null] }), ['$.divergence.ignoreRegions[0]']);
    assert.deepEqual(pathsOf({ ignoreRegions: [{ x: 1, y: 1, width: 2, height: 2 }, { x: -1, y: 0, width: 0, height: 1.5 }] }), [
      '$.divergence.ignoreRegions[1].x',
      '$.divergence.ignoreRegions[1].width',
      '$.divergence.ignoreRegions[1].height',
    ]);
    assert.match(problemsOf({ ignoreRegions: [{ x: 0, y: 0, width: 0, height: 4 }] })[0] ?? '', /width: must be a width in pixels, an integer from 1 to 16384, found number 0/);
    assert.deepEqual(pathsOf({ ignoreRegions: [{ y: 0, width: 4, height: 4 }] }), ['$.divergence.ignoreRegions[0].x']);
    assert.deepEqual(pathsOf({ ignoreRegions: [{ x: 16384, y: 0, width: 4, height: 4 }] }), ['$.divergence.ignoreRegions[0].x']);
    assert.deepEqual(pathsOf({ ignoreRegions: [{ x: 0, y: 0, width: 4, height: 4, label: '' }] }), ['$.divergence.ignoreRegions[0].label']);
    assert.deepEqual(pathsOf({ ignoreRegions: [{ x: 0, y: 0, width: 4, height: 4, label: 'x'.repeat(81) }] }), ['$.divergence.ignoreRegions[0].label']);
    const tooMany = Array.from({ length: MAX_IGNORE_REGIONS + 1 }, () => ({ x: 0, y: 0, width: 1, height: 1 }));
    assert.deepEqual(problemsOf({ ignoreRegions: tooMany }), [`$.divergence.ignoreRegions: must hold at most ${MAX_IGNORE_REGIONS} regions, found ${MAX_IGNORE_REGIONS + 1}`]);
  });

  it('refuses timings outside their bounds', () => {
    assert.deepEqual(problemsOf({ settleMs: 49 }), ['$.divergence.settleMs: must be a time in milliseconds, an integer from 50 to 10000, found number 49']);
    assert.deepEqual(pathsOf({ settleMs: 10_001, confirmMs: -1 }), ['$.divergence.settleMs', '$.divergence.confirmMs']);
    assert.deepEqual(pathsOf({ confirmMs: 60_001 }), ['$.divergence.confirmMs']);
    assert.deepEqual(pathsOf({ confirmMs: '600' }), ['$.divergence.confirmMs']);
  });

  it('reports divergence problems together with the rest of the profile\'s', () => {
    const document = { ...profileWith({ settleMs: 0 }), name: '' };
    const result = validateProfile(document);
    assert.equal(result.ok, false);
    assert.deepEqual(result.ok ? [] : result.problems.map((problem) => problem.path), ['$.name', '$.divergence.settleMs']);
  });
});
