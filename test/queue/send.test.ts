import { describe, expect, it } from "vitest";
import { batchesOf, MAX_BATCH_BYTES } from "../../src/queue/send";

describe("batchesOf", () => {
  it("splits at 100 messages and keeps the order", () => {
    const batches = batchesOf(Array.from({ length: 250 }, (_, i) => ({ i })));
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat().map((m) => m.i)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it("splits large messages before 256 KB", () => {
    const big = Array.from({ length: 120 }, (_, i) => ({ i, note: "x".repeat(5_000) }));
    const batches = batchesOf(big);
    for (const b of batches) expect(JSON.stringify(b).length).toBeLessThan(MAX_BATCH_BYTES);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.flat()).toHaveLength(120);
  });

  it("measures the body an item names", () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ job: { i }, user: { notes: "y".repeat(10_000) } }));
    expect(batchesOf(items, (item) => item.job)).toHaveLength(1);
    expect(batchesOf(items).length).toBeGreaterThan(1);
  });
});
