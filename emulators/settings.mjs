// The hub settings that point it at the emulators: used by `npm start` (.dev.vars) and by
// the test configuration, so both agree. Client ids and secrets match emulators/wrangler.toml.

/** @param {string} baseUrl the emulators' origin, e.g. http://127.0.0.1:8788 */
export function emulatorSettings(baseUrl) {
  const dc = (id) => ({
    id,
    accounts: `${baseUrl}/zoho/${id}/accounts`,
    api: `${baseUrl}/zoho/${id}/api`,
    crm: `${baseUrl}/zoho/${id}/crm`,
    connect: `${baseUrl}/zoho/${id}/connect`,
    people: `${baseUrl}/zoho/${id}/people`,
  });
  return {
    ZOHO_CLIENT_ID: "1000.EMULATORCLIENT",
    ZOHO_CLIENT_SECRET: "emulator-zoho-secret",
    ZOHO_DATA_CENTERS: JSON.stringify([dc("us"), dc("eu")]),
    MICROSOFT_CLIENT_ID: "00000000-0000-0000-0000-00000000e001",
    MICROSOFT_CLIENT_SECRET: "emulator-microsoft-secret",
    MICROSOFT_LOGIN_URL: `${baseUrl}/microsoft/login`,
    MICROSOFT_GRAPH_URL: `${baseUrl}/microsoft/graph`,
    // The emulators' receiver stands in for a tenant's `after` handler: plain http on loopback.
    OUTBOUND_ALLOWLIST: new URL(baseUrl).host,
  };
}
