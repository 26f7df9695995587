/** A base URL without its trailing slashes, so that `${base}/path` never doubles one. */
export function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
