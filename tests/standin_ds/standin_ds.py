#!/usr/bin/env python3
"""A stand-in for an operator's existing Delivery Service, for tests.

It implements the mimi-portd DS hooks (docs/ds-interface.md, "HTTP hooks")
on its own SQLite storage, written from the contract alone, without any of
the project's C++ code: that is the point, it shows the contract is enough.
Python 3 standard library only.

  * /mimi-hooks/v1/*  the hooks mimi-portd calls (POST, JSON, HMAC-signed);
                      semantics and refusal reasons as the embedded DS.
  * /ds/v1/*          a tiny member-facing API like the embedded DS's
                      (create a group, submit commits and messages, fetch
                      messages); refuses commits and messages while frozen.
  * /standin/v1/fail  test control: answer the next N hook calls (or the
                      next N calls of one named hook) with a given status
                      (e.g. 503), to simulate a sick DS: {"count": N,
                      "status": 503, "hook": "fan-out", "when": "before"}
                      ("after": do the work, then lose the answer).
  * /standin/v1/stats test view: hook calls and injected failures per hook
                      since start, and every fan-out that appended a commit
                      (kept after the group is deleted).

What it reads from MLS bytes (RFC 9420), without any MLS crypto: the clear
header of an MLSMessage (group_id, epoch, content_type), the GroupContext of
a GroupInfo message (suite, group_id, epoch), and the ratchet tree's leaf
nodes (for members' signature keys). The portable group_state is encoded and
decoded strictly (include/mimi_portability/group_state.h).

Usage:
  standin_ds.py --db FILE --secret-file FILE [--port 0] [--port-file FILE]
                [--host 127.0.0.1] [--tls-cert PEM --tls-key PEM]
The bound port is written to --port-file (atomically) and printed as
"PORT <n>" on stdout. SIGTERM stops it; the database survives restarts.
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import socket
import sqlite3
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SIGNATURE_HEADER = "MIMI-Hook-Signature"
MAX_SKEW_MS = 5 * 60 * 1000
MAX_BODY = 64 << 20
GROUP_STATE_VERSION = 2  # writes 2, reads 1 and 2
MAX_LAST_SEQ = 1 << 62

CT_APPLICATION, CT_PROPOSAL, CT_COMMIT = 1, 2, 3


class DsError(Exception):
    """A refusal: HTTP status, stable reason, detail, extra JSON fields."""

    def __init__(self, status, reason, detail, **extra):
        super().__init__(detail)
        self.status, self.reason, self.detail, self.extra = status, reason, detail, extra


def malformed(detail):
    return DsError(400, "malformed", detail)


# --- TLS presentation language with MLS varints (RFC 9420 §2.1) ----------

class Reader:
    def __init__(self, data, name):
        self.data, self.pos, self.name = data, 0, name

    def take(self, n, field):
        if self.pos + n > len(self.data):
            raise malformed(f"{self.name}.{field}: truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n, field):
        return int.from_bytes(self.take(n, field), "big")

    def varint(self, field):
        first = self.uint(1, field)
        prefix = first >> 6
        if prefix == 3:
            raise malformed(f"{self.name}.{field}: invalid varint prefix")
        size = 1 << prefix
        value = first & 0x3F
        for b in self.take(size - 1, field):
            value = (value << 8) | b
        if (size == 2 and value < 64) or (size == 4 and value < 16384):
            raise malformed(f"{self.name}.{field}: non-minimal varint")
        return value

    def opaque(self, field):
        return self.take(self.varint(field), field)

    def sub(self, field):
        return Reader(self.opaque(field), f"{self.name}.{field}")

    def empty(self):
        return self.pos == len(self.data)

    def expect_end(self):
        if not self.empty():
            raise malformed(f"{self.name}: {len(self.data) - self.pos} trailing bytes")


def enc_varint(n):
    if n < 1 << 6:
        return n.to_bytes(1, "big")
    if n < 1 << 14:
        return (n | 0x4000).to_bytes(2, "big")
    if n < 1 << 30:
        return (n | 0x80000000).to_bytes(4, "big")
    raise DsError(500, "internal", "vector too long for a varint")


def enc_opaque(b):
    return enc_varint(len(b)) + b


# --- group_state ----------------------------------------------------------

def encode_group_state(s):
    items = b"".join(seq.to_bytes(8, "big") + enc_opaque(msg)
                     for seq, msg in s["pending_messages"])
    return (GROUP_STATE_VERSION.to_bytes(2, "big") + s["cipher_suite"].to_bytes(2, "big")
            + enc_opaque(s["group_id"]) + s["epoch"].to_bytes(8, "big")
            + enc_opaque(s["group_info"]) + enc_opaque(s["ratchet_tree"])
            + enc_opaque(s["migration_commit"]) + enc_opaque(items)
            + s["last_seq"].to_bytes(8, "big"))


def decode_group_state(data):
    r = Reader(data, "GroupState")
    version = r.uint(2, "version")
    if version not in (1, 2):
        raise DsError(422, "unsupported",
                      f"GroupState.version: {version} (this DS reads versions 1 and 2)")
    s = {"cipher_suite": r.uint(2, "cipher_suite"), "group_id": r.opaque("group_id"),
         "epoch": r.uint(8, "epoch"), "group_info": r.opaque("group_info"),
         "ratchet_tree": r.opaque("ratchet_tree"),
         "migration_commit": r.opaque("migration_commit")}
    items = r.sub("pending_messages")
    last_seq = r.uint(8, "last_seq") if version == 2 else None
    r.expect_end()
    s["pending_messages"] = []
    while not items.empty():
        s["pending_messages"].append((items.uint(8, "seq"), items.opaque("message")))
    # The importer keeps the seqs: they must be increasing, from 1, and
    # (version 2) not beyond last_seq; version 1 continues after the last.
    previous = 0
    for i, (seq, _) in enumerate(s["pending_messages"]):
        if seq <= previous:
            raise malformed(f"GroupState.pending_messages[{i}].seq: {seq} is not above {previous}")
        previous = seq
    if last_seq is None:
        last_seq = previous
    elif previous > last_seq:
        raise malformed(f"GroupState.last_seq: {last_seq} is below the pending message seq {previous}")
    s["last_seq"] = last_seq
    return s


# --- MLS: what a DS sees without group secrets -----------------------------

def mls_header(data):
    """(group_id, epoch, content_type) of a PublicMessage or PrivateMessage."""
    r = Reader(data, "MLSMessage")
    version = r.uint(2, "version")
    if version != 1:
        raise DsError(422, "unsupported", f"MLSMessage.version: {version}")
    wire_format = r.uint(2, "wire_format")
    if wire_format == 1:  # PublicMessage: FramedContent first
        group_id, epoch = r.opaque("group_id"), r.uint(8, "epoch")
        sender_type = r.uint(1, "sender.sender_type")
        if sender_type in (1, 2):
            r.uint(4, "sender.index")
        elif sender_type not in (3, 4):
            raise malformed(f"MLSMessage.sender.sender_type: {sender_type}")
        r.opaque("authenticated_data")
        content_type = r.uint(1, "content_type")
        if content_type == CT_APPLICATION:
            raise DsError(422, "invalid-argument",
                          "MLSMessage: an application message may not be a PublicMessage")
    elif wire_format == 2:  # PrivateMessage
        group_id, epoch = r.opaque("group_id"), r.uint(8, "epoch")
        content_type = r.uint(1, "content_type")
        r.opaque("authenticated_data")
    else:
        raise DsError(422, "unsupported", f"MLSMessage.wire_format: {wire_format}")
    if content_type not in (1, 2, 3):
        raise malformed(f"MLSMessage.content_type: {content_type}")
    return group_id, epoch, content_type


def group_info_context(data):
    """(cipher_suite, group_id, epoch) of an MLSMessage(GroupInfo)."""
    r = Reader(data, "MLSMessage")
    if r.uint(2, "version") != 1:
        raise DsError(422, "unsupported", "MLSMessage.version")
    wire_format = r.uint(2, "wire_format")
    if wire_format != 4:
        raise DsError(422, "invalid-argument",
                      f"group_info: an MLSMessage of wire format {wire_format}, not GroupInfo")
    r.uint(2, "group_info.group_context.version")
    suite = r.uint(2, "group_info.group_context.cipher_suite")
    group_id = r.opaque("group_info.group_context.group_id")
    epoch = r.uint(8, "group_info.group_context.epoch")
    return suite, group_id, epoch


def _skip_leaf_node(r):
    r.opaque("encryption_key")
    signature_key = r.opaque("signature_key")
    cred_type = r.uint(2, "credential.credential_type")
    if cred_type == 1:
        r.opaque("credential.identity")
    elif cred_type == 2:
        certs = r.sub("credential.certificates")
        while not certs.empty():
            certs.opaque("cert_data")
    else:
        raise DsError(422, "unsupported", f"credential type {cred_type}")
    for field in ("versions", "cipher_suites", "extensions", "proposals", "credentials"):
        r.opaque("capabilities." + field)
    source = r.uint(1, "leaf_node_source")
    if source == 1:
        r.uint(8, "lifetime.not_before")
        r.uint(8, "lifetime.not_after")
    elif source == 3:
        r.opaque("parent_hash")
    elif source != 2:
        raise malformed(f"ratchet_tree.leaf_node_source: {source}")
    r.opaque("extensions")
    r.opaque("signature")
    return signature_key


def leaf_signature_keys(tree):
    """Signature key per leaf index (None for blank leaves)."""
    r = Reader(tree, "ratchet_tree")
    nodes = r.sub("nodes")
    r.expect_end()
    keys, index, last_blank = [], 0, True
    while not nodes.empty():
        present = nodes.uint(1, "present")
        if present not in (0, 1):
            raise malformed("ratchet_tree: optional flag")
        leaf_position = index % 2 == 0
        key = None
        if present:
            node_type = nodes.uint(1, "node_type")
            if node_type == 1 and leaf_position:
                key = _skip_leaf_node(nodes)
            elif node_type == 2 and not leaf_position:
                nodes.opaque("encryption_key")
                nodes.opaque("parent_hash")
                nodes.opaque("unmerged_leaves")
            else:
                raise malformed(f"ratchet_tree.node_type: {node_type} at node index {index}")
        if leaf_position:
            keys.append(key)
        last_blank = not present
        index += 1
    if index and (index % 2 == 0 or last_blank):
        raise malformed("ratchet_tree: must end on a non-blank leaf")
    return keys


def check_tree(tree):
    if not any(k is not None for k in leaf_signature_keys(tree)):
        raise DsError(422, "invalid-argument", "ratchet_tree: no members")


# --- storage ---------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
  group_id BLOB PRIMARY KEY, cipher_suite INTEGER NOT NULL, epoch INTEGER NOT NULL,
  tree_epoch INTEGER NOT NULL, ratchet_tree BLOB NOT NULL, group_info BLOB NOT NULL,
  frozen_by TEXT, imported_by TEXT, next_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  group_id BLOB NOT NULL, seq INTEGER NOT NULL, epoch INTEGER NOT NULL,
  content_type INTEGER NOT NULL, message BLOB NOT NULL, migration_id TEXT,
  PRIMARY KEY (group_id, seq));
CREATE TABLE IF NOT EXISTS tombstones (
  group_id BLOB PRIMARY KEY, moved_to TEXT NOT NULL, moved_at INTEGER NOT NULL,
  confirmation BLOB NOT NULL, migration_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fan_outs (
  group_id BLOB NOT NULL, migration_id TEXT NOT NULL, seq INTEGER NOT NULL);
"""


class Store:
    """Every operation runs under one lock in one transaction."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()

    def run(self, fn, *args):
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self.db, *args)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return out


def _group(db, gid):
    row = db.execute("SELECT cipher_suite, epoch, tree_epoch, ratchet_tree, group_info,"
                     " frozen_by, imported_by, next_seq FROM groups WHERE group_id = ?",
                     (gid,)).fetchone()
    if row is None:
        return None
    keys = ("cipher_suite", "epoch", "tree_epoch", "ratchet_tree", "group_info",
            "frozen_by", "imported_by", "next_seq")
    return dict(zip(keys, row))


def _tombstone(db, gid):
    row = db.execute("SELECT moved_to, moved_at, confirmation, migration_id"
                     " FROM tombstones WHERE group_id = ?", (gid,)).fetchone()
    if row is None:
        return None
    return {"moved_to": row[0], "moved_at": row[1], "confirmation": row[2],
            "migration_id": row[3]}


def moved_error(gid, t):
    return DsError(410, "moved", f"group {gid.hex()} moved to {t['moved_to']}",
                   moved_to=t["moved_to"])


def live_group(db, gid):
    t = _tombstone(db, gid)
    if t is not None:
        raise moved_error(gid, t)
    g = _group(db, gid)
    if g is None:
        raise DsError(404, "unknown-group", f"no group {gid.hex()} here")
    return g


def frozen_error(gid, g):
    return DsError(409, "group-frozen",
                   f"group {gid.hex()} is frozen by migration {g['frozen_by']}")


def not_frozen_error(gid, mid):
    return DsError(409, "not-frozen", f"group {gid.hex()} is not frozen by migration {mid}")


def append(db, gid, seq, epoch, content_type, message, migration_id):
    db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
               (gid, seq, epoch, content_type, message, migration_id))
    db.execute("UPDATE groups SET next_seq = ? WHERE group_id = ?", (seq + 1, gid))


def summary(gid, g):
    frozen = g["frozen_by"] is not None
    return {"group_id": gid.hex(), "epoch": g["epoch"], "cipher_suite": g["cipher_suite"],
            "frozen": frozen,
            "migration_id": (g["frozen_by"] if frozen else g["imported_by"]) or ""}


# --- the hooks ---------------------------------------------------------------

def hex_field(body, name, required=True):
    v = body.get(name)
    if v is None:
        if required:
            raise malformed(f"{name}: missing")
        return b""
    if not isinstance(v, str) or not re.fullmatch(r"(?:[0-9a-fA-F]{2})*", v):
        raise malformed(f"{name}: expected hex string")
    return bytes.fromhex(v)


def int_field(body, name, maximum):
    v = body.get(name)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > maximum:
        raise malformed(f"{name}: expected an integer 0..{maximum}")
    return v


def mid_field(body):
    v = body.get("migration_id")
    if not isinstance(v, str) or not v:
        raise malformed("migration_id: missing")
    return v


def hook_lookup_group(db, body):
    gid = hex_field(body, "group_id")
    return summary(gid, live_group(db, gid))


def hook_lookup_tombstone(db, body):
    gid = hex_field(body, "group_id")
    t = _tombstone(db, gid)
    if t is None:
        raise DsError(404, "not-found", f"no tombstone for group {gid.hex()}")
    return {"group_id": gid.hex(), "moved_to": t["moved_to"], "moved_at_ms": t["moved_at"],
            "confirmation": t["confirmation"].hex()}


def hook_member_key(db, body):
    gid = hex_field(body, "group_id")
    leaf = int_field(body, "leaf_index", 0xFFFFFFFF)
    g = live_group(db, gid)
    keys = leaf_signature_keys(g["ratchet_tree"])
    if leaf >= len(keys) or keys[leaf] is None:
        raise DsError(404, "unknown-leaf", f"no member at leaf {leaf}")
    return {"signature_key": keys[leaf].hex()}


def hook_freeze(db, body):
    gid, mid = hex_field(body, "group_id"), mid_field(body)
    epoch = int_field(body, "epoch", (1 << 64) - 1)
    g = live_group(db, gid)
    if g["frozen_by"] == mid:
        return {}
    if g["frozen_by"] is not None:
        raise frozen_error(gid, g)
    if g["epoch"] != epoch:
        raise DsError(409, "epoch-mismatch", f"group is at epoch {g['epoch']}, not {epoch}")
    db.execute("UPDATE groups SET frozen_by = ? WHERE group_id = ?", (mid, gid))
    return {}


def hook_unfreeze(db, body):
    gid, mid = hex_field(body, "group_id"), mid_field(body)
    db.execute("UPDATE groups SET frozen_by = NULL WHERE group_id = ? AND frozen_by = ?",
               (gid, mid))
    return {}


def hook_export(db, body):
    gid, mid = hex_field(body, "group_id"), mid_field(body)
    commit = hex_field(body, "commit")
    g = live_group(db, gid)
    if g["frozen_by"] != mid:
        raise not_frozen_error(gid, mid)
    # The epoch's own messages, never a migration's fan-out: exporting again
    # after the fan-out yields the same bytes.
    pending = db.execute("SELECT seq, message FROM messages WHERE group_id = ? AND epoch = ?"
                         " AND migration_id IS NULL ORDER BY seq",
                         (gid, g["epoch"])).fetchall()
    state = {"cipher_suite": g["cipher_suite"], "group_id": gid, "epoch": g["epoch"],
             "group_info": g["group_info"], "ratchet_tree": g["ratchet_tree"],
             "migration_commit": commit, "pending_messages": pending,
             # Frozen: the fan-out gives the commit last_seq + 1, as the importer
             # does; after the fan-out the same value (the export must not change).
             "last_seq": g["next_seq"] - 1}
    fanned = db.execute("SELECT seq FROM messages WHERE group_id = ? AND migration_id = ?",
                        (gid, mid)).fetchone()
    if fanned is not None:
        state["last_seq"] = fanned[0] - 1
    return {"group_state": encode_group_state(state).hex()}


def hook_import(db, body):
    mid = mid_field(body)
    s = decode_group_state(hex_field(body, "group_state"))
    check_tree(s["ratchet_tree"])
    gid, epoch, ctype = mls_header(s["migration_commit"])
    if ctype != CT_COMMIT or gid != s["group_id"] or epoch != s["epoch"]:
        raise DsError(422, "invalid-argument",
                      "GroupState.migration_commit: not a commit for this group and epoch")
    if s["last_seq"] > MAX_LAST_SEQ:
        raise DsError(422, "invalid-argument",
                      f"GroupState.last_seq: {s['last_seq']} is beyond what this DS numbers (2^62)")
    g = _group(db, s["group_id"])
    if g is not None:
        if g["imported_by"] == mid:
            return {}
        raise DsError(409, "group-exists", f"group {s['group_id'].hex()} already lives here")
    # A group coming back to a DS it once left lives here again.
    db.execute("DELETE FROM tombstones WHERE group_id = ?", (s["group_id"],))
    db.execute("INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
               (s["group_id"], s["cipher_suite"], s["epoch"] + 1, s["epoch"],
                s["ratchet_tree"], s["group_info"], mid, s["last_seq"] + 1))
    # The source's numbering continues: members keep their cursors.
    for seq, message in s["pending_messages"]:
        try:
            ctype = mls_header(message)[2]
        except DsError:
            ctype = CT_APPLICATION
        append(db, s["group_id"], seq, s["epoch"], ctype, message, None)
    append(db, s["group_id"], s["last_seq"] + 1, s["epoch"], CT_COMMIT,
           s["migration_commit"], mid)
    return {}


def hook_fan_out(db, body):
    gid, mid = hex_field(body, "group_id"), mid_field(body)
    commit = hex_field(body, "commit")
    t = _tombstone(db, gid)
    if t is not None:
        if t["migration_id"] == mid:  # fanned out before the purge
            return {}
        raise moved_error(gid, t)
    g = live_group(db, gid)
    if g["frozen_by"] != mid:
        raise not_frozen_error(gid, mid)
    seen = db.execute("SELECT 1 FROM messages WHERE group_id = ? AND migration_id = ?",
                      (gid, mid)).fetchone()
    if seen is None:
        append(db, gid, g["next_seq"], g["epoch"], CT_COMMIT, commit, mid)
        # For tests: how many times members were actually sent the commit.
        db.execute("INSERT INTO fan_outs VALUES (?, ?, ?)", (gid, mid, g["next_seq"]))
    return {}


def hook_delete(db, body):
    gid, mid = hex_field(body, "group_id"), mid_field(body)
    tomb = body.get("tombstone")
    if not isinstance(tomb, dict):
        raise malformed("tombstone: missing")
    moved_to = tomb.get("moved_to")
    if not isinstance(moved_to, str) or not moved_to:
        raise malformed("tombstone.moved_to: missing")
    moved_at = tomb.get("moved_at_ms")
    if not isinstance(moved_at, int) or isinstance(moved_at, bool):
        raise malformed("tombstone.moved_at_ms: missing")
    confirmation = hex_field(tomb, "confirmation")
    t = _tombstone(db, gid)
    if t is not None:
        if t["migration_id"] == mid:
            return {}
        raise moved_error(gid, t)
    g = live_group(db, gid)
    if g["frozen_by"] != mid:
        raise not_frozen_error(gid, mid)
    db.execute("DELETE FROM messages WHERE group_id = ?", (gid,))
    db.execute("DELETE FROM groups WHERE group_id = ?", (gid,))
    db.execute("INSERT INTO tombstones VALUES (?, ?, ?, ?, ?)",
               (gid, moved_to, moved_at, confirmation, mid))
    return {}


HOOKS = {
    "lookup-group": hook_lookup_group,
    "lookup-tombstone": hook_lookup_tombstone,
    "member-key": hook_member_key,
    "freeze": hook_freeze,
    "unfreeze": hook_unfreeze,
    "export": hook_export,
    "import": hook_import,
    "fan-out": hook_fan_out,
    "delete": hook_delete,
}


# --- member-facing API (like the embedded DS's /ds/v1) ---------------------

def ds_create_group(db, body):
    info, tree = hex_field(body, "group_info"), hex_field(body, "ratchet_tree")
    suite, gid, epoch = group_info_context(info)
    check_tree(tree)
    t = _tombstone(db, gid)
    if t is not None:
        raise moved_error(gid, t)
    if _group(db, gid) is not None:
        raise DsError(409, "group-exists", f"group {gid.hex()} already lives here")
    db.execute("INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 1)",
               (gid, suite, epoch, epoch, tree, info))
    return 201, {"group_id": gid.hex(), "epoch": epoch, "cipher_suite": suite}


def ds_group(db, gid):
    g = live_group(db, gid)
    out = summary(gid, g)
    keys = leaf_signature_keys(g["ratchet_tree"])
    out.update(tree_epoch=g["tree_epoch"], members=sum(k is not None for k in keys),
               last_seq=g["next_seq"] - 1)
    return 200, out


def ds_commit(db, gid, body):
    commit, tree = hex_field(body, "commit"), hex_field(body, "ratchet_tree")
    info = hex_field(body, "group_info", required=False)
    mgid, epoch, ctype = mls_header(commit)
    if ctype != CT_COMMIT:
        raise DsError(422, "not-a-commit", "the message is not a commit")
    if mgid != gid:
        raise DsError(422, "wrong-group", f"the commit is for group {mgid.hex()}")
    check_tree(tree)
    g = live_group(db, gid)
    if g["frozen_by"] is not None:
        raise frozen_error(gid, g)
    if epoch != g["epoch"]:
        raise DsError(409, "epoch-mismatch",
                      f"commit for epoch {epoch}, group is at epoch {g['epoch']}")
    seq = g["next_seq"]
    append(db, gid, seq, g["epoch"], CT_COMMIT, commit, None)
    db.execute("UPDATE groups SET epoch = ?, tree_epoch = ?, ratchet_tree = ?, group_info = ?"
               " WHERE group_id = ?",
               (g["epoch"] + 1, g["epoch"] + 1, tree, info or g["group_info"], gid))
    return 200, {"seq": seq, "epoch": g["epoch"] + 1}


def ds_message(db, gid, body):
    message = hex_field(body, "message")
    mgid, epoch, ctype = mls_header(message)
    if ctype == CT_COMMIT:
        raise DsError(422, "commit-needs-tree",
                      "commits go to the commit endpoint with their new tree")
    if mgid != gid:
        raise DsError(422, "wrong-group", f"the message is for group {mgid.hex()}")
    g = live_group(db, gid)
    if g["frozen_by"] is not None:
        raise frozen_error(gid, g)
    if epoch != g["epoch"]:
        raise DsError(409, "epoch-mismatch",
                      f"message for epoch {epoch}, group is at epoch {g['epoch']}")
    seq = g["next_seq"]
    append(db, gid, seq, g["epoch"], ctype, message, None)
    return 200, {"seq": seq}


def ds_fetch(db, gid, after, limit):
    live_group(db, gid)
    rows = db.execute("SELECT seq, message FROM messages WHERE group_id = ? AND seq > ?"
                      " ORDER BY seq LIMIT ?", (gid, after, limit)).fetchall()
    return 200, {"messages": [{"seq": s, "message": m.hex()} for s, m in rows]}


def fan_out_log(db):
    """[{group_id, migration_id, seq}] of every fan-out that appended."""
    rows = db.execute("SELECT group_id, migration_id, seq FROM fan_outs ORDER BY rowid")
    return [{"group_id": g.hex(), "migration_id": m, "seq": s} for g, m, s in rows]


# --- HTTP ------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as mimi-portd's client expects
    server_version = "standin-ds/1"

    def setup(self):
        super().setup()
        # Headers and body go out as two writes; without NODELAY the second
        # waits for the client's delayed ACK (~40 ms per call).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("standin-ds: " + (fmt % args) + "\n")

    def reply(self, status, body, request_mac=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if request_mac is not None:
            t = int(time.time() * 1000)
            inp = (f"{status}\n{self.path}\n{t}\n{request_mac.hex()}\n").encode() + data
            mac = hmac.new(self.server.secret, inp, hashlib.sha256).hexdigest()
            self.send_header(SIGNATURE_HEADER, f"t={t},v1={mac}")
        self.end_headers()
        self.wfile.write(data)

    def reply_error(self, e, request_mac=None):
        body = {"error": e.reason, "detail": e.detail}
        body.update(e.extra)
        self.reply(e.status, body, request_mac)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()  # what Node's http client sends by default
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True  # the unread body would follow
            raise DsError(413 if length and length.isdigit() else 411,
                          "bad-length", "Content-Length missing or too large")
        return self.rfile.read(int(length))

    def read_chunked(self):
        body = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise malformed("body: bad chunk size")
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                self.close_connection = True
                raise DsError(413, "bad-length", "body too large")
            body += self.rfile.read(size)
            self.rfile.readline(1024)  # CRLF after the chunk

    def json_body(self, raw):
        try:
            body = json.loads(raw)
        except ValueError:
            raise malformed("body: expected a JSON object")
        if not isinstance(body, dict):
            raise malformed("body: expected a JSON object")
        return body

    def authenticate(self, raw):
        """The request's MAC if the signature header verifies; else DsError(401)."""
        header = self.headers.get(SIGNATURE_HEADER)
        m = re.fullmatch(r"t=(\d{1,18}),v1=([0-9a-fA-F]{64})", header or "")
        if m is None:
            raise DsError(401, "missing-signature", f"{SIGNATURE_HEADER} missing or unreadable")
        t, mac = int(m.group(1)), bytes.fromhex(m.group(2))
        inp = f"{self.command}\n{self.path}\n{t}\n".encode() + raw
        expected = hmac.new(self.server.secret, inp, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, mac):
            raise DsError(401, "bad-signature", f"{SIGNATURE_HEADER}: the MAC does not match")
        skew = abs(int(time.time() * 1000) - t)
        if skew > MAX_SKEW_MS:
            raise DsError(401, "stale-timestamp",
                          f"{SIGNATURE_HEADER}: t is {skew} ms away from this clock")
        return mac

    def do_POST(self):
        path = urlsplit(self.path).path
        request_mac = None
        try:
            raw = self.read_body()
            if path.startswith("/mimi-hooks/v1/"):
                request_mac = self.authenticate(raw)
                name = path[len("/mimi-hooks/v1/"):]
                hook = HOOKS.get(name)
                if hook is None:
                    raise DsError(404, "no-such-hook", f"no hook at {path}")
                failure = self.server.take_failure(name)
                if failure == "before":
                    raise DsError(self.server.fail_status, "injected-failure",
                                  "stand-in told to fail this call")
                body = self.json_body(raw)
                out = self.server.store.run(hook, body)
                if failure == "after":
                    raise DsError(self.server.fail_status, "injected-failure",
                                  "stand-in told to lose the answer to this call")
                self.reply(200, out, request_mac)
                return
            if path == "/standin/v1/fail":
                body = self.json_body(raw)
                hook = body.get("hook")
                if hook is not None and hook not in HOOKS:
                    raise malformed(f"hook: no hook {hook!r}")
                when = body.get("when", "before")
                if when not in ("before", "after"):
                    raise malformed("when: \"before\" or \"after\"")
                self.server.set_failures(int(body.get("count", 1)), int(body.get("status", 503)),
                                         hook, when)
                self.reply(200, {})
                return
            if path == "/ds/v1/groups":
                status, out = self.server.store.run(ds_create_group, self.json_body(raw))
                self.reply(status, out)
                return
            m = re.fullmatch(r"/ds/v1/groups/([0-9a-f]{2,510})/(commits|messages)", path)
            if m is None or len(m.group(1)) % 2:
                raise DsError(404, "not-found", f"no route {path}")
            gid, body = bytes.fromhex(m.group(1)), self.json_body(raw)
            fn = ds_commit if m.group(2) == "commits" else ds_message
            status, out = self.server.store.run(fn, gid, body)
            self.reply(status, out)
        except DsError as e:
            self.reply_error(e, request_mac)
        except Exception as e:  # a bug here must not look like a refusal
            self.reply(500, {"error": "internal", "detail": repr(e)})

    def do_GET(self):
        parts = urlsplit(self.path)
        try:
            if parts.path == "/standin/v1/health":
                self.reply(200, {"ok": True})
                return
            if parts.path == "/standin/v1/stats":
                stats = self.server.stats()
                stats["fan_outs"] = self.server.store.run(fan_out_log)
                self.reply(200, stats)
                return
            m = re.fullmatch(r"/ds/v1/groups/([0-9a-f]{2,510})(/messages)?", parts.path)
            if m is None or len(m.group(1)) % 2:
                raise DsError(404, "not-found", f"no route {parts.path}")
            gid = bytes.fromhex(m.group(1))
            if m.group(2) is None:
                status, out = self.server.store.run(ds_group, gid)
            else:
                q = parse_qs(parts.query)
                try:
                    after = int(q.get("after", ["0"])[0])
                    limit = min(int(q.get("limit", ["1000"])[0]), 1000)
                except ValueError:
                    raise malformed("query: not a number")
                status, out = self.server.store.run(ds_fetch, gid, after, limit)
            self.reply(status, out)
        except DsError as e:
            self.reply_error(e)
        except Exception as e:
            self.reply(500, {"error": "internal", "detail": repr(e)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # restart on the same port at once

    def __init__(self, address, store, secret, verbose):
        super().__init__(address, Handler)
        self.store, self.secret, self.verbose = store, secret, verbose
        self._fail_lock = threading.Lock()
        self._failures, self.fail_status, self._fail_hook, self._fail_when = 0, 503, None, "before"
        self._calls, self._injected = {}, {}

    def set_failures(self, count, status, hook=None, when="before"):
        with self._fail_lock:
            self._failures, self.fail_status = count, status
            self._fail_hook, self._fail_when = hook, when

    def take_failure(self, hook):
        """Counts the call; None, or "before"/"after" the work if it is to fail."""
        with self._fail_lock:
            self._calls[hook] = self._calls.get(hook, 0) + 1
            if self._failures > 0 and self._fail_hook in (None, hook):
                self._failures -= 1
                self._injected[hook] = self._injected.get(hook, 0) + 1
                return self._fail_when
            return None

    def stats(self):
        with self._fail_lock:
            return {"hook_calls": dict(self._calls), "injected": dict(self._injected),
                    "failures_left": self._failures}


def read_secret(path):
    st = os.stat(path)
    if st.st_mode & 0o077:
        sys.exit(f"standin-ds: {path}: must be readable by its owner only (chmod 600)")
    with open(path, "rb") as f:
        secret = f.read().rstrip(b" \t\r\n")
    if len(secret) < 32:
        sys.exit(f"standin-ds: {path}: the secret must be at least 32 bytes")
    return secret


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    server = Server((args.host, args.port), Store(args.db), read_secret(args.secret_file),
                    args.verbose)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"PORT {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
