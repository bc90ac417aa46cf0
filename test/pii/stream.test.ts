import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskPii } from '../../src/pii/detectors.js';
import type { PiiKind } from '../../src/pii/detectors.js';
import { PII_WINDOW, PiiStreamScanner } from '../../src/pii/stream.js';
import { HOLDOUT } from './holdout.js';
import { SAMPLE } from './sample.js';

const ALL = new Set<PiiKind>(['email', 'phone', 'card', 'iban', 'national_id', 'ip', 'api_key', 'bearer']);
const mask = { kinds: ALL, replace: (m: { kind: string }) => `[${m.kind.toUpperCase()}]` };

/** A small deterministic PRNG, so a failure names a reproducible split. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

function streamed(body: Buffer, sizes: () => number): string {
  const scanner = new PiiStreamScanner(mask);
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const size = Math.max(1, Math.floor(sizes()));
    out.push(scanner.push(body.subarray(at, at + size)));
    at += size;
  }
  out.push(scanner.end());
  return Buffer.concat(out).toString('utf8');
}

describe('PII stream scanner', () => {
  it('masks exactly what a whole-text scan masks, however the body is split', () => {
    const texts = [...SAMPLE, ...HOLDOUT].map((s) => s.text);
    for (const separator of [' | ', '\n', '\n\n']) {
      const whole = texts.join(separator);
      const expected = maskPii(whole, ALL);
      for (let seed = 1; seed <= 10; seed++) {
        const random = prng(seed);
        const maxChunk = [3, 17, 64, 1500, 9000][seed % 5] as number;
        assert.equal(streamed(Buffer.from(whole), () => 1 + random() * maxChunk), expected, `seed ${seed}, chunks up to ${maxChunk}, separator ${JSON.stringify(separator)}`);
      }
    }
  });

  it('passes multi-byte characters and arbitrary bytes through unchanged when split mid-character', () => {
    const body = Buffer.concat([Buffer.from('grüße € 😀 '), Buffer.from([0xff, 0x00, 0xc3]), Buffer.from(' mail jo@example.com ✓')]);
    const scanner = new PiiStreamScanner(mask);
    const bytes = Buffer.concat([...body].map((b) => scanner.push(Buffer.from([b]))).concat(scanner.end()));
    assert.deepEqual(bytes, Buffer.concat([Buffer.from('grüße € 😀 '), Buffer.from([0xff, 0x00, 0xc3]), Buffer.from(' mail [EMAIL] ✓')]));
  });

  it('holds back at most the window on a body without newlines, and passes lines at once', () => {
    const scanner = new PiiStreamScanner(mask);
    const chunk = Buffer.alloc(10_000, 'a');
    let emitted = 0;
    for (let i = 1; i <= 100; i++) {
      emitted += scanner.push(chunk).length;
      assert.ok(i * chunk.length - emitted <= PII_WINDOW, `held ${i * chunk.length - emitted} bytes`);
    }
    assert.equal(emitted + scanner.end().length, 100 * chunk.length);
    const lines = new PiiStreamScanner(mask);
    assert.equal(lines.push(Buffer.from('data: {"to":"a@b.example.com"}\n\ndata: partial')).toString(), 'data: {"to":"[EMAIL]"}\n\n');
    assert.equal(lines.end().toString(), 'data: partial');
  });

  it('a value growing past the window boundary is held until it ends', () => {
    const scanner = new PiiStreamScanner(mask);
    const filler = 'x'.repeat(PII_WINDOW * 2);
    let out = scanner.push(Buffer.from(`${filler} key sk-proj-`)).toString();
    for (let i = 0; i < 10; i++) out += scanner.push(Buffer.from('AbCdEfGhIj')).toString();
    out += scanner.push(Buffer.from(' done')).toString() + scanner.end().toString();
    assert.equal(out, `${filler} key [API_KEY] done`);
  });

  it('a found() that throws rejects the body before the value is passed on', () => {
    const scanner = new PiiStreamScanner({
      kinds: new Set<PiiKind>(['card']),
      found(matches) {
        throw new Error(`blocked ${matches.map((m) => m.kind).join()}`);
      },
    });
    assert.equal(scanner.push(Buffer.from('hello\npay 4242 4242')).toString(), 'hello\n');
    assert.throws(() => scanner.push(Buffer.from(' 4242 4242\n')), /blocked card/);
  });
});
