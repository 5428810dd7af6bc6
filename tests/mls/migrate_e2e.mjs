// Real ts-mls members migrate their group between two running mimi-portd
// daemons (docs/protocol.md §3), checking every step:
//
//   node tests/mls/migrate_e2e.mjs --source URL --target URL --ca PEMFILE \
//        --token TOKEN --suite 1|2 --wire public|private [--json]
//        [--source-ds URL] [--target-ds URL] [--source-token TOKEN] [--history]
//
// --history: before step 2, Alice commits once at the source (epoch 2), so
// that the source has numbered messages of an earlier epoch and the group
// migrates at epoch 2. Members keep ONE fetch cursor (the last seq they
// read) wherever the group lives: at the target they continue after it, and
// must find the migration commit right after it (docs/protocol.md §3.7).
//
// --source-token: a client token of the source, which its embedded DS asks
// for to create the group (docs/protocol.md, "Member API authentication").
// Members sign every request to /ds/v1 with their leaf key (memberHeaders).
//
// --source-ds / --target-ds: where the members reach each side's Delivery
// Service (the /ds/v1 member API) when it is not the daemon itself, e.g. an
// operator's DS that mimi-portd drives through HTTP hooks (ds.mode = "http").
// Default: the --source / --target URL. Protocol calls always go to
// --source / --target; "moved_to" the target domain leads to --target-ds.
//
//  1. Alice creates a group with Bob and Carol (epoch 1) and uploads it to the
//     source's embedded DS (POST /ds/v1/groups).
//  2. Alice sends an application message through the source; Bob and Carol
//     decrypt it.
//  3. Bob asks the target for a migration (MigrationRequest, client token),
//     checks the MigrationResponse (echoed request, target signature), makes
//     a commit whose authenticated_data is MigrationCommitAAD{target}, signs
//     MigrationInit with his leaf key and sends MigrationInitRequest to the
//     source; 200 MigrationConfirmation, or 202 and then polls the status.
//  4. Checks the MigrationConfirmation: the source's signature under the key
//     it publishes for the suite, the target domain, the nonce, the group.
//     Bob merges his commit (epoch 2); the source purges the group.
//  5. Alice and Carol fetch from the source, get 410 "moved" naming the
//     target, fetch from the target, find Bob's commit and process it.
//  6. All three send an application message through the target and each
//     decrypts the other two's.
//  7. The source answers "moved" for the group.
//
// Exit 0 when every check passed; 1 with "FAILED: ..." otherwise; 2 on bad
// usage. --json prints a JSON summary as the last line of standard output.
// Uses ts-mls 1.6.4 and @noble/curves (pinned in package.json) and Node's
// own modules only.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  createGroupInfoWithExternalPub,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  processMessage,
} from "ts-mls";
import { encodeRatchetTree } from "ts-mls/ratchetTree.js";

// ---------------------------------------------------------------- arguments

const USAGE =
  "usage: migrate_e2e.mjs --source URL --target URL --ca PEMFILE --token TOKEN " +
  "--suite 1|2 --wire public|private [--json] [--source-ds URL] [--target-ds URL] " +
  "[--source-token TOKEN] [--history]";
const args = { json: false, history: false };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  if (a === "--json") {
    args.json = true;
  } else if (a === "--history") {
    args.history = true;
  } else if (["--source", "--target", "--ca", "--token", "--suite", "--wire", "--source-ds",
              "--target-ds", "--source-token"].includes(a) &&
             i + 1 < process.argv.length) {
    args[a.slice(2)] = process.argv[++i];
  } else {
    console.error(`${USAGE}\nunknown or incomplete argument: ${a}`);
    process.exit(2);
  }
}
for (const need of ["source", "target", "ca", "token", "suite", "wire"]) {
  if (!args[need]) {
    console.error(`${USAGE}\nmissing --${need}`);
    process.exit(2);
  }
}
const SUITES = {
  1: { name: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", scheme: "ed25519" },
  2: { name: "MLS_128_DHKEMP256_AES128GCM_SHA256_P256", scheme: "ecdsa_secp256r1_sha256" },
};
const suiteId = Number(args.suite);
if (!SUITES[suiteId] || !["public", "private"].includes(args.wire)) {
  console.error(`${USAGE}\n--suite must be 1 or 2 and --wire public or private`);
  process.exit(2);
}
const sourceUrl = args.source.replace(/\/+$/, "");
const targetUrl = args.target.replace(/\/+$/, "");
// The member API (/ds/v1) of each side's DS.
const sourceDsUrl = (args["source-ds"] ?? args.source).replace(/\/+$/, "");
const targetDsUrl = (args["target-ds"] ?? args.target).replace(/\/+$/, "");
const ca = readFileSync(args.ca);

// ------------------------------------------------------------------ helpers

const CONTENT_TYPE = "application/mimi-portability";
const PROFILE_LABEL_PREFIX = "MIMI Portability 1.0 ";
const utf8 = (s) => new TextEncoder().encode(s);
const fromUtf8 = (b) => new TextDecoder().decode(b);
const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const equal = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const concat = (...parts) => Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class CheckFailed extends Error {}
function check(cond, what) {
  if (!cond) throw new CheckFailed(what);
}

const log = (line) => {
  if (!args.json) console.log(line);
  else console.error(line);  // keep stdout for the summary
};
let stepNo = 0;
const step = (title) => log(`\n[${++stepNo}] ${title}`);
const ok = (line) => log(`    ok  ${line}`);

// RFC 9420 §2.1.2 variable-length integers and vectors.
function varint(n) {
  if (n < 0x40) return Uint8Array.of(n);
  if (n < 0x4000) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  if (n < 0x40000000) {
    return Uint8Array.of(0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  }
  throw new Error("varint too large");
}
const opaque = (b) => concat(varint(b.length), b);
function uint64(v) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return Uint8Array.from(b);
}
function uint32(v) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return Uint8Array.from(b);
}

// A strict reader for the profile's structs: every read names its field.
class Reader {
  constructor(bytes, struct) {
    this.b = bytes;
    this.off = 0;
    this.struct = struct;
  }
  fail(field, why) {
    throw new CheckFailed(`${this.struct}.${field}: ${why}`);
  }
  fixed(n, field) {
    if (this.off + n > this.b.length) this.fail(field, "truncated");
    const out = this.b.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  vector(field) {
    const first = this.fixed(1, field)[0];
    const prefix = first >> 6;
    if (prefix === 3) this.fail(field, "invalid varint prefix");
    let len = first & 0x3f;
    const extra = [0, 1, 3][prefix];
    for (const byte of this.fixed(extra, field)) len = len * 256 + byte;
    if ((prefix === 1 && len < 0x40) || (prefix === 2 && len < 0x4000)) {
      this.fail(field, "non-minimal varint");
    }
    return this.fixed(len, field);
  }
  end() {
    if (this.off !== this.b.length) this.fail("(end)", `${this.b.length - this.off} trailing bytes`);
  }
}

// SignWithLabel / VerifyWithLabel (RFC 9420 §5.1.2) with the profile prefix.
const signContent = (label, tbs) => concat(opaque(utf8(PROFILE_LABEL_PREFIX + label)), opaque(tbs));
function verifyWithLabel(publicKey, label, tbs, signature) {
  const msg = signContent(label, tbs);
  try {
    if (suiteId === 1) return ed25519.verify(signature, msg, publicKey);
    return p256.verify(signature, msg, publicKey, { format: "der", prehash: true, lowS: false });
  } catch {
    return false;
  }
}

// The headers of a member request to /ds/v1 (docs/protocol.md, "Member API
// authentication"): SignWithLabel(leaf key, "DSMemberRequest",
// DSMemberRequestTBS) with the profile prefix, over the method, the path
// without query, the group id, the DS's current epoch, the sender's leaf
// index and the body bytes exactly as sent.
async function memberHeaders(member, method, url, groupIdHex, body) {
  const leaf = member.state.privatePath.leafIndex;
  const epoch = member.epoch;
  const tbs = concat(opaque(utf8(method)), opaque(utf8(new URL(url).pathname)), opaque(unhex(groupIdHex)),
                     uint64(epoch), uint32(leaf), opaque(utf8(body ?? "")));
  const signature = await impl.signature.sign(member.kp.privatePackage.signaturePrivateKey,
                                              signContent("DSMemberRequest", tbs));
  return { "MIMI-Sender": String(leaf), "MIMI-Epoch": String(epoch), "MIMI-Signature": hex(signature) };
}
async function memberPostJson(member, url, groupIdHex, obj, what) {
  const body = JSON.stringify(obj);
  const res = await request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json",
               ...(await memberHeaders(member, "POST", url, groupIdHex, body)) },
    body,
  });
  return { res, json: res.body.length ? parseJson(res, what) : {} };
}

// HTTP(S) trusting --ca. Resolves {status, headers, body: Buffer}.
function request(url, { method = "GET", headers = {}, body } = {}) {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers, ca, timeout: 30000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on("error", (e) => reject(new CheckFailed(`${method} ${url}: ${e.message}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}
function parseJson(res, what) {
  try {
    return JSON.parse(res.body.toString("utf8"));
  } catch {
    throw new CheckFailed(`${what}: answer is not JSON (HTTP ${res.status}): ${res.body.toString("utf8").slice(0, 200)}`);
  }
}
function describe(res) {
  const text = res.body.toString("utf8");
  return `HTTP ${res.status} ${/^[\x20-\x7e\s]*$/.test(text) ? text.slice(0, 300) : `(${res.body.length} bytes)`}`;
}
async function postJson(url, obj, what, headers = {}) {
  const res = await request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(obj),
  });
  return { res, json: res.body.length ? parseJson(res, what) : {} };
}
async function postMessage(url, bytes, headers = {}) {
  return request(url, {
    method: "POST",
    headers: { "Content-Type": CONTENT_TYPE, ...headers },
    body: Buffer.from(bytes),
  });
}

// ------------------------------------------------------------------ members

const impl = await getCiphersuiteImpl(getCiphersuiteFromName(SUITES[suiteId].name));

// One member: its MLS state, what it has seen per DS, and what it sent.
class Member {
  constructor(name, keyPackage) {
    this.name = name;
    this.kp = keyPackage;
    this.state = null;
    this.cursor = 0;          // last seq fetched, kept across a migration
    this.seen = new Set();    // hex of messages already handled (sent or processed)
    this.received = [];       // decrypted application messages (text)
  }
  get epoch() {
    return this.state.groupContext.epoch;
  }
  async send(dsUrl, groupIdHex, text) {
    const app = await createApplicationMessage(this.state, utf8(text), impl);
    this.state = app.newState;
    const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message",
                                     privateMessage: app.privateMessage });
    this.seen.add(hex(bytes));
    this.lastSent = bytes;
    const { res, json } = await memberPostJson(this, `${dsUrl}/ds/v1/groups/${groupIdHex}/messages`,
                                               groupIdHex, { message: hex(bytes) }, `${this.name} sends`);
    check(res.status === 200, `${this.name} sends through ${dsUrl}: ${describe(res)}`);
    return json.seq;
  }
  // Fetches new messages from dsUrl; returns {status, moved_to} on an error
  // answer, else processes each unseen message in order and returns what it did.
  // The cursor is the group's, not the DS's: the target continues the
  // source's numbering, so after a move the member asks for what follows
  // the last message it read at the source.
  async fetch(dsUrl, groupIdHex) {
    const after = this.cursor;
    const res = await request(`${dsUrl}/ds/v1/groups/${groupIdHex}/messages?after=${after}`);
    const body = parseJson(res, `${this.name} fetches from ${dsUrl}`);
    if (res.status !== 200) return { status: res.status, error: body.error, moved_to: body.moved_to };
    const done = { status: 200, applications: [], commits: 0, messages: body.messages.length,
                   after, seqs: body.messages.map((m) => m.seq) };
    for (const { seq, message } of body.messages) {
      check(seq > this.cursor, `${this.name}: message ${seq} after cursor ${this.cursor} is out of order`);
      this.cursor = seq;
      if (this.seen.has(message)) continue;
      this.seen.add(message);
      const decoded = decodeMlsMessage(unhex(message), 0);
      check(decoded && decoded[1] === message.length / 2, `${this.name}: message ${seq} does not decode as MLSMessage`);
      const mls = decoded[0];
      check(mls.wireformat === "mls_public_message" || mls.wireformat === "mls_private_message",
            `${this.name}: message ${seq} is a ${mls.wireformat}`);
      const result = await processMessage(mls, this.state, emptyPskIndex, acceptAll, impl);
      this.state = result.newState;
      if (result.kind === "applicationMessage") {
        const text = fromUtf8(result.message);
        this.received.push(text);
        done.applications.push(text);
      } else {
        done.commits += 1;
        done.commitHex = message;
        done.commitSeq = seq;
      }
    }
    return done;
  }
}

async function makeMember(name) {
  const kp = await generateKeyPackage({ credentialType: "basic", identity: utf8(name) },
                                      defaultCapabilities(), defaultLifetime, [], impl);
  return new Member(name, kp);
}

// -------------------------------------------------------------------- steps

const summary = { ok: false, suite: suiteId, wire: args.wire };

async function keyDocument(baseUrl, who) {
  const res = await request(`${baseUrl}/.well-known/mimi-portability`);
  check(res.status === 200, `${who} key document: ${describe(res)}`);
  const doc = parseJson(res, `${who} key document`);
  check(typeof doc.domain === "string" && Array.isArray(doc.keys), `${who} key document: no domain or keys`);
  const entry = doc.keys.find((k) => k.ciphersuite === suiteId);
  check(entry, `${who} key document publishes no key for ciphersuite ${suiteId}`);
  check(entry.scheme === SUITES[suiteId].scheme,
        `${who} key for suite ${suiteId} has scheme ${entry.scheme}, expected ${SUITES[suiteId].scheme}`);
  return { domain: doc.domain, publicKey: Uint8Array.from(Buffer.from(entry.public_key, "base64")) };
}

async function main() {
  log(`ts-mls ${SUITES[suiteId].name} (suite ${suiteId}), migration commit as ${args.wire} message`);
  log(`source ${sourceUrl}   target ${targetUrl}`);
  if (sourceDsUrl !== sourceUrl || targetDsUrl !== targetUrl) {
    log(`member API: source DS ${sourceDsUrl}   target DS ${targetDsUrl}`);
  }

  step("both DSs publish their keys (GET /.well-known/mimi-portability)");
  const sourceKeys = await keyDocument(sourceUrl, "source");
  const targetKeys = await keyDocument(targetUrl, "target");
  const sourceDomain = sourceKeys.domain;
  const targetDomain = targetKeys.domain;
  summary.source = sourceDomain;
  summary.target = targetDomain;
  ok(`source is ${sourceDomain}, target is ${targetDomain}; both publish a key for suite ${suiteId} (${SUITES[suiteId].scheme})`);

  step("Alice creates a group with Bob and Carol and uploads it to the source DS");
  const alice = await makeMember("alice");
  const bob = await makeMember("bob");
  const carol = await makeMember("carol");
  const members = [alice, bob, carol];
  const groupId = utf8(`e2e-${hex(randomBytes(12))}`);
  const gid = hex(groupId);
  summary.group_id = gid;
  alice.state = await createGroup(groupId, alice.kp.publicPackage, alice.kp.privatePackage, [], impl);
  const add = await createCommit({ state: alice.state, cipherSuite: impl }, {
    extraProposals: [
      { proposalType: "add", add: { keyPackage: bob.kp.publicPackage } },
      { proposalType: "add", add: { keyPackage: carol.kp.publicPackage } },
    ],
  });
  alice.state = add.newState;
  for (const m of [bob, carol]) {
    m.state = await joinGroup(add.welcome, m.kp.publicPackage, m.kp.privatePackage, emptyPskIndex, impl,
                              alice.state.ratchetTree);
  }
  for (const m of members) check(m.epoch === 1n, `${m.name} is at epoch ${m.epoch}, expected 1`);
  const groupInfo = await createGroupInfoWithExternalPub(alice.state, [], impl);
  const { res: created, json: createdJson } = await postJson(`${sourceDsUrl}/ds/v1/groups`, {
    group_info: hex(encodeMlsMessage({ version: "mls10", wireformat: "mls_group_info", groupInfo })),
    ratchet_tree: hex(encodeRatchetTree(alice.state.ratchetTree)),
  }, "create group", args["source-token"] ? { Authorization: `Bearer ${args["source-token"]}` } : {});
  check(created.status === 201, `POST /ds/v1/groups: ${describe(created)}`);
  check(createdJson.group_id === gid && createdJson.epoch === 1 && createdJson.cipher_suite === suiteId,
        `POST /ds/v1/groups answered ${JSON.stringify(createdJson)}`);
  ok(`group "${fromUtf8(groupId)}" (id ${gid}) at epoch 1 with 3 members lives on ${sourceDomain}`);

  // The epoch the group migrates at, and the one after the migration commit.
  const migrateEpoch = args.history ? 2n : 1n;
  const movedEpoch = migrateEpoch + 1n;
  if (args.history) {
    step("Alice commits at the source (epoch 2); Bob and Carol process it");
    const update = await createCommit({ state: alice.state, cipherSuite: impl }, { wireAsPublicMessage: true });
    const updateBytes = encodeMlsMessage(update.commit);
    const newInfo = await createGroupInfoWithExternalPub(update.newState, [], impl);
    const { res } = await memberPostJson(alice, `${sourceDsUrl}/ds/v1/groups/${gid}/commits`, gid, {
      commit: hex(updateBytes),
      ratchet_tree: hex(encodeRatchetTree(update.newState.ratchetTree)),
      group_info: hex(encodeMlsMessage({ version: "mls10", wireformat: "mls_group_info", groupInfo: newInfo })),
    }, "alice commits");
    check(res.status === 200, `POST /ds/v1/groups/{id}/commits: ${describe(res)}`);
    alice.seen.add(hex(updateBytes));
    alice.state = update.newState;
    for (const m of [bob, carol]) {
      const got = await m.fetch(sourceDsUrl, gid);
      check(got.status === 200 && got.commits === 1, `${m.name} fetches Alice's commit: ${JSON.stringify(got)}`);
    }
    for (const m of members) check(m.epoch === 2n, `${m.name} is at epoch ${m.epoch}, expected 2`);
    ok("all three at epoch 2; the source has numbered a message of epoch 1");
  }

  step("Alice sends a message through the source; Bob and Carol decrypt it");
  const hello = `hello from alice on ${sourceDomain}`;
  await alice.send(sourceDsUrl, gid, hello);
  for (const m of [bob, carol]) {
    const got = await m.fetch(sourceDsUrl, gid);
    check(got.status === 200, `${m.name} fetches from the source: HTTP ${got.status} ${got.error}`);
    check(got.applications.length === 1 && got.applications[0] === hello,
          `${m.name} decrypted ${JSON.stringify(got.applications)}, expected [${JSON.stringify(hello)}]`);
  }
  let exchanged = 2;
  {
    // Alice's cursor moves past her own messages too.
    const got = await alice.fetch(sourceDsUrl, gid);
    check(got.status === 200 && got.applications.length === 0 && got.commits === 0,
          `alice fetches from the source: ${JSON.stringify(got)}`);
  }
  ok(`bob and carol read "${hello}"; every member's cursor is at seq ${carol.cursor}`);

  step(`Bob asks ${targetDomain} for a migration (POST /mimi-portability/v1/request)`);
  const migrationRequest = concat(opaque(utf8(sourceDomain)), opaque(utf8(targetDomain)), opaque(groupId),
                                  uint64(bob.epoch));
  const reqRes = await postMessage(`${targetUrl}/mimi-portability/v1/request`, migrationRequest, {
    "MIMI-Cipher-Suite": String(suiteId),
    Authorization: `Bearer ${args.token}`,
  });
  check(reqRes.status === 200, `request: ${describe(reqRes)}`);
  const migrationResponse = Uint8Array.from(reqRes.body);
  const r = new Reader(migrationResponse, "MigrationResponse");
  const echoed = concat(opaque(r.vector("migration_request.source_domain_name")),
                        opaque(r.vector("migration_request.target_domain_name")),
                        opaque(r.vector("migration_request.group_id")),
                        r.fixed(8, "migration_request.epoch"));
  const nonce = r.fixed(32, "nonce");
  const responseTbs = migrationResponse.slice(0, r.off);
  const responseSig = r.vector("signature");
  r.end();
  check(equal(echoed, migrationRequest), "MigrationResponse does not echo the MigrationRequest byte for byte");
  check(verifyWithLabel(targetKeys.publicKey, "MigrationResponse", responseTbs, responseSig),
        "MigrationResponse signature does not verify under the target's published key");
  const migrationId = hex(nonce);
  summary.migration_id = migrationId;
  ok(`MigrationResponse signed by ${targetDomain}; nonce ${migrationId.slice(0, 16)}...`);

  step(`Bob commits with authenticated_data = MigrationCommitAAD{${targetDomain}} (${args.wire} message)`);
  const aad = opaque(utf8(targetDomain));
  const commit = await createCommit({ state: bob.state, cipherSuite: impl },
                                    { wireAsPublicMessage: args.wire === "public", authenticatedData: aad });
  const commitBytes = encodeMlsMessage(commit.commit);
  check(commit.commit.wireformat === (args.wire === "public" ? "mls_public_message" : "mls_private_message"),
        `the commit is a ${commit.commit.wireformat}`);
  bob.seen.add(hex(commitBytes));
  const bobLeaf = bob.state.privatePath.leafIndex;
  check(bobLeaf === 1, `Bob is leaf ${bobLeaf}, expected 1`);
  ok(`commit of ${commitBytes.length} bytes at epoch ${bob.epoch}, Bob is leaf ${bobLeaf}`);

  step(`Bob signs MigrationInit with his leaf key and sends it to ${sourceDomain} (POST /mimi-portability/v1/init)`);
  const initSig = await impl.signature.sign(bob.kp.privatePackage.signaturePrivateKey,
                                            signContent("MigrationInit", migrationResponse));
  const initRequest = concat(migrationResponse, opaque(initSig), uint32(bobLeaf), opaque(commitBytes));
  const t0 = Date.now();
  const initRes = await postMessage(`${sourceUrl}/mimi-portability/v1/init`, initRequest);
  let confirmation;
  if (initRes.status === 200) {
    confirmation = Uint8Array.from(initRes.body);
    summary.init_status = 200;
    ok(`200 MigrationConfirmation after ${Date.now() - t0} ms`);
  } else {
    check(initRes.status === 202, `init: ${describe(initRes)}`);
    summary.init_status = 202;
    const pending = parseJson(initRes, "init 202");
    check(pending.id === migrationId, `init 202 names migration ${pending.id}, expected ${migrationId}`);
    const where = initRes.headers.location ?? pending.status;
    ok(`202 (state ${pending.state}); polling ${where}`);
    const deadline = Date.now() + 60000;
    for (;;) {
      const st = await request(`${sourceUrl}${where}`);
      check(st.status === 200, `status: ${describe(st)}`);
      const body = parseJson(st, "status");
      check(!["aborted", "abort-requested"].includes(body.state), `the migration was aborted: ${JSON.stringify(body)}`);
      if (body.confirmation) {
        confirmation = unhex(body.confirmation);
        break;
      }
      check(Date.now() < deadline, `no confirmation after 60 s: ${JSON.stringify(body)}`);
      await sleep(100);
    }
    ok(`confirmation after ${Date.now() - t0} ms`);
  }

  step("Bob checks the MigrationConfirmation");
  const c = new Reader(confirmation, "MigrationConfirmation");
  const confDomain = c.vector("domain_name");
  const confNonce = c.fixed(32, "nonce");
  const confGroup = c.vector("group_id");
  const confTbs = confirmation.slice(0, c.off);
  const confSig = c.vector("signature");
  c.end();
  check(verifyWithLabel(sourceKeys.publicKey, "MigrationConfirmation", confTbs, confSig),
        "MigrationConfirmation signature does not verify under the source's published key");
  check(fromUtf8(confDomain) === targetDomain,
        `MigrationConfirmation names ${fromUtf8(confDomain)}, expected ${targetDomain}`);
  check(equal(confNonce, nonce), "MigrationConfirmation carries another nonce");
  check(equal(confGroup, groupId), "MigrationConfirmation names another group");
  ok(`signed by ${sourceDomain}; names ${targetDomain}, this nonce and this group`);
  bob.state = commit.newState;
  check(bob.epoch === movedEpoch, `Bob is at epoch ${bob.epoch} after merging, expected ${movedEpoch}`);
  ok(`Bob merges his commit: epoch ${movedEpoch}`);

  step(`${sourceDomain} finishes: the migration reaches "purged"`);
  {
    const deadline = Date.now() + 30000;
    let last;
    for (;;) {
      const st = await request(`${sourceUrl}/mimi-portability/v1/migrations/${migrationId}`);
      check(st.status === 200, `source status: ${describe(st)}`);
      last = parseJson(st, "source status");
      if (last.state === "purged") break;
      check(Date.now() < deadline, `source never purged the group: ${JSON.stringify(last)}`);
      await sleep(50);
    }
    const tst = await request(`${targetUrl}/mimi-portability/v1/migrations/${migrationId}`);
    check(tst.status === 200, `target status: ${describe(tst)}`);
    const tbody = parseJson(tst, "target status");
    check(tbody.state === "imported", `target migration is ${tbody.state}, expected imported`);
    summary.source_state = last.state;
    summary.target_state = tbody.state;
    ok(`source row purged, target row imported`);
  }

  step("Alice and Carol fetch from the source: 410 moved, so they follow it to the target");
  const targetByDomain = { [targetDomain]: targetDsUrl };
  for (const m of [alice, carol]) {
    const moved = await m.fetch(sourceDsUrl, gid);
    check(moved.status === 410 && moved.error === "moved",
          `${m.name} fetches from the source: expected 410 moved, got ${JSON.stringify(moved)}`);
    check(moved.moved_to === targetDomain, `moved_to is ${moved.moved_to}, expected ${targetDomain}`);
    const next = targetByDomain[moved.moved_to];
    const cursor = m.cursor;
    const got = await m.fetch(next, gid);
    check(got.status === 200, `${m.name} fetches from the target: ${JSON.stringify(got)}`);
    check(got.commits === 1 && got.commitHex === hex(commitBytes),
          `${m.name} found ${got.commits} commits on the target after its source cursor ${cursor}` +
          ` (seqs ${JSON.stringify(got.seqs)}), expected Bob's migration commit`);
    check(got.commitSeq === cursor + 1,
          `${m.name}: the migration commit is seq ${got.commitSeq} at the target, expected ${cursor + 1}` +
          " (right after the member's source cursor)");
    check(got.applications.length === 0, `${m.name} found unexpected messages ${JSON.stringify(got.applications)}`);
    check(m.epoch === movedEpoch, `${m.name} is at epoch ${m.epoch}, expected ${movedEpoch}`);
    summary.source_cursor = cursor;
    summary.commit_seq_at_target = got.commitSeq;
    ok(`${m.name}: 410 moved_to ${moved.moved_to}; from its cursor ${cursor} the target's next message ` +
       `is Bob's commit (seq ${got.commitSeq}): epoch ${movedEpoch}`);
  }
  {
    // Bob reads the target's log too: only what he already knows is there.
    const got = await bob.fetch(targetDsUrl, gid);
    check(got.status === 200 && got.commits === 0 && got.applications.length === 0,
          `bob fetches from the target: ${JSON.stringify(got)}`);
    const info = await request(`${targetDsUrl}/ds/v1/groups/${gid}`);
    check(info.status === 200, `target group: ${describe(info)}`);
    const g = parseJson(info, "target group");
    check(g.epoch === Number(movedEpoch), `the target holds the group at epoch ${g.epoch}, expected ${movedEpoch}`);
    check(g.last_seq === summary.commit_seq_at_target,
          `the target's last_seq is ${g.last_seq}, expected the commit's ${summary.commit_seq_at_target}`);
    ok(`the target holds the group at epoch ${movedEpoch}; the commit is its last message, seq ${g.last_seq}`);
  }
  const epochs = members.map((m) => m.state.groupContext);
  check(epochs.every((ctx) => equal(ctx.treeHash, epochs[0].treeHash) && ctx.epoch === movedEpoch),
        `the members disagree on the epoch ${movedEpoch} tree`);

  step("all three talk through the target");
  const lines = {};
  for (const m of members) {
    lines[m.name] = `hello from ${m.name} on ${targetDomain}`;
    await m.send(targetDsUrl, gid, lines[m.name]);
  }
  for (const m of members) {
    const got = await m.fetch(targetDsUrl, gid);
    check(got.status === 200, `${m.name} fetches from the target: ${JSON.stringify(got)}`);
    const expected = members.filter((o) => o !== m).map((o) => lines[o.name]);
    check(JSON.stringify(got.applications) === JSON.stringify(expected),
          `${m.name} decrypted ${JSON.stringify(got.applications)}, expected ${JSON.stringify(expected)}`);
    exchanged += got.applications.length;
    ok(`${m.name} read ${expected.map((t) => `"${t}"`).join(" and ")}`);
  }

  step(`the source answers "moved" for the group`);
  {
    const g = await request(`${sourceDsUrl}/ds/v1/groups/${gid}`);
    const body = parseJson(g, "source group");
    check(g.status === 410 && body.error === "moved" && body.moved_to === targetDomain,
          `GET /ds/v1/groups on the source: ${describe(g)}`);
    const post = await memberPostJson(alice, `${sourceDsUrl}/ds/v1/groups/${gid}/messages`, gid,
                                      { message: hex(alice.lastSent) }, "post to source");
    check(post.res.status === 410 && post.json.moved_to === targetDomain,
          `POST to the source after the move: ${describe(post.res)}`);
    ok(`410 {"error":"moved","moved_to":"${targetDomain}"}`);
  }

  summary.ok = true;
  summary.epoch = Number(movedEpoch);
  summary.messages_exchanged = exchanged;
  summary.commit_bytes = commitBytes.length;
  summary.elapsed_ms = Date.now() - started;
  log(`\nPASS: group "${fromUtf8(groupId)}" moved ${sourceDomain} -> ${targetDomain}; ` +
      `epoch ${movedEpoch}, ${exchanged} messages decrypted, ${summary.elapsed_ms} ms`);
}

const started = Date.now();
try {
  await main();
  if (args.json) console.log(JSON.stringify(summary));
} catch (e) {
  const what = e instanceof CheckFailed ? e.message : e.stack ?? String(e);
  console.error(`FAILED: ${what}`);
  if (args.json) console.log(JSON.stringify({ ...summary, ok: false, error: e.message ?? String(e) }));
  process.exit(1);
}
