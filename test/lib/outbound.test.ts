import { describe, expect, it } from "vitest";
import { outboundUrlProblem, parseAllowlist } from "../../src/lib/outbound";

// Security: the outbound URL guard, for every URL a tenant supplies (an after handler's).
describe("the outbound URL guard", () => {
  it("refuses private, loopback, link-local, unique-local, metadata and reserved addresses in every form the URL parser accepts", () => {
    const refused = [
      "https://10.0.0.1/",
      "https://172.16.5.4/",
      "https://192.168.1.1/",
      "https://127.0.0.1/",
      "https://127.1/",
      "https://0177.0.0.1/",
      "https://0x7f.0.0.1/",
      "https://0x7f000001/",
      "https://2130706433/",
      "https://017700000001/",
      "https://169.254.169.254/latest/meta-data/",
      "https://0.0.0.0/",
      "https://100.64.0.1/",
      "https://224.0.0.1/",
      "https://255.255.255.255/",
      "https://[::1]/",
      "https://[::]/",
      "https://[0:0:0:0:0:0:0:1]/",
      "https://[fc00::1]/",
      "https://[fd12:3456:789a::1]/",
      "https://[fe80::1]/",
      "https://[ff02::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:7f00:1]/",
      "https://[::ffff:10.1.2.3]/",
      "https://[::ffff:169.254.169.254]/",
      "https://[64:ff9b::a9fe:a9fe]/",
      "https://[2002:7f00:1::]/",
      "https://[fd00:ec2::254]/",
    ];
    for (const url of refused) expect(outboundUrlProblem(url), url).toMatch(/^Must not be .* address\.$/);
  });

  it("refuses local names, plain http, credentials in the URL and what is not a URL", () => {
    expect(outboundUrlProblem("https://localhost/hook")).toMatch(/local or internal host/);
    expect(outboundUrlProblem("https://LOCALHOST./hook")).toMatch(/local or internal host/);
    expect(outboundUrlProblem("https://printer.local/")).toMatch(/local or internal host/);
    expect(outboundUrlProblem("https://metadata.google.internal/")).toMatch(/local or internal host/);
    expect(outboundUrlProblem("https://router.home.arpa/")).toMatch(/local or internal host/);
    expect(outboundUrlProblem("https://intranet/")).toMatch(/local or internal host/);
    expect(outboundUrlProblem("https://app.localhost/")).toMatch(/local or internal host/);
    expect(outboundUrlProblem("http://hooks.example.com/")).toBe("Must be an https URL.");
    expect(outboundUrlProblem("ftp://hooks.example.com/")).toBe("Must be an https URL.");
    expect(outboundUrlProblem("file:///etc/passwd")).toBe("Must be an https URL.");
    expect(outboundUrlProblem("https://user:pw@hooks.example.com/")).toBe("Must not carry credentials.");
    expect(outboundUrlProblem("not a url")).toBe("Not a URL.");
  });

  it("accepts public hosts and addresses", () => {
    for (const url of ["https://hooks.example.com/usersync", "https://8.8.8.8/", "https://[2606:4700:4700::1111]/", "https://[::ffff:8.8.8.8]/", "https://172.32.0.1/", "https://example.com:8443/x?y=1"]) {
      expect(outboundUrlProblem(url), url).toBeNull();
    }
  });

  it("lets allow-listed hosts use http and private addresses, on their port when one is given", () => {
    const allow = parseAllowlist("127.0.0.1:8788, localhost ,[::1]:9000");
    expect(outboundUrlProblem("http://127.0.0.1:8788/receivers/x", allow)).toBeNull();
    expect(outboundUrlProblem("http://127.0.0.1:8789/receivers/x", allow)).toMatch(/https/);
    expect(outboundUrlProblem("http://localhost:1234/", allow)).toBeNull();
    expect(outboundUrlProblem("https://localhost/", allow)).toBeNull();
    expect(outboundUrlProblem("http://[::1]:9000/", allow)).toBeNull();
    expect(outboundUrlProblem("http://[::1]:9001/", allow)).toMatch(/https/);
    // Credentials are refused even for an allow-listed host.
    expect(outboundUrlProblem("http://u:p@127.0.0.1:8788/", allow)).toBe("Must not carry credentials.");
    expect(() => parseAllowlist("127.0.0.1/path")).toThrow(/OUTBOUND_ALLOWLIST/);
    expect(parseAllowlist("")).toEqual([]);
  });
});
