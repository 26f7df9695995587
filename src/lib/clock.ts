/**
 * The hub's clock for what waits on time: the provider throttle's window and its waits,
 * and a run page's claim, which holds a page that waits out a throttle or a lock (`later`)
 * until its wait is over. In production it is the wall clock. Tests move it ahead
 * (`advanceClock`) instead of sleeping, together with the emulators' (`POST
 * /_emulator/clock`); it never moves back, so a wait it set is never in its future.
 *
 * What records when something happened (a run's start, a link's last sync) keeps the wall
 * clock: those times are compared with each other, never with a wait.
 */
let offsetMs = 0;

export const clock = {
  now(): number {
    return Date.now() + offsetMs;
  },
};

/** Tests only: moves this isolate's clock ahead by `ms`. */
export function advanceClock(ms: number): void {
  if (ms < 0) throw new RangeError("The clock only moves ahead.");
  offsetMs += ms;
}
