import type { Integration } from "../../../integrations/store";
import type { Dash } from "../session";
import { loadUsersPage, loadUserPage, loadUnmatchedPage } from "./loaders";
import { UsersPageView, UserPageView, UnmatchedPageView } from "./views";

/** Each page: its loader, then its view. */

export async function UsersPage(props: { c: Dash; q: string; after: string | null }) {
  const data = await loadUsersPage(props);
  return <UsersPageView {...props} data={data} />;
}

export async function UserPage(props: { c: Dash; userId: string }) {
  const data = await loadUserPage(props);
  return data === null ? null : <UserPageView {...props} data={data} />;
}

export async function UnmatchedPage(props: { c: Dash; integration: Integration; notice?: string | undefined }) {
  const data = await loadUnmatchedPage(props);
  return <UnmatchedPageView {...props} data={data} />;
}
