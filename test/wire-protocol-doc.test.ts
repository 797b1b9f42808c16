/**
 * wire/PROTOCOL.md cannot rot: its tables are parsed and compared with the code. Every kind's
 * field table against SCHEMAS (kind number, field names, order, type, limit), the kinds table
 * against Kind, the limits table against wire/limits.ts, the code tables against
 * DisconnectReason / LobbyErrorCode / LinkStatus, the decode-order table against
 * DecodeErrorCode, the byte layouts of section 6 (ticket, sealed grant) against
 * lib/security and wire/limits.ts, the worked examples against the test vectors
 * (messages.json, security.json for the tags of 6.6, admission.json for 6.1 and 6.4), the
 * timing defaults of 7.1 against the peer's and the lobby's constants, and every file the
 * document names against the repository.
 *
 * Table formats it relies on (all GitHub-flavoured markdown pipe tables):
 *   kind fields:   "#### Name (0xNN)" then | # | field | type | limit | meaning |
 *   list entries:  "#### EntryName"   then | # | field | type | limit | meaning |
 *   kinds:         | kind | name | direction | reply | claims |
 *   limits:        | constant | value | why |
 *   codes:         "#### CodeSetName" then | value | name | meaning |
 *   decode order:  | step | check | code |
 *   byte layouts:  "#### Ticket layout" / "#### Sealed grant layout" then | field | bytes | at most | content |
 *   timing:        | what | constant | default | chosen by | rule |
 */
import { existsSync, readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as limits from "../wire/limits.ts";
import {
  DecodeErrorCode,
  DisconnectReason,
  IntroStatus,
  Kind as CoreKind,
  LinkStatus,
  LobbyErrorCode,
  NAT_SCHEMAS,
  NatKind,
  SCHEMAS as CORE_SCHEMAS,
  type FieldDef,
  type Spec,
} from "../wire/index.ts";
import { MAX_EPOCHS } from "../lib/security/grid-keys.ts";
import { AEAD_TAG_BYTES, ED25519_SIGNATURE_BYTES } from "../lib/security/crypto.ts";
import { TICKET_HEADER_BYTES, TICKET_MAX_ADDRESS_BYTES, TICKET_MAX_BYTES, TICKET_V2_BYTES, TICKET_V2_UNSIGNED_BYTES } from "../lib/security/ticket.ts";
import { JOIN_TOKEN_MAX_BYTES, JOIN_TOKEN_MAX_GRID_BYTES, JOIN_TOKEN_MAX_PLAYER_BYTES, JOIN_TOKEN_NONCE_BYTES } from "../lib/security/join-token.ts";
import * as lobbyConfig from "../lib/lobby/config.ts";
import * as peerConfig from "../lib/peer/config.ts";
import { MAX_BACKOFF_MS } from "../lib/peer/request-table.ts";
import { DEFAULT_WINDOW_BITS } from "../lib/relay/duplicate-window.ts";
import { formatSocketAddress } from "../wire/address.ts";
import { parseAddress } from "../platform/node/address.ts";
import { readVectorFiles } from "../scripts/gen-vectors.ts";

// The NAT traversal kinds (4.7) are version 1 kinds like the others; the code keeps them
// apart only while the reference peer does not speak them (wire/kinds.ts NatKind).
const Kind = { ...CoreKind, ...NatKind };
const SCHEMAS = { ...CORE_SCHEMAS, ...NAT_SCHEMAS };

const doc = readFileSync(new URL("../wire/PROTOCOL.md", import.meta.url), "utf8");

interface Table {
  readonly heading: string;
  readonly header: string;
  readonly rows: string[][];
}

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

/** Every pipe table outside code fences, with the nearest heading above it. */
function parseTables(md: string): Table[] {
  const out: Table[] = [];
  const lines = md.split("\n");
  let heading = "";
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith("```")) fenced = !fenced;
    if (fenced) continue;
    if (line.startsWith("#")) heading = line.replace(/^#+\s*/, "").trim();
    if (!line.startsWith("|")) continue;
    const header = cells(line).join(" | ");
    // A malformed table shows up as a failing test below (its header matches nothing).
    if (!/^\|[-| :]+\|$/.test(lines[i + 1] ?? "")) continue;
    const rows: string[][] = [];
    i += 2;
    while (i < lines.length && (lines[i] as string).startsWith("|")) rows.push(cells(lines[i++] as string));
    i--;
    out.push({ heading, header, rows });
  }
  return out;
}

const tables = parseTables(doc);
const byHeader = (header: string): Table[] => tables.filter((t) => t.header === header);
const FIELDS = "# | field | type | limit | meaning";
const KIND_NAMES = Object.keys(Kind) as (keyof typeof Kind)[];
const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, "0")}`;

/** The type and limit cells PROTOCOL.md writes for a spec (its section 1.1 vocabulary). */
function specCells(spec: Spec): [type: string, limit: string] {
  switch (spec.t) {
    case "uint":
      return [spec.max <= 127 ? "fixint" : "uint", `0..${spec.max}`];
    case "optUint":
      return ["uint or nil", `0..${spec.max}`];
    case "bool":
      return ["bool", "-"];
    case "str":
      return ["str", `<= ${spec.maxBytes} bytes`];
    case "bin":
      return ["bin", `<= ${spec.maxBytes} bytes`];
    case "uints":
      return ["array of uint", `<= ${spec.maxItems} items of 0..${spec.max}`];
    case "list":
      return ["array of <entry>", `<= ${spec.maxItems} items`];
  }
}

const fieldTables = byHeader(FIELDS);
const kindTables = new Map<string, Table>();
const entryTables = new Map<string, Table>();
for (const t of fieldTables) {
  const m = /(?:^|\s)([A-Za-z]+) \((0x[0-9a-f]{2})\)$/.exec(t.heading);
  if (m !== null) {
    const name = m[1] as string;
    assert.not.ok(kindTables.has(name), `${name} documented twice`);
    kindTables.set(name, t);
    assert.is(m[2], hex2(Kind[name as keyof typeof Kind] ?? -1), `heading "${t.heading}": kind number`);
  } else {
    entryTables.set(t.heading, t);
  }
}

/** Compares a table's rows from `first` on with a list of field defs; returns the list entry tables used. */
function checkFields(where: string, rows: string[][], first: number, defs: readonly FieldDef[], used: Set<string>): void {
  assert.is(rows.length, first + defs.length, `${where}: ${rows.length - first} fields documented, ${defs.length} in the schema`);
  defs.forEach(([name, spec], i) => {
    const row = rows[first + i] as string[];
    const [type, limit] = specCells(spec);
    assert.is(row[0], String(first + i), `${where}.${name}: position`);
    assert.is(row[1], name, `${where}: field ${first + i} is "${name}" in the schema`);
    if (spec.t === "list") {
      const m = /^array of (\w+)$/.exec(row[2] ?? "");
      assert.ok(m !== null, `${where}.${name}: type "${row[2]}" should be "array of <Entry>"`);
      const entry = entryTables.get(m[1] as string);
      assert.ok(entry !== undefined, `${where}.${name}: no table for entry ${m[1]}`);
      used.add(m[1] as string);
      checkFields(m[1] as string, entry.rows, 0, spec.of, used);
    } else {
      assert.is(row[2], type, `${where}.${name}: type`);
    }
    assert.is(row[3], limit, `${where}.${name}: limit`);
    assert.ok((row[4] ?? "").length > 0, `${where}.${name}: meaning is empty`);
  });
}

test("section 4: every kind has one field table, matching SCHEMAS field by field", () => {
  const used = new Set<string>();
  for (const name of KIND_NAMES) {
    const t = kindTables.get(name);
    assert.ok(t !== undefined, `PROTOCOL.md has no "#### ${name} (${hex2(Kind[name])})" field table`);
    assert.equal(t.rows[0]?.slice(0, 4), ["0", "version", "fixint", "1"], `${name}: row 0`);
    assert.equal(t.rows[1]?.slice(0, 4), ["1", "kind", "fixint", hex2(Kind[name])], `${name}: row 1`);
    checkFields(name, t.rows, 2, SCHEMAS[Kind[name]], used);
  }
  assert.equal([...kindTables.keys()].sort(), [...KIND_NAMES].sort(), "a documented kind is not in Kind");
  assert.equal([...entryTables.keys()].sort(), [...used].sort(), "an entry table is not used by any list (or a heading is malformed)");
});

test("section 1.1 defines every type the field tables use", () => {
  const defined = new Set((byHeader("type | a sender writes | notes")[0]?.rows ?? []).map((r) => r[0]));
  for (const t of fieldTables) {
    for (const row of t.rows) {
      const type = (row[2] ?? "").replace(/^array of \w+$/, "array of X");
      assert.ok(defined.has(type), `${t.heading}: type "${row[2]}" is not in section 1.1`);
    }
  }
});

test("section 3: the kinds table lists every kind once, with its direction and reply", () => {
  const rows = byHeader("kind | name | direction | reply | claims")[0]?.rows ?? [];
  assert.is(rows.length, KIND_NAMES.length);
  const direction = (k: number): string =>
    k < 0x20 || (k >= 0x60 && k <= 0x6f) ? "peer -> peer" : k < 0x40 ? "peer -> lobby" : k < 0x60 ? "lobby -> peer" : "peer <-> lobby";
  for (const [hex, name, dir, reply] of rows as [string, keyof typeof Kind, string, string][]) {
    assert.is(hex, hex2(Kind[name] ?? -1), `kinds table: ${name}`);
    assert.is(dir, direction(Kind[name]), `kinds table: ${name} direction`);
    if (reply === "-" || reply.startsWith("none")) continue;
    // A request and its reply both carry req, and travel in opposite directions between a
    // peer and the lobby (or both peer -> peer).
    const r = reply as keyof typeof Kind;
    assert.ok(r in Kind, `kinds table: ${name}'s reply "${reply}" is not a kind`);
    assert.is(SCHEMAS[Kind[name]][0]?.[0], "req", `${name} is a request: its first field is req`);
    assert.is(SCHEMAS[Kind[r]][0]?.[0], "req", `${reply} is a reply: its first field is req`);
    if (dir !== "peer -> peer") assert.is.not(direction(Kind[r]), dir, `${name} -> ${reply}`);
    else assert.is(direction(Kind[r]), dir);
  }
  assert.equal(rows.map((r) => r[1]).sort(), [...KIND_NAMES].sort());
});

test("section 6: every kind but the notices (Data, Repair, Message, MessageRepair, Routed, RepairHint, GridStatus, LobbyClosing, Prune, Graft, RepairRequest) and SessionFrame carries req first", () => {
  // A SessionFrame carries a request or reply whose own first field is req (6.10).
  const noReq = KIND_NAMES.filter((n) => SCHEMAS[Kind[n]][0]?.[0] !== "req");
  assert.equal(noReq.sort(), ["Data", "Graft", "GridStatus", "LobbyClosing", "Message", "MessageRepair", "Prune", "Repair", "RepairHint", "RepairRequest", "Routed", "SessionFrame"]);
});

test("section 2: the limits table matches wire/limits.ts, and documents every export", () => {
  const rows = byHeader("constant | value | why")[0]?.rows ?? [];
  const documented = new Map(rows.map((r) => [(r[0] ?? "").replace(/`/g, ""), Number(r[1])]));
  const exported = Object.entries(limits as Record<string, unknown>);
  for (const [name, value] of exported) assert.is(documented.get(name), value, `limit ${name}`);
  assert.is(documented.size, exported.length, "PROTOCOL.md documents a limit wire/limits.ts does not export");
});

test("section 4: the code tables match DisconnectReason, LobbyErrorCode and LinkStatus", () => {
  const sets: Record<string, Record<string, number>> = { DisconnectReason, LobbyErrorCode, LinkStatus, IntroStatus };
  const codeTables = byHeader("value | name | meaning");
  assert.equal(codeTables.map((t) => t.heading).sort(), Object.keys(sets).sort());
  for (const t of codeTables) {
    const documented = Object.fromEntries(t.rows.map((r) => [r[1], Number(r[0])]));
    assert.equal(documented, sets[t.heading], t.heading);
  }
});

test("section 5: the decode-order table names only DecodeErrorCodes, and all of them", () => {
  const rows = byHeader("step | check | code")[0]?.rows ?? [];
  const all = new Set<string>(Object.values(DecodeErrorCode));
  const seen = new Set<string>();
  for (const row of rows) {
    for (const m of (row[2] ?? "").matchAll(/`([a-z-]+)`/g)) {
      assert.ok(all.has(m[1] as string), `step ${row[0]}: "${m[1]}" is not a DecodeErrorCode`);
      seen.add(m[1] as string);
    }
  }
  assert.equal([...seen].sort(), [...all].sort());
});

test("worked examples: every hex dump in PROTOCOL.md is a test vector, and so is the JSON example", () => {
  const { valid, text, security, admission } = readVectorFiles();
  const known = new Set(valid.map((v) => v.hex));
  // 6.6 shows the MAC key and signed datagrams of security.json.
  const s = security;
  for (const h of [s.macKey, s.data.unsigned, s.data.signed, s.data.forwarded, s.ping.unsigned, s.ping.signed, s.link.ping.signed, s.session.request.hex]) known.add(h);
  // 6.1 and 6.4 show the session key and the two grant nonces of admission.json.
  const a = admission;
  for (const h of [a.handshake.sessionKey, a.grant.nonce, a.rejoinGrant.nonce]) known.add(h);
  const dumps = [...doc.matchAll(/^((?:[0-9a-f]{2} )+[0-9a-f]{2})$/gm)].map((m) => (m[1] as string).replace(/ /g, ""));
  assert.ok(dumps.length >= 8, `found ${dumps.length} hex dumps`);
  for (const d of dumps) assert.ok(known.has(d), `PROTOCOL.md shows ${d}, which is no vector's hex`);
  for (const h of [s.macKey, s.data.signed, s.data.forwarded, s.ping.signed]) assert.ok(dumps.includes(h), `6.6 does not show ${h}`);
  assert.ok(dumps.includes(s.session.request.hex), "6.10 does not show the peer's first session frame");
  assert.ok(dumps.includes(s.link.ping.signed), "6.13 does not show the Ping stamped under the link key");
  assert.ok(doc.includes(`linkKey ${s.link.linkKey.replace(/(..)(?!$)/g, "$1 ")}`), "6.13 does not show the link key");
  for (const h of [a.handshake.sessionKey, a.grant.nonce, a.rejoinGrant.nonce]) assert.ok(dumps.includes(h), `6.1 / 6.4 do not show ${h}`);
  assert.match(doc, `S = ${a.inputs.session} (\`${a.inputs.session.toString(16).padStart(8, "0")}\`)`);
  const json = /```json\n(.*)\n```/.exec(doc);
  assert.ok(json !== null);
  // Compared with the file as written ({"$bin": hex}), not with the revived Uint8Arrays.
  const example = JSON.parse(json[1] as string) as { name: string };
  const raw = JSON.parse(text.messages) as { name: string }[];
  assert.equal(example, raw.find((v) => v.name === example.name));
});

test("6.6: the MAC key derivation and the example's epoch byte match security.json", () => {
  const { security } = readVectorFiles();
  assert.match(doc, 'macKey    = HKDF-SHA256(ikm = G, salt = "relaygrid", info = "mac v1", length = 16)');
  assert.match(doc, `epoch ${security.epoch}, so the epoch byte is 0x${(security.epoch & 0xff).toString(16).padStart(2, "0")}`);
  assert.ok(security.data.tag.startsWith((security.epoch & 0xff).toString(16).padStart(2, "0")));
});

/** The "at most" column of a byte layout, summed; every row must have a numeric one. */
function layout(heading: string): { rows: string[][]; max: number } {
  const t = byHeader("field | bytes | at most | content").find((x) => x.heading === heading);
  assert.ok(t !== undefined, `PROTOCOL.md has no "#### ${heading}" table`);
  let max = 0;
  for (const r of t.rows) {
    const n = Number(r[2]);
    assert.ok(Number.isInteger(n) && n > 0, `${heading}: row ${r[0]} "at most" is ${r[2]}`);
    max += n;
  }
  return { rows: t.rows, max };
}

test("6.3: the ticket layout matches lib/security/ticket.ts and MAX_TICKET_BYTES", () => {
  const { rows, max } = layout("Ticket layout");
  assert.equal(rows.map((r) => r[0]), ["version", "grid", "peer", "epoch", "n", "address", "signature"]);
  assert.equal(rows.map((r) => r[1]), ["1", "4", "4", "4", "1", "n", String(ED25519_SIGNATURE_BYTES)]);
  const fixed = rows.slice(0, 5).reduce((a, r) => a + Number(r[1]), 0);
  assert.is(fixed, TICKET_HEADER_BYTES);
  assert.is(rows[5]?.[2], String(TICKET_MAX_ADDRESS_BYTES));
  assert.is(max, TICKET_MAX_BYTES);
  assert.is(max, limits.MAX_TICKET_BYTES);
  assert.match(doc, `78 + n bytes, at most ${limits.MAX_TICKET_BYTES}`);
  assert.match(rows[6]?.[3] ?? "", '"relaygrid-ticket-v1"');
});

test("6.3: the key-bound ticket layout matches lib/security/ticket.ts (version 2)", () => {
  const { rows, max } = layout("Key-bound ticket layout");
  assert.equal(rows.map((r) => r[0]), ["version", "grid", "peer", "epoch", "key", "signature"]);
  assert.is(rows[0]?.[3], "2");
  assert.is(rows.slice(0, 5).reduce((a, r) => a + Number(r[1]), 0), TICKET_V2_UNSIGNED_BYTES);
  assert.is(max, TICKET_V2_BYTES);
  assert.ok(max <= limits.MAX_TICKET_BYTES, "a key-bound ticket fits every ticket field");
  assert.match(rows[5]?.[3] ?? "", `"relaygrid-ticket-v2" followed by the ${TICKET_V2_UNSIGNED_BYTES} bytes before it`);
});

test("6.10: the join token layout matches lib/security/join-token.ts, and a sealed one fits JoinToken", () => {
  const { rows, max } = layout("Join token layout");
  assert.equal(rows.map((r) => r[0]), ["version", "n", "grid", "p", "player", "expiresAt", "nonce", "signature"]);
  assert.equal(rows.map((r) => r[1]), ["1", "1", "n", "1", "p", "4", String(JOIN_TOKEN_NONCE_BYTES), String(ED25519_SIGNATURE_BYTES)]);
  assert.equal([rows[2]?.[2], rows[4]?.[2]], [String(JOIN_TOKEN_MAX_GRID_BYTES), String(JOIN_TOKEN_MAX_PLAYER_BYTES)]);
  assert.is(max, JOIN_TOKEN_MAX_BYTES);
  assert.match(doc, `79 + n + p bytes, at most ${JOIN_TOKEN_MAX_BYTES}`);
  assert.ok(JOIN_TOKEN_MAX_BYTES <= limits.MAX_JOIN_TOKEN_BYTES && limits.MAX_JOIN_TOKEN_BYTES + AEAD_TAG_BYTES === limits.MAX_SEALED_TOKEN_BYTES);
  assert.match(rows[7]?.[3] ?? "", '"relaygrid-join-token-v1"');
});

test("6.4: the sealed grant layout adds up to MAX_SEALED_BYTES", () => {
  const { rows, max } = layout("Sealed grant layout");
  assert.equal(rows.map((r) => r[0]), ["activeEpoch", "count", "keys", "ticketLen", "ticket", "AEAD tag"]);
  assert.is(rows[2]?.[2], String(MAX_EPOCHS * 36));
  assert.is(rows[4]?.[2], String(TICKET_MAX_BYTES));
  assert.is(rows[5]?.[2], String(AEAD_TAG_BYTES));
  assert.is(max, limits.MAX_SEALED_BYTES);
});

test("7.1: every timing default in the table is the reference implementation's constant", () => {
  const t = byHeader("what | constant | default | chosen by | rule")[0];
  assert.ok(t !== undefined, "PROTOCOL.md has no 7.1 timing table");
  const constants: Record<string, number> = { ...peerConfig, ...lobbyConfig, DEFAULT_WINDOW_BITS, MAX_BACKOFF_MS } as unknown as Record<string, number>;
  const heartbeat = lobbyConfig.DEFAULT_HEARTBEAT_MS;
  assert.ok(t.rows.length >= 15, `${t.rows.length} rows`);
  for (const [what, constant, value, chooser, rule] of t.rows as [string, string, string, string, string][]) {
    const name = constant.replace(/`/g, "");
    const actual = constants[name] ?? Number.NaN;
    assert.ok(Number.isFinite(actual), `${what}: ${name} is not a constant of lib/peer/config.ts, lib/lobby/config.ts or lib/relay`);
    const m = /^([0-9.]+) (ms|heartbeats|seqs)?(?: \(([0-9]+) ms\))?$|^([0-9]+)$/.exec(value);
    assert.ok(m !== null, `${what}: default "${value}"`);
    assert.is(Number(m[1] ?? m[4]), actual, `${what}: ${name}`);
    if (m[2] === "heartbeats") assert.is(Number(m[3]), Math.round(actual * heartbeat), `${what}: in ms with the default heartbeat`);
    assert.ok(["each peer", "the lobby", "each requester", "each joining peer", "each receiver"].includes(chooser), `${what}: chosen by "${chooser}"`);
    assert.ok(rule.length > 20, `${what}: no rule`);
  }
  assert.match(t.rows.find((r) => r[0] === "first retransmission")?.[4] ?? "", `\`MAX_BACKOFF_MS\` (${MAX_BACKOFF_MS} ms)`);
});

test("4.5: the address text form's examples are what wire/address.ts writes", () => {
  const rows = byHeader("address | form | example")[0]?.rows ?? [];
  assert.is(rows.length, 4);
  for (const row of rows) {
    const texts = [...(row[2] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    const shown = texts[texts.length - 1] as string;
    const hp = parseAddress(shown);
    assert.ok(hp !== undefined, `${row[0]}: ${shown}`);
    assert.is(formatSocketAddress(hp.host, hp.port), shown, `${row[0]}: ${shown} is canonical`);
    if (texts.length === 2) assert.is(formatSocketAddress(texts[0] as string, hp.port), shown, `${row[0]}: ${texts[0]} becomes ${shown}`);
  }
});

test("1: the document stands alone: no reference to a file outside the repository", () => {
  assert.not.match(doc, /SPEC\.md|shared\//);
  for (const m of doc.matchAll(/`((?:docs|lib|wire|test|scripts|platform)\/[A-Za-z0-9_./-]+)`/g)) {
    const path = (m[1] as string).replace(/\/$/, "");
    assert.ok(existsSync(new URL(`../${path}`, import.meta.url)), `PROTOCOL.md names ${path}, which is not in the repository`);
  }
});

test.run();
