// Prints the hub's OpenAPI document, built from the route schemas exactly as
// `GET /openapi.json` serves it, without starting a server (for `npm run lint:api`).
import { createApp } from "../src/app";

const res = await createApp().request("/openapi.json", {}, { DB: {} } as never);
if (!res.ok) throw new Error(`the document could not be built: ${res.status} ${await res.text()}`);
process.stdout.write(JSON.stringify(await res.json(), null, 2));
