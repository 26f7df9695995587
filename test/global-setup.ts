import type { TestProject } from "vitest/node";
import { unstable_startWorker } from "wrangler";

declare module "vitest" {
  export interface ProvidedContext {
    emulatorUrl: string;
  }
}

/** Starts the provider emulators as a real HTTP server on loopback for the whole run. */
export default async function setup(project: TestProject) {
  const worker = await unstable_startWorker({
    config: "emulators/wrangler.toml",
    // The emulators' own log stays quiet: the faults tests inject (dropped connections)
    // would print as errors; what matters reaches the tests through the answers.
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, logLevel: "none" },
  } as Parameters<typeof unstable_startWorker>[0]);
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, "");
  project.provide("emulatorUrl", url);
  return async () => {
    await worker.dispose();
  };
}
