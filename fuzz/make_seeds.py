#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/ from real data: the reference's signatures and keys
(fixtures/model-transparency), sigstore-conformance bundles and trusted roots, the loopback TUF
repository of the tests (tests/tuf_repo/repo.py) and real git trees.

Usage: fuzz/make_seeds.py [CONFORMANCE_BUNDLE_VERIFY_DIR [TUF_OUT_DIR]]
  CONFORMANCE_BUNDLE_VERIFY_DIR: sigstore-conformance's test/assets/bundle-verify (optional)
  TUF_OUT_DIR: a folder written by tests/tuf_repo/repo.py (optional)
Seeds are named by content hash, so running it again only adds what is new.
"""
import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
SPLIT = b"\n--split--\n"
FX = os.path.join(ROOT, "fixtures")


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + hashlib.sha256(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def read(p):
    with open(p, "rb") as f:
        return f.read()


sigs = sorted(glob.glob(os.path.join(FX, "model-transparency", "*", "model.sig")))
conf = sys.argv[1] if len(sys.argv) > 1 else None
conf_bundles = sorted(glob.glob(os.path.join(conf, "*", "bundle.sigstore.json"))) if conf else []
conf_bundles.append(os.path.join(FX, "sigstore-conformance/rekor2-dsse-happy-path/bundle.sigstore.json"))

payloads = []
for p in sigs:
    raw = read(p)
    put("bundle", raw)
    b = json.loads(raw)
    env = b.get("dsseEnvelope")
    if env:
        put("dsse", json.dumps(env).encode())
        payloads.append(base64.b64decode(env["payload"]))
        put("statement", payloads[-1])
    vm = b["verificationMaterial"]
    for c in vm.get("x509CertificateChain", {}).get("certificates", []):
        put("certificate", base64.b64decode(c["rawBytes"]))
    if "certificate" in vm:
        put("certificate", base64.b64decode(vm["certificate"]["rawBytes"]))
    if "/v1" in p and "sigstore" in p:
        put("sigstore_bundle", raw)
        cp = vm["tlogEntries"][0].get("inclusionProof", {}).get("checkpoint", {}).get("envelope")
        if cp:
            put("checkpoint", cp.encode())
for a, b in zip(payloads, payloads[1:] + payloads[:1]):
    put("manifest_compare", a + SPLIT + b)
    put("manifest_compare", a + SPLIT + a)

for p in conf_bundles:
    raw = read(p)
    try:
        b = json.loads(raw)
    except ValueError:
        put("sigstore_bundle", raw)
        continue
    vm = b["verificationMaterial"]
    if "dsseEnvelope" in b:
        put("sigstore_bundle", raw)
    for t in (vm.get("timestampVerificationData") or {}).get("rfc3161Timestamps", []):
        put("rfc3161", base64.b64decode(t["signedTimestamp"]))
    for e in vm.get("tlogEntries", []):
        cp = e.get("inclusionProof", {}).get("checkpoint", {}).get("envelope")
        if cp:
            put("checkpoint", cp.encode())

# The P-384 Rekor v2 fixture (the sigstore_bundle target verifies against its trust config):
# the bundle, and edits of its entry that each stop at another check of the P-384 shim
# (src/sigstore/rekor_v2_digest.rs) or of the inclusion proof it checks.
P384 = os.path.join(FX, "msign-p384-rekor-v2/model.sig")
put("sigstore_bundle", read(P384))
put("trusted_root", read(os.path.join(FX, "msign-p384-rekor-v2/trust_config_v2.json")))


def p384_edit(f):
    b = json.loads(read(P384))
    e = b["verificationMaterial"]["tlogEntries"][0]
    body = json.loads(base64.b64decode(e["canonicalizedBody"]))
    f(b, e, body["spec"]["hashedRekordV002"])
    e["canonicalizedBody"] = base64.b64encode(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).decode()
    put("sigstore_bundle", json.dumps(b).encode())


def flip(v):
    raw = bytearray(base64.b64decode(v))
    raw[3] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def spec_set(path, value):
    def f(b, e, spec):
        for k in path[:-1]:
            spec = spec[k]
        if value is None:
            del spec[path[-1]]
        else:
            spec[path[-1]] = value
    return f


p384_edit(spec_set(["data", "algorithm"], "SHA2_256"))
p384_edit(spec_set(["data", "algorithm"], "SHA2_512"))
p384_edit(spec_set(["data", "algorithm"], None))
p384_edit(spec_set(["signature", "verifier", "keyDetails"], "PKIX_ECDSA_P256_SHA_256"))
p384_edit(spec_set(["signature", "verifier", "x509Certificate"], None))
p384_edit(lambda b, e, spec: spec["data"].update(digest=flip(spec["data"]["digest"])))
p384_edit(lambda b, e, spec: spec["signature"].update(content=flip(spec["signature"]["content"])))
p384_edit(lambda b, e, spec: spec["data"].update(digest="not base64!"))
p384_edit(lambda b, e, spec: e["inclusionProof"].update(hashes=[], treeSize="1"))
p384_edit(lambda b, e, spec: e["inclusionProof"].update(logIndex="18446744073709551615"))
p384_edit(lambda b, e, spec: b["verificationMaterial"].update(timestampVerificationData={}))
p384_edit(lambda b, e, spec: e["kindVersion"].update(version="0.0.1"))

roots = [os.path.join(ROOT, "src/sigstore", n) for n in ("trusted_root.json", "trusted_root_staging.json", "signing_config.json")]
roots += [os.path.join(FX, "sigstore-conformance/rekor2-dsse-happy-path/trusted_root.json")]
if conf:
    roots += sorted(glob.glob(os.path.join(conf, "*", "trusted_root.json")))[:6]
for p in roots:
    raw = read(p)
    put("trusted_root", raw)
    v = json.loads(raw)
    for group in ("tlogs", "ctlogs"):
        for log in v.get(group, []):
            put("keys", base64.b64decode(log["publicKey"]["rawBytes"]))
    for group in ("certificateAuthorities", "timestampAuthorities"):
        for ca in v.get(group, []):
            for c in ca["certChain"]["certificates"]:
                put("certificate", base64.b64decode(c["rawBytes"]))
put("trusted_root", json.dumps({
    "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
    "trustedRoot": json.loads(read(roots[0])),
    "signingConfig": json.loads(read(roots[2]))}).encode())

for p in sorted(glob.glob(os.path.join(FX, "model-transparency/keys/certificate/*.pem")) +
                glob.glob(os.path.join(FX, "keys/*"))):
    put("keys", read(p))

oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
for text in [f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n",
             f"version https://git-lfs.github.com/spec/v1\next-0-foo sha256:{oid}\noid sha256:{oid}\nsize 0\n",
             f"version https://git-lfs.github.com/spec/v1\r\noid sha256:{oid}\r\nsize 12\r\n"]:
    put("lfs_pointer", text.encode())

# Git trees over the blobs the git_tree target writes to its scratch repository
# (msign::fuzzing::GIT_BLOBS): a well-formed tree, a nested one, a link, and the crafted
# shapes git fsck refuses (a name twice, entries out of order).
BLOBS = {
    "loader.py": b"print('hello')\n",
    "weights.bin": b"\x00\x01\x02\x03weights",
    "lfs.bin": f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n".encode(),
    ".gitattributes": b"*.bin filter=lfs diff=lfs merge=lfs -text\n",
    "link": b"weights.bin",
}


def blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()


def tree(entries):
    return b"".join(b"%s %s\0" % (mode, name.encode()) + oid for mode, name, oid in entries)


def tree_id(data):
    return hashlib.sha1(b"tree %d\0" % len(data) + data).digest()


files = [(b"100644", n, blob_id(BLOBS[n])) for n in sorted(BLOBS) if n != "link"]
flat = tree(sorted(files + [(b"120000", "link", blob_id(BLOBS["link"]))], key=lambda e: e[1]))
put("git_tree", flat)
put("git_tree", tree(files))
sub = tree([(b"100644", "loader.py", blob_id(BLOBS["loader.py"]))])
put("git_tree", tree([(b"100644", "a.bin", blob_id(BLOBS["lfs.bin"])), (b"40000", "sub", tree_id(sub))]))
put("git_tree", tree([(b"100644", "loader.py", blob_id(BLOBS["loader.py"])),
                      (b"100644", "weights.bin", blob_id(BLOBS["weights.bin"])),
                      (b"100644", "loader.py", blob_id(BLOBS["lfs.bin"]))]))
put("git_tree", tree([(b"100644", "weights.bin", blob_id(BLOBS["weights.bin"])),
                      (b"100644", "loader.py", blob_id(BLOBS["loader.py"]))]))
put("git_tree", tree([(b"160000", "submodule", blob_id(b"x")), (b"100755", "run.sh", blob_id(BLOBS["loader.py"]))]))

# The Hub: the revision answer, then listing pages (a relative Link to the next page).
sha = "0123456789abcdef0123456789abcdef01234567"
rev = b"200\nContent-Type: application/json\n\n" + json.dumps({"sha": sha}).encode()
page1 = [{"type": "directory", "oid": "1" * 40, "size": 0, "path": "sub"},
         {"type": "file", "oid": "a0fb5c4ab6ad53a5a2df6ae6c9c6e9e0e4bd1b09", "size": 90868376,
          "path": "model.safetensors", "lfs": {"oid": oid, "size": 90868376, "pointerSize": 135},
          "xetHash": "abc"}]
page2 = [{"type": "file", "oid": "b" * 40, "size": 12, "path": "sub/config.json"},
         {"type": "file", "oid": "c" * 40, "size": 3, "path": ".gitattributes"}]
link = f'</api/models/org/model/tree/{sha}?recursive=true&expand=false&cursor=2>; rel="next"'
put("hub_listing", rev + SPLIT + b"200\nLink: " + link.encode() + b"\n\n" + json.dumps(page1).encode()
    + SPLIT + b"200\n\n" + json.dumps(page2).encode())
put("hub_listing", rev + SPLIT + json.dumps(page1 + page2).encode())
put("hub_listing", b"404\nX-Error-Code: RepoNotFound\nX-Error-Message: nope\n\n")

# TUF: the initial root, then the answers in the order the client asks:
# 2.root.json, 3.root.json (404), timestamp, snapshot, targets, the two targets.
tuf = sys.argv[2] if len(sys.argv) > 2 else None
if tuf:
    r = os.path.join(tuf, "repo")
    tg = sorted(glob.glob(os.path.join(r, "targets", "*")))
    trusted = [p for p in tg if p.endswith("trusted_root.json")]
    signing = [p for p in tg if p.endswith("signing_config.v0.2.json")]
    answers = [read(os.path.join(r, "2.root.json")), b"404\n\n",
               read(os.path.join(r, "timestamp.json")), read(os.path.join(r, "1.snapshot.json")),
               read(os.path.join(r, "1.targets.json"))] + [read(p) for p in trusted + signing]
    put("tuf", SPLIT.join([read(os.path.join(tuf, "root.json"))] + answers))
    put("tuf", SPLIT.join([read(os.path.join(tuf, "root.json")), b"404\n\n"] + answers[2:]))
    put("tuf", SPLIT.join([read(os.path.join(tuf, "root.json"))] + [read(os.path.join(tuf, "variants", "2.root.json.one_old_sig"))]))
    put("tuf", SPLIT.join([read(os.path.join(tuf, "root.json")), b"404\n\n", read(os.path.join(tuf, "variants", "timestamp_expired.json"))]))
put("tuf", read(os.path.join(ROOT, "src/sigstore/tuf_root.json")))
