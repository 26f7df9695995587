import type { ConfigDraft, MappingRowDraft, ScopeOp, ScopeRowDraft } from "./views";
import { SCOPE_OPS } from "./views";
import type { GroupRuleDraft } from "./cards";

/**
 * The config change a section's form asks for, and what was typed, so that a refused save
 * shows it again with each error beside its row. Rows whose every box is empty are left
 * out (that is how a row is removed, and how the spare rows stay unused).
 */
export function configFromForm(form: Record<string, string>): { patch: Record<string, unknown>; draft: ConfigDraft } {
  const section = form.section === "scope" ? "scope" : form.section === "settings" ? "settings" : "mapping";
  if (section === "mapping") return mappingFromForm(form);
  if (section === "scope") return scopeFromForm(form);
  return settingsFromForm(form);
}

/** A number typed in a box; what is not one is passed on as typed, for the config's check to refuse beside the box. */
export function formNumber(raw: string | undefined): number | string | undefined {
  return raw !== undefined && raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
}

function rowIndexes(form: Record<string, string>, prefix: string): number[] {
  return Object.keys(form)
    .flatMap((k) => (k.startsWith(prefix) && /^\d+$/.test(k.slice(prefix.length)) ? [Number(k.slice(prefix.length))] : []))
    .sort((a, b) => a - b);
}

function mappingFromForm(form: Record<string, string>) {
  const rows: MappingRowDraft[] = [];
  const mapping: Record<string, unknown>[] = [];
  for (const i of rowIndexes(form, "to_")) {
    const to = (form[`to_${i}`] ?? "").trim();
    const value = (form[`value_${i}`] ?? "").trim();
    const kind = form[`kind_${i}`] === "expr" ? "expr" : "from";
    const required = form[`required_${i}`] === "1";
    if (!to && !value) continue;
    const path = `config.mapping.${mapping.length}`;
    rows.push({ to, kind, value, required, path });
    mapping.push({ to, [kind]: value, ...(required ? { required: true } : {}) });
  }
  return { patch: { mapping }, draft: { section: "mapping" as const, mapping: rows, errors: [] } };
}

function scopeFromForm(form: Record<string, string>) {
  const rows: ScopeRowDraft[] = [];
  const lists: Record<"exclude" | "include", Record<string, unknown>[]> = { exclude: [], include: [] };
  for (const i of rowIndexes(form, "field_")) {
    const field = (form[`field_${i}`] ?? "").trim();
    const value = (form[`value_${i}`] ?? "").trim();
    if (!field && !value) continue;
    const list = form[`list_${i}`] === "include" ? "include" : "exclude";
    const op: ScopeOp = (SCOPE_OPS as readonly string[]).includes(form[`op_${i}`] ?? "") ? (form[`op_${i}`] as ScopeOp) : "equals";
    const path = `config.scope.${list}.${lists[list].length}`;
    rows.push({ list, field, op, value, path });
    const arg = op === "in" || op === "notIn" ? value.split(",").map((s) => s.trim()).filter(Boolean) : op === "exists" ? (value === "true" ? true : value === "false" ? false : value) : value;
    lists[list].push({ field, [op]: arg });
  }
  const scope = { exclude: lists.exclude, ...(lists.include.length ? { include: lists.include } : {}) };
  return { patch: { scope }, draft: { section: "scope" as const, scope: rows, errors: [] } };
}

function settingsFromForm(form: Record<string, string>) {
  const values = {
    matchingBy: form.matchingBy ?? "email",
    caseSensitive: form.caseSensitive === "1" ? "1" : "",
    onDelete: form.onDelete ?? "ignore",
    onRemoteDelete: form.onRemoteDelete ?? "recreate",
    resyncMinutes: form.resyncMinutes ?? "",
    reconcile: form.reconcile ?? "daily",
    maxDisablePercent: form.maxDisablePercent ?? "",
  };
  const patch = {
    matching: { by: values.matchingBy, caseSensitive: values.caseSensitive === "1" },
    onDelete: values.onDelete,
    onRemoteDelete: values.onRemoteDelete,
    schedule: { resyncMinutes: formNumber(values.resyncMinutes), reconcile: values.reconcile },
    maxDisablePercent: formNumber(values.maxDisablePercent),
  };
  return { patch, draft: { section: "settings" as const, values, errors: [] } };
}

/** The group rules typed in the editor (rows with no field are left out), and the rows to show again. */
export function groupRulesFromForm(form: Record<string, string>): { groupRules: Record<string, unknown>[]; rows: GroupRuleDraft[] } {
  const rows: GroupRuleDraft[] = [];
  const groupRules: Record<string, unknown>[] = [];
  for (const i of rowIndexes(form, "field_")) {
    const field = (form[`field_${i}`] ?? "").trim();
    const prefix = form[`prefix_${i}`] ?? "";
    if (!field) continue;
    const create = form[`create_${i}`] === "1";
    rows.push({ field, prefix, create, path: `config.groupRules.${groupRules.length}` });
    groupRules.push({ field, ...(prefix ? { prefix } : {}), create });
  }
  return { groupRules, rows };
}

/** A source's pull settings: the schedule keeps its push keys, the throttle and date format are the source's. */
export function pullsFromForm(form: Record<string, string>, schedule: Record<string, unknown>): { patch: Record<string, unknown>; values: Record<string, string> } {
  const values = {
    pullMinutes: form.pullMinutes ?? "",
    fullPull: form.fullPull ?? "daily",
    dateFormat: form.dateFormat ?? "",
    requestsPerMinute: form.requestsPerMinute ?? "",
    callsPerDay: form.callsPerDay ?? "",
  };
  const patch = {
    schedule: { ...schedule, pullMinutes: formNumber(values.pullMinutes), fullPull: values.fullPull },
    dateFormat: values.dateFormat.trim(),
    throttle: { requestsPerMinute: formNumber(values.requestsPerMinute), callsPerDay: values.callsPerDay.trim() === "" ? null : formNumber(values.callsPerDay) },
  };
  return { patch, values };
}
