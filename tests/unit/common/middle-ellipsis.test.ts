// Names shortened in the middle keep the end that tells them apart (a port, a file name), measured
// here in characters (the renderer measures in pixels; the rule is the same).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ELLIPSIS, distinguishingTailStart, middleEllipsis } from '../../../common/middle-ellipsis';

/** A width check counting characters (code points), like a monospace font. */
function atMost(characters: number): (candidate: string) => boolean {
  return (candidate) => Array.from(candidate).length <= characters;
}

describe('middleEllipsis', { timeout: 5000 }, () => {
  it('leaves text that fits alone', () => {
    assert.equal(middleEllipsis('127.0.0.1:5901', atMost(14)), '127.0.0.1:5901');
  });

  it('keeps the port of host:port and as much of the host as fits', () => {
    assert.equal(middleEllipsis('127.0.0.1:5901', atMost(10)), `127.${ELLIPSIS}:5901`);
    assert.equal(middleEllipsis('127.0.0.1:5901', atMost(6)), `${ELLIPSIS}:5901`);
  });

  it('tells quick-connect names that differ only by port apart at any width that holds the port', () => {
    const names = ['127.0.0.1:5901', '127.0.0.1:5902', '127.0.0.1:5903'];
    for (let width = 6; width <= 14; width++) {
      const shown = names.map((name) => middleEllipsis(name, atMost(width)));
      assert.equal(new Set(shown).size, names.length, `width ${width}: ${shown.join(', ')}`);
    }
  });

  it('keeps the port after "::" and the file of a path', () => {
    assert.equal(middleEllipsis('hypervisor-b.lan::5901', atMost(12)), `hyperv${ELLIPSIS}:5901`);
    assert.equal(middleEllipsis('/home/me/profiles/lab-profile.json', atMost(26)), `/home/me${ELLIPSIS}/lab-profile.json`);
  });

  it('keeps the last characters when even the distinguishing end is too long', () => {
    assert.equal(middleEllipsis('/a/very-long-file-name.json', atMost(8)), `${ELLIPSIS}me.json`);
    assert.equal(middleEllipsis('averyveryverylongword', atMost(5)), `${ELLIPSIS}word`);
  });

  it('gives "…" or nothing when there is no room', () => {
    assert.equal(middleEllipsis('127.0.0.1:5901', atMost(1)), ELLIPSIS);
    assert.equal(middleEllipsis('127.0.0.1:5901', atMost(0)), '');
  });

  it('never returns text that does not fit, at every width', () => {
    const text = 'Replica on hypervisor-c.example.org::5907';
    for (let width = 0; width <= text.length + 2; width++) {
      const shown = middleEllipsis(text, atMost(width));
      assert.ok(Array.from(shown).length <= width, `width ${width}: ${shown}`);
      if (width >= 6) assert.ok(shown.endsWith(':5907'), `width ${width}: ${shown}`);
    }
  });

  it('does not split a surrogate pair', () => {
    const shown = middleEllipsis('😀😀😀😀 host:1', atMost(5));
    assert.equal(shown, `😀😀${ELLIPSIS}:1`);
  });
});

describe('distinguishingTailStart', { timeout: 5000 }, () => {
  it('finds the last separator, or none', () => {
    assert.equal(distinguishingTailStart('127.0.0.1:5901'), 9);
    assert.equal(distinguishingTailStart('a/b/c'), 3);
    assert.equal(distinguishingTailStart('Demo 2'), 4);
    assert.equal(distinguishingTailStart('plain'), 5);
    assert.equal(distinguishingTailStart('host:'), 5);
  });
});
