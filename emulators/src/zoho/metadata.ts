// Zoho CRM v8 metadata that Zoho's SDKs read before any record call (OAS `v8.0/modules.json`,
// `v8.0/fields.json`): the modules the emulator holds and the fields of each. Field
// lists beyond these shapes are unconfirmed; they cover what the emulated modules store.

type DataType = "text" | "email" | "phone" | "picklist" | "date" | "datetime" | "lookup" | "ownerlookup" | "boolean" | "bigint" | "textarea";

const JSON_TYPE: Record<DataType, string> = {
  text: "string",
  email: "string",
  phone: "string",
  picklist: "string",
  date: "string",
  datetime: "string",
  lookup: "jsonobject",
  ownerlookup: "jsonobject",
  boolean: "boolean",
  bigint: "string",
  textarea: "string",
};

/** [api_name, data_type, mandatory?] per module. */
const FIELDS: Record<string, [string, DataType, boolean?][]> = {
  Contacts: [
    ["id", "bigint"], ["First_Name", "text"], ["Last_Name", "text", true], ["Email", "email"], ["Secondary_Email", "email"], ["Phone", "phone"],
    ["Mobile", "phone"], ["Title", "text"], ["Department", "text"], ["Date_of_Birth", "date"], ["Description", "textarea"], ["Mailing_City", "text"],
    ["Owner", "ownerlookup"], ["Account_Name", "lookup"], ["Created_Time", "datetime"], ["Modified_Time", "datetime"], ["Created_By", "ownerlookup"], ["Modified_By", "ownerlookup"],
  ],
  Leads: [
    ["id", "bigint"], ["First_Name", "text"], ["Last_Name", "text", true], ["Email", "email"], ["Company", "text"], ["Phone", "phone"], ["Mobile", "phone"],
    ["Designation", "text"], ["Lead_Status", "picklist"], ["Owner", "ownerlookup"], ["Created_Time", "datetime"], ["Modified_Time", "datetime"], ["Created_By", "ownerlookup"], ["Modified_By", "ownerlookup"],
  ],
  Accounts: [
    ["id", "bigint"], ["Account_Name", "text", true], ["Phone", "phone"], ["Website", "text"], ["Owner", "ownerlookup"], ["Created_Time", "datetime"], ["Modified_Time", "datetime"],
    ["Created_By", "ownerlookup"], ["Modified_By", "ownerlookup"],
  ],
  Events: [
    ["id", "bigint"], ["Event_Title", "text", true], ["Start_DateTime", "datetime", true], ["End_DateTime", "datetime", true], ["All_day", "boolean"], ["Venue", "text"],
    ["Description", "textarea"], ["Who_Id", "lookup"], ["What_Id", "lookup"], ["Owner", "ownerlookup"], ["Created_Time", "datetime"], ["Modified_Time", "datetime"],
    ["Created_By", "ownerlookup"], ["Modified_By", "ownerlookup"],
  ],
};

const MODULE_IDS: Record<string, string> = { Contacts: "5725767000000002179", Leads: "5725767000000002175", Accounts: "5725767000000002177", Events: "5725767000000002181" };

/** `GET /crm/v8/settings/modules`. */
export const MODULES = Object.keys(FIELDS).map((api_name) => ({
  id: MODULE_IDS[api_name]!,
  api_name,
  module_name: api_name,
  singular_label: api_name.replace(/s$/, ""),
  plural_label: api_name,
  api_supported: true,
  generated_type: "default",
  creatable: true,
  editable: true,
  deletable: true,
  viewable: true,
}));

/** `GET /crm/v8/settings/fields?module=…`, or null for a module the emulator does not hold. */
export function fieldsOf(module: string) {
  const fields = FIELDS[module];
  if (!fields) return null;
  return fields.map(([api_name, data_type, mandatory], i) => ({
    id: `${MODULE_IDS[module]!.slice(0, 13)}${String(100 + i).padStart(6, "0")}`,
    api_name,
    field_label: api_name.replace(/_/g, " "),
    display_label: api_name.replace(/_/g, " "),
    data_type,
    json_type: JSON_TYPE[data_type],
    length: data_type === "textarea" ? 32000 : 255,
    read_only: ["id", "Created_Time", "Modified_Time", "Created_By", "Modified_By"].includes(api_name),
    system_mandatory: mandatory === true,
    custom_field: false,
    visible: true,
    pick_list_values: data_type === "picklist" ? [{ display_value: "New", actual_value: "New", id: "1" }] : [],
    lookup: data_type === "lookup" ? { module: { api_name: "Accounts", id: MODULE_IDS.Accounts } } : {},
  }));
}

/** Whether a field exists in a module (COQL refuses unknown columns). */
export function hasField(module: string, field: string): boolean {
  return FIELDS[module]?.some(([name]) => name === field) ?? false;
}
