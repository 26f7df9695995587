import { describe, expect, it } from "vitest";
import type { DirectoryUserRow } from "../../src/db/schema";
import { groupsFor } from "../../src/sync/groups";

function person(profile: Record<string, unknown>): DirectoryUserRow {
  return { tenantId: "t", id: "u1", email: "a@x.example", emailLower: "a@x.example", firstName: "Ada", lastName: null, status: "active", profile: JSON.stringify(profile), version: 1, sourceUpdatedAt: 0, needsPush: 0, createdAt: 0, updatedAt: 0 } as DirectoryUserRow;
}

describe("group rules", () => {
  it("name one group per rule from the person's value, with the prefix; an attribute works like a field", () => {
    const rules = [{ field: "department" as const }, { field: "designation" as const, prefix: "Role: " }, { field: "attributes.site" as const, prefix: "Site " }];
    const groups = groupsFor(person({ department: " Engineering ", designation: "Analyst", attributes: { site: "Leeds" } }), rules);
    expect(groups.map((g) => g.name)).toEqual(["Engineering", "Role: Analyst", "Site Leeds"]);
  });

  it("a rule whose field is empty or missing puts the person in no group", () => {
    expect(groupsFor(person({ department: "   " }), [{ field: "department" }, { field: "attributes.site" }])).toEqual([]);
  });
});
