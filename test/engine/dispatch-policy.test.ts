import { describe, expect, it } from 'vitest';
import { DispatchPolicy } from '../../lib/engine/dispatch-policy';
import type { RunQueue } from '../../lib/engine/run-queue';

// DispatchPolicy's estimate at its edges: which last durations it trusts, and a claim that fills
// the inline budget exactly.

const queue: RunQueue = { send: async () => {} };
/** An overflow policy, 1 lane, 10 s inline, after one claimed job that last took `lastMs`. */
function after(lastMs: unknown) {
  const policy = new DispatchPolicy({ queue, when: 'overflow', inlineSeconds: 10 }, 1, 0);
  policy.observe([{ metadata: { last_duration_ms: lastMs } }]);
  return policy;
}

describe('DispatchPolicy estimate', () => {
  it('trusts a last duration of 0 ms: any number of such jobs runs inline', () => {
    expect(after(0).dispatches(0, 1_000_000, 900, 0)).toBe(false);
  });

  it('takes a negative or non-numeric last duration as unknown (1 s each)', () => {
    for (const lastMs of [-5, '5', null]) {
      // 9 jobs at 1 s each over one lane: 9 s, within 10 s; 11 jobs: 11 s, over.
      expect(after(lastMs).dispatches(0, 9, 900, 0)).toBe(false);
      expect(after(lastMs).dispatches(0, 11, 900, 0)).toBe(true);
    }
  });

  it('runs inline a claim that fills the inline budget exactly, and sends one more', () => {
    // Average 1 s: 4 waiting + 6 next = 10 s over one lane, the whole 10 s budget.
    expect(after(1_000).dispatches(4, 6, 900, 0)).toBe(false);
    expect(after(1_000).dispatches(4, 7, 900, 0)).toBe(true);
  });
});
