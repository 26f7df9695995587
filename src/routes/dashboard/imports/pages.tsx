import type { Dash } from "../session";
import { loadImportsPage } from "./loaders";
import { ImportsPageView } from "./views";

/** Each page: its loader, then its view. */

export async function ImportsPage(props: { c: Dash; problem?: string | undefined }) {
  const data = await loadImportsPage(props);
  return <ImportsPageView {...props} data={data} />;
}
