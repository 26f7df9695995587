import { describe, expect, it } from "vitest";
import { Bursts, tenantBursts } from "../../src/lib/bursts";

describe("bursts", () => {
  const rules = [
    { limit: 5, windowMs: 250 },
    { limit: 3, windowMs: 50 },
  ];

  it("ten changes a second, evenly spaced, are never a burst", () => {
    const b = new Bursts(rules);
    for (let t = 0; t < 10_000; t += 100) {
      b.note("t", t);
      expect(b.busy("t", t)).toBe(false);
    }
  });

  it("twenty a second is a burst from the fifth change within a quarter of a second; it ends when they stop", () => {
    const b = new Bursts(rules);
    const busy = [0, 50, 100, 150, 200, 250].map((t) => (b.note("t", t), b.busy("t", t)));
    expect(busy).toEqual([false, false, false, false, true, true]);
    expect(b.busy("t", 460)).toBe(false);
    expect(b.busy("other", 250)).toBe(false);
  });

  it("three changes arriving together are a burst at once", () => {
    const b = new Bursts(rules);
    b.note("t", 1000);
    b.note("t", 1002);
    expect(b.busy("t", 1002)).toBe(false);
    b.note("t", 1004);
    expect(b.busy("t", 1004)).toBe(true);
    expect(b.busy("t", 1060)).toBe(false);
  });
});

describe("tenantBursts", () => {
  it("every tenant is in a burst while the hub takes 60 changes a second from all of them together", () => {
    const start = 10_000_000;
    // 16 tenants, one change each every 250 ms: 4 a second each, 64 a second together.
    for (let t = 0; t < 16; t++) tenantBursts.note(`quiet${t}`, start + t * 15);
    expect(tenantBursts.busy("quiet0", start + 240)).toBe(true);
    expect(tenantBursts.busy("someone-else", start + 240)).toBe(true);
    expect(tenantBursts.busy("quiet0", start + 600)).toBe(false);
  });
});
