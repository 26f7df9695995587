import type { D1Migration } from "cloudflare:test";
import type { Env as HubEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends HubEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** Base URL of the provider emulators started by test/global-setup.ts. */
      EMULATOR_URL: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
