// Makes real MLS messages with ts-mls for the C++ tests of the MLS framing
// reader and of the MigrationInit signature check.
//
//   node tests/mls/make_fixtures.mjs [--out DIR]     (default tests/data/mls)
//
// For ciphersuites 1 (X25519/Ed25519) and 2 (P-256): Alice creates a group and
// adds Bob and Carol in one commit (epoch 1). Bob then commits at epoch 1 with
// authenticated_data = MigrationCommitAAD{"target.test"}, once as
// PublicMessage and once as PrivateMessage. Alice processes the public commit,
// so a fixture that ts-mls itself would reject is never written. Negative
// fixtures: an application message, a proposal, a Welcome and a KeyPackage.
// Every output is lowercase hex; manifest.json says what each file holds.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  createGroupInfoWithExternalPub,
  createProposal,
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
import { encodeGroupInfo } from "ts-mls/groupInfo.js";

const here = dirname(fileURLToPath(import.meta.url));
let outDir = resolve(here, "../data/mls");
for (let i = 2; i < process.argv.length; ++i) {
  if (process.argv[i] === "--out" && i + 1 < process.argv.length) {
    outDir = resolve(process.argv[++i]);
  } else {
    console.error("usage: make_fixtures.mjs [--out DIR]");
    process.exit(2);
  }
}
mkdirSync(outDir, { recursive: true });

const SUITES = [
  { id: 1, name: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" },
  { id: 2, name: "MLS_128_DHKEMP256_AES128GCM_SHA256_P256" },
];
const TARGET = "target.test";
const SOURCE = "source.test";
const PROFILE_LABEL_PREFIX = "MIMI Portability 1.0 ";

const utf8 = (s) => new TextEncoder().encode(s);
const hex = (b) => Buffer.from(b).toString("hex");

// RFC 9420 §2.1.2 variable-length integer (minimal form).
function varint(n) {
  if (n < 0x40) return Uint8Array.of(n);
  if (n < 0x4000) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  if (n < 0x40000000) {
    return Uint8Array.of(0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  }
  throw new Error("varint too large");
}
const concat = (...parts) => Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
const opaque = (b) => concat(varint(b.length), b);
function uint64(v) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return Uint8Array.from(b);
}

// SignWithLabel as RFC 9420 §5.1.2 builds it, with the profile's prefix in
// place of "MLS 1.0 " (ts-mls's own signWithLabel hard-codes the MLS prefix).
async function signWithProfileLabel(impl, signKey, label, tbs) {
  const signContent = concat(opaque(utf8(PROFILE_LABEL_PREFIX + label)), opaque(tbs));
  return impl.signature.sign(signKey, signContent);
}

const fixtures = {};
function writeHex(file, bytes, meta) {
  writeFileSync(join(outDir, file), hex(bytes) + "\n");
  if (meta) fixtures[file] = meta;
}

async function makeSuite({ id, name }) {
  const impl = await getCiphersuiteImpl(getCiphersuiteFromName(name));
  const member = async (who) =>
    generateKeyPackage({ credentialType: "basic", identity: utf8(who) }, defaultCapabilities(), defaultLifetime, [], impl);
  const alice = await member("alice");
  const bob = await member("bob");
  const carol = await member("carol");

  const groupId = utf8(`mimi-portability-fixture-suite${id}`);
  let aliceState = await createGroup(groupId, alice.publicPackage, alice.privatePackage, [], impl);
  const addBobAndCarol = await createCommit(
    { state: aliceState, cipherSuite: impl },
    {
      extraProposals: [
        { proposalType: "add", add: { keyPackage: bob.publicPackage } },
        { proposalType: "add", add: { keyPackage: carol.publicPackage } },
      ],
    },
  );
  aliceState = addBobAndCarol.newState;
  const bobState = await joinGroup(
    addBobAndCarol.welcome, bob.publicPackage, bob.privatePackage, emptyPskIndex, impl, aliceState.ratchetTree);
  await joinGroup(addBobAndCarol.welcome, carol.publicPackage, carol.privatePackage, emptyPskIndex, impl,
    aliceState.ratchetTree);

  const epoch = bobState.groupContext.epoch;
  const bobLeaf = 1;
  const aad = opaque(utf8(TARGET));  // MigrationCommitAAD { opaque target_ds_domain<V>; }
  const common = { ciphersuite: id, group_id: hex(groupId), epoch: Number(epoch) };

  // The migration commit, both ways. Each is made from the same epoch-1 state.
  for (const [kind, asPublic] of [["public", true], ["private", false]]) {
    const result = await createCommit(
      { state: bobState, cipherSuite: impl }, { wireAsPublicMessage: asPublic, authenticatedData: aad });
    if (kind === "public") {
      // Alice accepts it: the fixture is a commit a real MLS member takes.
      const processed = await processMessage(result.commit, aliceState, emptyPskIndex, acceptAll, impl);
      if (processed.kind !== "newState" || processed.newState.groupContext.epoch !== epoch + 1n) {
        throw new Error(`suite ${id}: Alice did not accept Bob's public commit`);
      }
    }
    writeHex(`commit_${kind}_suite${id}.hex`, encodeMlsMessage(result.commit), {
      ...common,
      wire_format: asPublic ? "mls_public_message" : "mls_private_message",
      content_type: "commit",
      sender_leaf_index: asPublic ? bobLeaf : null,
      authenticated_data: hex(aad),
      migration_target: TARGET,
    });
  }

  const app = await createApplicationMessage(bobState, utf8("hello before migrating"), impl);
  writeHex(`application_suite${id}.hex`,
    encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage: app.privateMessage }), {
      ...common,
      wire_format: "mls_private_message",
      content_type: "application",
      sender_leaf_index: null,
      authenticated_data: "",
    });

  const proposal = await createProposal(bobState, true, { proposalType: "remove", remove: { removed: 2 } }, impl);
  writeHex(`proposal_suite${id}.hex`, encodeMlsMessage(proposal.message), {
    ...common,
    wire_format: "mls_public_message",
    content_type: "proposal",
    sender_leaf_index: bobLeaf,
    authenticated_data: "",
  });

  writeHex(`welcome_suite${id}.hex`,
    encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: addBobAndCarol.welcome }),
    { ciphersuite: id, wire_format: "mls_welcome" });
  writeHex(`key_package_suite${id}.hex`,
    encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: bob.publicPackage }),
    { ciphersuite: id, wire_format: "mls_key_package" });

  // The state a Source DS holds for the group at the migration epoch.
  writeHex(`ratchet_tree_suite${id}.hex`, encodeRatchetTree(bobState.ratchetTree), {
    ...common, kind: "ratchet_tree", leaf_count: 3,
  });
  const groupInfo = await createGroupInfoWithExternalPub(bobState, [], impl);
  writeHex(`group_info_suite${id}.hex`, encodeGroupInfo(groupInfo), {
    ...common, kind: "group_info", signer_leaf_index: bobLeaf,
  });

  // A MigrationInit signature by Bob's own leaf key (profile §2). The TBS is a
  // serialized MigrationResponse, itself signed by a freshly made target key.
  const request = concat(opaque(utf8(SOURCE)), opaque(utf8(TARGET)), opaque(groupId), uint64(epoch));
  const nonce = impl.rng.randomBytes(32);
  const target = await impl.signature.keygen();
  const responseSig = await signWithProfileLabel(impl, target.signKey, "MigrationResponse", concat(request, nonce));
  const migrationResponse = concat(request, nonce, opaque(responseSig));
  const initSig = await signWithProfileLabel(impl, bob.privatePackage.signaturePrivateKey, "MigrationInit",
    migrationResponse);
  const bobSigKey = bobState.ratchetTree[bobLeaf * 2].leaf.signaturePublicKey;
  if (hex(bobSigKey) !== hex(bob.publicPackage.leafNode.signaturePublicKey)) {
    throw new Error(`suite ${id}: Bob's leaf key changed unexpectedly`);
  }
  const init = {
    ciphersuite: id,
    signature_public_key: hex(bobSigKey),
    label: "MigrationInit",
    tbs: hex(migrationResponse),
    signature: hex(initSig),
    signer_leaf_index: bobLeaf,
    group_id: hex(groupId),
    epoch: Number(epoch),
    target_signature_public_key: hex(target.publicKey),
  };
  writeFileSync(join(outDir, `init_signature_suite${id}.json`), JSON.stringify(init, null, 2) + "\n");

  const members = ["alice", "bob", "carol"].map((identity, leaf) => ({
    leaf_index: leaf,
    identity,
    signature_public_key: hex(bobState.ratchetTree[leaf * 2].leaf.signaturePublicKey),
  }));
  return { ciphersuite: id, name, group_id: hex(groupId), epoch: Number(epoch), members };
}

const suites = [];
for (const suite of SUITES) suites.push(await makeSuite(suite));
const manifest = {
  generator: "tests/mls/make_fixtures.mjs with ts-mls 1.6.4",
  migration_target: TARGET,
  suites,
  fixtures,
};
writeFileSync(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`wrote ${Object.keys(fixtures).length} fixtures and ${SUITES.length} init signatures to ${outDir}`);
