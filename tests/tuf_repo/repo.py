"""A TUF repository on loopback, for msign's TUF client tests (tests/sigstore_tuf.rs).

Built with python-tuf's Metadata API and securesystemslib's CryptoSigner (ECDSA P-256),
the way Sigstore's repositories are:
- root v1: two root keys, threshold 2; one key each for timestamp, snapshot, targets;
- root v2 (2.root.json): root key r1 replaced by r3 (threshold 2), timestamp key replaced;
  signed by r1, r2 (the old threshold) and r2, r3 (its own);
- timestamp.json v2 (names snapshot v1), 1.snapshot.json (names targets.json v1 with its
  length and hashes), 1.targets.json listing trusted_root.json with sha256 and sha512 and a
  custom field holding quotes, backslashes and non-ASCII text (canonical JSON must match
  securesystemslib's to verify), and targets/<sha256>.trusted_root.json.

Usage: repo.py OUT_DIR TRUSTED_ROOT_JSON [LIFETIME_SECONDS [SIGNING_CONFIG_JSON]]

With SIGNING_CONFIG_JSON, 1.targets.json also lists it as signing_config.v0.2.json (as
Sigstore's repositories do), with targets/<sha256>.signing_config.v0.2.json.

Writes the repository to OUT_DIR/repo, the initial root to OUT_DIR/root.json, and variants
the tests swap in to OUT_DIR/variants/:
- timestamp_v1.json: a valid timestamp, version 1 (rollback after v2);
- timestamp_expired.json: version 3, expired yesterday;
- 2.root.json.one_old_sig: root v2 signed by only one of the two old root keys;
- 1.snapshot.json.wrong_key: the snapshot signed by the targets key.
Then serves OUT_DIR/repo on 127.0.0.1 (a free port), prints one JSON line {"url": ...},
and serves until stdin is closed or the lifetime has passed.
"""

import datetime
import functools
import json
import os
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

OUT = sys.argv[1]
TRUSTED_ROOT = sys.argv[2]
LIFETIME = float(sys.argv[3]) if len(sys.argv) > 3 else 300.0
SIGNING_CONFIG = sys.argv[4] if len(sys.argv) > 4 else None

REPO = os.path.join(OUT, "repo")
VARIANTS = os.path.join(OUT, "variants")
os.makedirs(os.path.join(REPO, "targets"), exist_ok=True)
os.makedirs(VARIANTS, exist_ok=True)

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
LATER = NOW + datetime.timedelta(days=30)
PRETTY = JSONSerializer(compact=False)

r1, r2, r3 = (CryptoSigner.generate_ecdsa() for _ in range(3))
t1, t2 = CryptoSigner.generate_ecdsa(), CryptoSigner.generate_ecdsa()
snap_key = CryptoSigner.generate_ecdsa()
targets_key = CryptoSigner.generate_ecdsa()


def write(md, path):
    with open(path, "wb") as f:
        f.write(md.to_bytes(PRETTY))


def signed_by(md, *signers):
    md.signatures.clear()
    for s in signers:
        md.sign(s, append=True)
    return md


def root(version, root_keys, timestamp_key):
    md = Metadata(Root(version=version, expires=LATER, consistent_snapshot=True))
    for k in root_keys:
        md.signed.add_key(k.public_key, "root")
    md.signed.roles["root"].threshold = 2
    md.signed.add_key(timestamp_key.public_key, "timestamp")
    md.signed.add_key(snap_key.public_key, "snapshot")
    md.signed.add_key(targets_key.public_key, "targets")
    return md


root1 = signed_by(root(1, [r1, r2], t1), r1, r2)
write(root1, os.path.join(OUT, "root.json"))
write(root1, os.path.join(REPO, "1.root.json"))
root2 = root(2, [r2, r3], t2)
write(signed_by(root2, r1, r2, r3), os.path.join(REPO, "2.root.json"))
write(signed_by(root2, r2, r3), os.path.join(VARIANTS, "2.root.json.one_old_sig"))

with open(TRUSTED_ROOT, "rb") as f:
    trusted_root = f.read()
target = TargetFile.from_data("trusted_root.json", trusted_root, ["sha256", "sha512"])
target.unrecognized_fields["custom"] = {
    "sigstore": {"status": "Active", "usage": "TrustedRoot"},
    "note": 'naïve "quoted" back\\slash, €',
}
with open(os.path.join(REPO, "targets", f"{target.hashes['sha256']}.trusted_root.json"), "wb") as f:
    f.write(trusted_root)

targets = Metadata(Targets(version=1, expires=LATER))
targets.signed.targets["trusted_root.json"] = target
if SIGNING_CONFIG:
    with open(SIGNING_CONFIG, "rb") as f:
        config = f.read()
    config_target = TargetFile.from_data("signing_config.v0.2.json", config, ["sha256"])
    name = f"{config_target.hashes['sha256']}.signing_config.v0.2.json"
    with open(os.path.join(REPO, "targets", name), "wb") as f:
        f.write(config)
    targets.signed.targets["signing_config.v0.2.json"] = config_target
targets_bytes = signed_by(targets, targets_key).to_bytes(PRETTY)
with open(os.path.join(REPO, "1.targets.json"), "wb") as f:
    f.write(targets_bytes)

snapshot = Metadata(Snapshot(version=1, expires=LATER))
snapshot.signed.meta["targets.json"] = MetaFile.from_data(1, targets_bytes, ["sha256"])
write(signed_by(snapshot, snap_key), os.path.join(REPO, "1.snapshot.json"))
write(signed_by(snapshot, targets_key), os.path.join(VARIANTS, "1.snapshot.json.wrong_key"))


def timestamp(version, expires):
    md = Metadata(Timestamp(version=version, expires=expires))
    md.signed.snapshot_meta = MetaFile(version=1)
    return signed_by(md, t2)


write(timestamp(2, LATER), os.path.join(REPO, "timestamp.json"))
write(timestamp(1, LATER), os.path.join(VARIANTS, "timestamp_v1.json"))
write(
    timestamp(3, NOW - datetime.timedelta(days=1)),
    os.path.join(VARIANTS, "timestamp_expired.json"),
)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=REPO))
threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"url": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)


def wait_stdin():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=wait_stdin, daemon=True).start()
threading.Event().wait(LIFETIME)
os._exit(0)
