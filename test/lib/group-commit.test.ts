import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/lib/group-commit";

/** A writer whose writes end when the test says so, recording each group it was given. */
function gatedWriter(opts: { maxGroup?: number; fail?: (item: number) => boolean; giveUpMs?: number } = {}) {
  const groups: number[][] = [];
  const gates: (() => void)[] = [];
  const writer = new GroupCommit<number, string>(
    async (items) => {
      groups.push(items);
      await new Promise<void>((resolve) => gates.push(resolve));
      if (items.some((i) => i < 0)) throw new Error("the whole write failed");
      return items.map((i) => (opts.fail?.(i) ? { status: "rejected", reason: new Error(`item ${i} failed`) } : { status: "fulfilled", value: `wrote ${i}` }));
    },
    { maxGroup: opts.maxGroup ?? 32, pollMs: 1, giveUpMs: opts.giveUpMs ?? 10_000 },
  );
  const waitUntil = () => {};
  /** Lets the oldest write still running end. */
  const release = async () => {
    for (let i = 0; i < 200 && gates.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    gates.shift()!();
  };
  return { writer, groups, waitUntil, release };
}

describe("GroupCommit", () => {
  it("writes a lone item at once, in a group of one", async () => {
    const { writer, groups, waitUntil, release } = gatedWriter();
    const result = writer.submit(1, waitUntil);
    await release();
    expect(await result).toBe("wrote 1");
    expect(groups).toEqual([[1]]);
  });

  it("items that arrive while a write is in flight share the next write", async () => {
    const { writer, groups, waitUntil, release } = gatedWriter();
    const first = writer.submit(1, waitUntil);
    const rest = [2, 3, 4, 5].map((i) => writer.submit(i, waitUntil));
    await release();
    await release();
    expect(await Promise.all([first, ...rest])).toEqual(["wrote 1", "wrote 2", "wrote 3", "wrote 4", "wrote 5"]);
    expect(groups).toEqual([[1], [2, 3, 4, 5]]);
  });

  it("a group holds at most maxGroup items; the others wait for the next", async () => {
    const { writer, groups, waitUntil, release } = gatedWriter({ maxGroup: 2 });
    const all = [1, 2, 3, 4, 5].map((i) => writer.submit(i, waitUntil));
    for (let i = 0; i < 3; i++) await release();
    expect(await Promise.all(all)).toHaveLength(5);
    expect(groups).toEqual([[1], [2, 3], [4, 5]]);
  });

  it("a failed item fails only its own caller; a failed write fails only its group", async () => {
    const { writer, waitUntil, release } = gatedWriter({ fail: (i) => i === 3 });
    const first = writer.submit(-1, waitUntil);
    const rest = [2, 3, 4].map((i) => writer.submit(i, waitUntil));
    await release();
    await expect(first).rejects.toThrow("the whole write failed");
    await release();
    const settled = await Promise.allSettled(rest);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe("item 3 failed");
    // And the writer goes on.
    const after = writer.submit(6, waitUntil);
    await release();
    expect(await after).toBe("wrote 6");
  });

  it("a write that never answers is given up on: its caller gets an error and the next group goes ahead", async () => {
    const { writer, groups, waitUntil, release } = gatedWriter({ giveUpMs: 50 });
    const lost = writer.submit(1, waitUntil); // its write is never released
    const next = writer.submit(2, waitUntil);
    await expect(lost).rejects.toThrow("did not answer within 50 ms");
    for (let i = 0; i < 200 && groups.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(groups).toEqual([[1], [2]]);
    // Release the second write (the gates are in order: the lost one first).
    await release();
    await release();
    expect(await next).toBe("wrote 2");
  });
});
