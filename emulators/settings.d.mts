/** The hub settings that point it at the emulators served at `baseUrl`. */
export function emulatorSettings(baseUrl: string): Record<string, string>;
