import { beforeEach, describe, expect, it } from "vitest";
import { emu, EMU, resetEmulator, zoho, zohoTokens } from "./helpers";

const CONNECT_SCOPES = ["zohopulse.networklist.READ", "zohopulse.networkAdmin.CREATE", "zohopulse.networkAdmin.DELETE", "zohopulse.grouplist.CREATE", "zohopulse.grouplist.DELETE"];

beforeEach(() => resetEmulator());

describe("Zoho Connect emulator", () => {
  let token: string;
  const base = () => `${EMU}/zoho/us/connect`;
  const form = (params: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(params) });

  beforeEach(async () => {
    token = (await zohoTokens("us", "admin@acme.example", CONNECT_SCOPES)).access_token;
  });

  it("lists networks and members", async () => {
    const scopes = (await (await zoho(base(), token, "/pulse/api/allScopes")).json()) as { allScopes: { scopes: { id: string; isDefault: boolean }[] } };
    expect(scopes.allScopes.scopes[0]).toMatchObject({ id: "105000000001", isDefault: true });
    const members = (await (await zoho(base(), token, "/pulse/api/orgMembers?scopeID=105000000001")).json()) as { orgMembers: { usersDetails: { emailId: string; role: string }[] } };
    expect(members.orgMembers.usersDetails).toHaveLength(50);
    expect(members.orgMembers.usersDetails[0]).toMatchObject({ role: "ADMIN" });
    expect((await zoho(base(), token, "/pulse/api/orgMembers?scopeID=1")).status).toBe(400);
  });

  it("invites, creates a group, adds and removes members, removes from the network", async () => {
    const invited = await zoho(base(), token, "/pulse/api/inviteUsersToNetwork", form({ scopeID: "105000000001", emailIds: "new.one@acme.example,new.two@acme.example" }));
    expect(await invited.json()).toEqual({ inviteUsersToNetwork: { successUserCount: "2", result: "success" } });
    // Invited people are not members until they accept.
    const before = (await (await emu("/_emulator/zoho/connect")).json()) as { members: Record<string, { emailId: string }[]>; invited: Record<string, { email: string }[]> };
    expect(before.members["105000000001"]!.some((m) => m.emailId === "new.one@acme.example")).toBe(false);
    expect(before.invited["105000000001"]!.map((i) => i.email)).toEqual(["new.one@acme.example", "new.two@acme.example"]);
    // Inviting again does not double the invitation.
    await zoho(base(), token, "/pulse/api/inviteUsersToNetwork", form({ scopeID: "105000000001", emailIds: "new.one@acme.example" }));
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: {} });
    const group = (await (await zoho(base(), token, "/pulse/api/addGroup", form({ scopeID: "105000000001", name: "Analytics" }))).json()) as { addGroup: { result: string; partitionId: string } };
    expect(group.addGroup.result).toBe("success");
    const add = await zoho(base(), token, "/pulse/api/addUsersToGroup", form({ scopeID: "105000000001", partitionId: group.addGroup.partitionId, userEmailIds: "new.one@acme.example,ghost@acme.example" }));
    expect(await add.json()).toEqual({ addUsersToGroup: { result: "success", failedUserIds: ["ghost@acme.example"] } });

    const state = async () => (await (await emu("/_emulator/zoho/connect")).json()) as { groups: Record<string, { partitionId: string; members: string[] }[]>; members: Record<string, { id: string; emailId: string }[]> };
    const s1 = await state();
    const member = s1.members["105000000001"]!.find((m) => m.emailId === "new.one@acme.example")!;
    expect(s1.groups["105000000001"]!.find((g) => g.partitionId === group.addGroup.partitionId)!.members).toEqual([member.id]);

    const removed = await zoho(base(), token, `/pulse/api/removeUserFromGroup?scopeID=105000000001&partitionId=${group.addGroup.partitionId}&userId=${member.id}`, { method: "DELETE" });
    expect(await removed.json()).toEqual({ removeUserFromGroup: { result: "success" } });
    const gone = await zoho(base(), token, "/pulse/api/deleteUserFromNetwork", form({ scopeID: "105000000001", emailId: "new.two@acme.example" }));
    expect(await gone.json()).toEqual({ deleteUserFromNetwork: { result: "success" } });
    const s2 = await state();
    expect(s2.members["105000000001"]!.some((m) => m.emailId === "new.two@acme.example")).toBe(false);
  });

  it("needs the right scope", async () => {
    const readOnly = (await zohoTokens("us", "admin@acme.example", ["zohopulse.networklist.READ"])).access_token;
    const res = await zoho(base(), readOnly, "/pulse/api/addGroup", form({ scopeID: "105000000001", name: "X" }));
    expect(res.status).toBe(401);
  });
});

describe("Zoho People emulator", () => {
  it("locks the account for exceeding the throttle, answering 7209 until the lock ends", async () => {
    const t = (await zohoTokens("us", "admin@acme.example", ["ZOHOPEOPLE.forms.READ"])).access_token;
    await emu("/_emulator/zoho/people-throttle", { method: "PUT", json: { perMinute: 2, lockSeconds: 1 } });
    const get = async () => ((await (await zoho(`${EMU}/zoho/us/people`, t, "/people/api/forms/employee/getRecords?sIndex=1&limit=1")).json()) as { response: { status: number; errors?: { code: number } } }).response;
    expect((await get()).status).toBe(0);
    expect((await get()).status).toBe(0);
    expect((await get()).errors?.code).toBe(7209);
    expect((await get()).errors?.code).toBe(7209);
    await new Promise((r) => setTimeout(r, 1100));
    // The minute's calls still count: the next call past the limit locks again, until they age out.
    const throttle = (await (await emu("/_emulator/zoho/people-throttle")).json()) as { locks: number; served: unknown[] };
    expect(throttle).toMatchObject({ locks: 2 });
    expect(throttle.served).toHaveLength(2);
  });

  let token: string;
  const base = () => `${EMU}/zoho/us/people`;
  type Records = { response: { result: Record<string, Record<string, string>[]>[]; status: number; errors?: { code: number } } };

  beforeEach(async () => {
    token = (await zohoTokens("us", "admin@acme.example", ["ZOHOPEOPLE.forms.READ"])).access_token;
  });

  it("pages employees with sIndex and limit in the documented nested shape", async () => {
    const first = (await (await zoho(base(), token, "/people/api/forms/employee/getRecords?sIndex=1&limit=200")).json()) as Records;
    expect(first.response.status).toBe(0);
    expect(first.response.result).toHaveLength(200);
    const [recordId, [fields]] = Object.entries(first.response.result[0]!)[0]! as [string, Record<string, string>[]];
    expect(recordId).toMatch(/^\d+$/);
    expect(Object.keys(fields!)).toEqual(
      expect.arrayContaining(["EmployeeID", "FirstName", "LastName", "EmailID", "Department", "Designation", "Reporting_To", "Work_location", "Seating_Location", "Date_of_birth", "Mobile", "Work_phone", "Extension", "Nick_Name", "Gender", "Employeestatus", "ModifiedTime"]),
    );
    const second = (await (await zoho(base(), token, "/people/api/forms/employee/getRecords?sIndex=201&limit=200")).json()) as Records;
    expect(second.response.result).toHaveLength(50);
  });

  it("limit over 200 is error 7021; an unknown form 7011; a bad search value 7042", async () => {
    const over = (await (await zoho(base(), token, "/people/api/forms/employee/getRecords?sIndex=1&limit=201")).json()) as Records;
    expect(over.response).toMatchObject({ status: 1, errors: { code: 7021 } });
    const form = (await (await zoho(base(), token, "/people/api/forms/pets/getRecords")).json()) as Records;
    expect(form.response.errors!.code).toBe(7011);
    const search = (await (await zoho(base(), token, "/people/api/forms/employee/getRecords?SearchColumn=NAME&SearchValue=x")).json()) as Records;
    expect(search.response.errors!.code).toBe(7042);
  });

  it("modifiedtime returns only employees changed since, and search finds by e-mail", async () => {
    const before = Date.now();
    await emu("/_emulator/zoho/people/E0007", { method: "PUT", json: { Department: "Research" } });
    const changed = (await (await zoho(base(), token, `/people/api/forms/employee/getRecords?modifiedtime=${before - 1}`)).json()) as Records;
    expect(changed.response.result).toHaveLength(1);
    const fields = Object.values(changed.response.result[0]!)[0]![0]!;
    expect(fields).toMatchObject({ EmployeeID: "E0007", Department: "Research" });
    const found = (await (await zoho(base(), token, `/people/api/forms/employee/getRecords?SearchColumn=EMPLOYEEMAILALIAS&SearchValue=${fields.EmailID}`)).json()) as Records;
    expect(found.response.result).toHaveLength(1);
  });
});
