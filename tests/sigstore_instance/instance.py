"""A private Sigstore instance on loopback, for msign's tests.

One HTTP server on 127.0.0.1 plays every part, each with its own keys:
- an OIDC issuer (discovery, JWKS, an authorization endpoint that approves at once, a token
  endpoint, and /mint to get a test token directly), tokens signed with ES256;
- Fulcio (POST /api/v2/signingCert): checks the token against the issuer's key and the proof
  of possession over `sub`, issues a 10-minute code-signing certificate with the OIDC issuer
  extensions (1.3.6.1.4.1.57264.1.1 and .1.8) and an embedded SCT signed by a test CT log;
- Rekor v1 (POST /api/v1/log/entries, kind dsse 0.0.1): an in-memory RFC 6962 tree, signed
  entry timestamps, inclusion proofs, signed checkpoints;
- a Rekor v2 log (POST /api/v2/log/entries, hashedrekord 0.0.2 only, DSSE logged as the
  hash of its PAE; Ed25519 checkpoints, no SET), named alone in trust_config_v2.json.

Writes trust_config.json (ClientTrustConfig: trusted root + signing config) into the
directory given as argv[1], prints one JSON line {"url": ...}, and serves until stdin is
closed or argv[2] seconds have passed.
"""

import base64
import datetime
import hashlib
import json
import os
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = sys.argv[1]
LIFETIME = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0


def b64(b):
    return base64.b64encode(b).decode()


def spki(key):
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


oidc_key = ec.generate_private_key(ec.SECP256R1())
ct_key = ec.generate_private_key(ec.SECP256R1())
rekor_key = ec.generate_private_key(ec.SECP256R1())
root_key = ec.generate_private_key(ec.SECP384R1())
inter_key = ec.generate_private_key(ec.SECP384R1())
CT_ID = hashlib.sha256(spki(ct_key)).digest()
REKOR_ID = hashlib.sha256(spki(rekor_key)).digest()
NOW = datetime.datetime.now(datetime.timezone.utc)
# How long the CA and TSA certificates stay valid: 30 days, or MSIGN_INSTANCE_CA_DAYS for
# fixtures made once and verified for years (fixtures/msign-p384-rekor-v2/make.py).
CA_DAYS = int(os.environ.get("MSIGN_INSTANCE_CA_DAYS", "30"))


def ca_cert(subject_cn, key, issuer_cn, issuer_key, path_len):
    name = lambda cn: x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "msign-test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name(subject_cn))
        .issuer_name(name(issuer_cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA384())
    )


root_cert = ca_cert("test-fulcio-root", root_key, "test-fulcio-root", root_key, 1)

# Rekor v2: an Ed25519 log whose id is its signed-note key id.
from cryptography.hazmat.primitives.asymmetric import ed25519
rekor2_key = ed25519.Ed25519PrivateKey.generate()
V2_ORIGIN = "log2.msign.test"
V2_ID = hashlib.sha256(V2_ORIGIN.encode() + b"\n\x01" + rekor2_key.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)).digest()

# A timestamp authority: a root and a signing certificate with the timeStamping EKU.
tsa_root_key = ec.generate_private_key(ec.SECP384R1())
tsa_key = ec.generate_private_key(ec.SECP256R1())
tsa_root = ca_cert("test-tsa-root", tsa_root_key, "test-tsa-root", tsa_root_key, 0)
tsa_cert = (
    x509.CertificateBuilder()
    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-tsa")]))
    .issuer_name(tsa_root.subject)
    .public_key(tsa_key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(NOW - datetime.timedelta(days=1))
    .not_valid_after(NOW + datetime.timedelta(days=CA_DAYS))
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
    .sign(tsa_root_key, hashes.SHA384())
)
inter_cert = ca_cert("test-fulcio-intermediate", inter_key, "test-fulcio-root", root_key, 0)


class Log:
    def __init__(self):
        self.leaves = []
        self.lock = threading.Lock()

    @staticmethod
    def node(l, r):
        return hashlib.sha256(b"\x01" + l + r).digest()

    def root(self, leaves):
        if len(leaves) == 1:
            return leaves[0]
        k = 1
        while k * 2 < len(leaves):
            k *= 2
        return self.node(self.root(leaves[:k]), self.root(leaves[k:]))

    def proof(self, leaves, m):
        if len(leaves) == 1:
            return []
        k = 1
        while k * 2 < len(leaves):
            k *= 2
        if m < k:
            return self.proof(leaves[:k], m) + [self.root(leaves[k:])]
        return self.proof(leaves[k:], m - k) + [self.root(leaves[:k])]


LOG = Log()
LOG2 = Log()
TSA_LOCK = threading.Lock()


TSA_DIR = os.path.join(OUT, "tsa")


def tsa_files():
    """The TSA's certificate, key and `openssl ts` configuration, written once."""
    os.makedirs(TSA_DIR, exist_ok=True)
    if os.path.exists(os.path.join(TSA_DIR, "tsa.cnf")):
        return
    with open(os.path.join(TSA_DIR, "tsa.pem"), "wb") as f:
        f.write(tsa_cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(TSA_DIR, "tsa.key"), "wb") as f:
        f.write(tsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    with open(os.path.join(TSA_DIR, "tsa.cnf"), "w") as f:
        f.write(f"[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = {TSA_DIR}/serial\nsigner_digest = sha256\n"
                "default_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\nordering = no\n"
                "tsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n")


def ts_reply(query):
    """The TSA: answers a DER TimeStampReq with a TimeStampResp (DER), by `openssl ts -reply`."""
    with TSA_LOCK:
        tsa_files()
        q, r = os.path.join(TSA_DIR, "req.tsq"), os.path.join(TSA_DIR, "r.tsr")
        with open(q, "wb") as f:
            f.write(query)
        subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(TSA_DIR, "tsa.cnf"), "-queryfile", q,
                        "-signer", os.path.join(TSA_DIR, "tsa.pem"), "-inkey", os.path.join(TSA_DIR, "tsa.key"),
                        "-out", r], check=True, capture_output=True)
        with open(r, "rb") as f:
            return f.read()


def timestamp(message):
    """An RFC 3161 TimeStampResp over SHA-256(message)."""
    with TSA_LOCK:
        tsa_files()
        q = os.path.join(TSA_DIR, "q.tsq")
        subprocess.run(["openssl", "ts", "-query", "-digest", hashlib.sha256(message).hexdigest(), "-sha256",
                        "-no_nonce", "-cert", "-out", q], check=True, capture_output=True)
        with open(q, "rb") as f:
            query = f.read()
    return ts_reply(query)


def to_rekor_v2(bundle):
    """Re-logs a bundle's signature in the Rekor v2 log (hashedrekord 0.0.2 over the DSSE
    PAE, checkpoint-only proof) and replaces its time source with an RFC 3161 timestamp."""
    env = bundle["dsseEnvelope"]
    payload = base64.b64decode(env["payload"])
    pt = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(pt), pt, len(payload), payload)
    sig = base64.b64decode(env["signatures"][0]["sig"])
    cert_der = base64.b64decode(bundle["verificationMaterial"]["certificate"]["rawBytes"])
    body = canonical({"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {"hashedRekordV002": {
        "data": {"algorithm": "SHA2_256", "digest": b64(hashlib.sha256(pae).digest())},
        "signature": {"content": b64(sig), "verifier": {
            "keyDetails": "PKIX_ECDSA_P256_SHA_256", "x509Certificate": {"rawBytes": b64(cert_der)}}}}}})
    bundle["verificationMaterial"]["tlogEntries"] = [log2_body(body, "hashedrekord")]
    bundle["verificationMaterial"]["timestampVerificationData"] = {
        "rfc3161Timestamps": [{"signedTimestamp": b64(timestamp(sig))}]}
    return bundle


def to_rekor_v2_dsse(bundle):
    """Re-logs a Rekor v2 bundle's DSSE envelope as a dsse 0.0.2 entry (DSSELogEntryV002),
    the form msign wrote before the spec dropped it, keeping its RFC 3161 timestamp: the
    bundles of earlier msign builds, which msign must still verify."""
    env = bundle["dsseEnvelope"]
    payload = base64.b64decode(env["payload"])
    cert = bundle["verificationMaterial"]["certificate"]
    body = canonical({"apiVersion": "0.0.2", "kind": "dsse", "spec": {"dsseV002": {
        "payloadHash": {"algorithm": "SHA2_256", "digest": b64(hashlib.sha256(payload).digest())},
        "signatures": [{"content": env["signatures"][0]["sig"], "verifier": {
            "keyDetails": "PKIX_ECDSA_P256_SHA_256", "x509Certificate": cert}}]}}})
    bundle["verificationMaterial"]["tlogEntries"] = [log2_body(body, "dsse")]
    return bundle


def relog_v2(bundle):
    """Logs a bundle's Rekor v2 entry body afresh, as it stands (edited or not), and
    timestamps its DSSE signature anew: a log and a TSA that vouch for whatever they are
    given, so that a tampered body or signature gets past the inclusion proof and the
    timestamp and reaches the checks of what the entry records."""
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    body = base64.b64decode(entry["canonicalizedBody"])
    bundle["verificationMaterial"]["tlogEntries"] = [log2_body(body, entry["kindVersion"]["kind"])]
    sig = base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"])
    bundle["verificationMaterial"]["timestampVerificationData"] = {
        "rfc3161Timestamps": [{"signedTimestamp": b64(timestamp(sig))}]}
    return bundle


def log2_body(body, kind):
    """Appends a canonicalized body to the Rekor v2 log and returns the TransparencyLogEntry
    (protobuf JSON, as rekor-tiles answers): no integrated time, no SET, a checkpoint."""
    with LOG2.lock:
        while len(LOG2.leaves) < 3:
            LOG2.leaves.append(hashlib.sha256(b"\x00" + os.urandom(16)).digest())
        LOG2.leaves.append(hashlib.sha256(b"\x00" + body).digest())
        index = len(LOG2.leaves) - 1
        leaves = list(LOG2.leaves)
    root = LOG2.root(leaves)
    note = f"{V2_ORIGIN}\n{len(leaves)}\n{b64(root)}\n"
    cp = note + "\n\u2014 " + V2_ORIGIN + " " + b64(V2_ID[:4] + rekor2_key.sign(note.encode())) + "\n"
    return {
        "logIndex": str(index), "logId": {"keyId": b64(V2_ID)},
        "kindVersion": {"kind": kind, "version": "0.0.2"},
        "inclusionProof": {"logIndex": str(index), "rootHash": b64(root), "treeSize": str(len(leaves)),
                           "hashes": [b64(h) for h in LOG2.proof(leaves, index)], "checkpoint": {"envelope": cp}},
        "canonicalizedBody": b64(body),
    }


def add_entry_v2(req):
    """Rekor v2 POST /api/v2/log/entries, as rekor-tiles answers since the spec dropped dsse
    0.0.2 entries (May 2026): only {"hashedRekordRequestV002": {"digest", "signature":
    {"content", "verifier"}}} is accepted, a DSSE envelope being logged as the hash of its PAE.
    The signature is checked over the prehashed digest with the verifier's key (the digest
    follows the key: SHA-256 for P-256, SHA-384 for P-384), then a hashedrekord 0.0.2 body
    (HashedRekordLogEntryV002) is logged."""
    if "hashedRekordRequestV002" not in req:
        raise ValueError("only hashedRekordRequestV002 requests (dsse entries are no longer accepted)")
    r = req["hashedRekordRequestV002"]
    verifier = r["signature"]["verifier"]
    if "x509Certificate" in verifier:
        key = x509.load_der_x509_certificate(base64.b64decode(verifier["x509Certificate"]["rawBytes"])).public_key()
    else:
        key = serialization.load_der_public_key(base64.b64decode(verifier["publicKey"]["rawBytes"]))
    algorithms = {"PKIX_ECDSA_P256_SHA_256": ("SHA2_256", hashes.SHA256()),
                  "PKIX_ECDSA_P384_SHA_384": ("SHA2_384", hashes.SHA384())}
    if verifier.get("keyDetails") not in algorithms:
        raise ValueError("unsupported keyDetails %r" % verifier.get("keyDetails"))
    name, algorithm = algorithms[verifier["keyDetails"]]
    digest = base64.b64decode(r["digest"])
    if len(digest) != algorithm.digest_size:
        raise ValueError("digest length does not match keyDetails")
    sig = r["signature"]["content"]
    key.verify(base64.b64decode(sig), digest, ec.ECDSA(utils.Prehashed(algorithm)))
    body = canonical({"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {"hashedRekordV002": {
        "data": {"algorithm": name, "digest": r["digest"]},
        "signature": {"content": sig, "verifier": verifier}}}})
    return log2_body(body, "hashedrekord")


ORIGIN = "rekor.msign.test - 4242"


def sign(key, data):
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def signing_cert_request(r, authorization):
    """Both forms of Fulcio's v2 request: a public key with a signed `sub` (msign), or a
    CSR with the token in the Authorization header (sigstore-python)."""
    if "certificateSigningRequest" in r:
        token = authorization.removeprefix("Bearer ").strip()
        claims = jwt.decode(token, oidc_key.public_key(), algorithms=["ES256"], audience="sigstore", issuer=ISSUER)
        csr = x509.load_pem_x509_csr(base64.b64decode(r["certificateSigningRequest"]))
        if not csr.is_signature_valid:
            raise ValueError("CSR signature invalid")
        return issue_certificate(claims, csr.public_key())
    token = r["credentials"]["oidcIdentityToken"]
    claims = jwt.decode(token, oidc_key.public_key(), algorithms=["ES256"], audience="sigstore", issuer=ISSUER)
    pub = serialization.load_pem_public_key(r["publicKeyRequest"]["publicKey"]["content"].encode())
    pub.verify(base64.b64decode(r["publicKeyRequest"]["proofOfPossession"]), claims["sub"].encode(),
               ec.ECDSA(hashes.SHA256()))
    return issue_certificate(claims, pub)


def issue_certificate(claims, pub):
    email = claims.get("email", claims["sub"])
    issuer_v2 = b"\x0c" + bytes([len(ISSUER)]) + ISSUER.encode()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(inter_cert.subject)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5))
        .not_valid_after(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), ISSUER.encode()), critical=False)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), issuer_v2), critical=False)
    )
    # The CT log signs the TBS of the certificate without the SCT extension (RFC 6962 3.2);
    # the final certificate is the same TBS with the SCT list appended.
    pre = builder.sign(inter_key, hashes.SHA384())
    tbs = pre.tbs_certificate_bytes
    ts = int(time.time() * 1000)
    issuer_hash = hashlib.sha256(inter_cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    signed = b"\x00\x00" + struct.pack(">Q", ts) + b"\x00\x01" + issuer_hash + struct.pack(">I", len(tbs))[1:] + tbs + b"\x00\x00"
    sig = sign(ct_key, signed)
    sct = b"\x00" + CT_ID + struct.pack(">Q", ts) + b"\x00\x00" + b"\x04\x03" + struct.pack(">H", len(sig)) + sig
    sct_list = struct.pack(">H", len(sct) + 2) + struct.pack(">H", len(sct)) + sct
    octet = b"\x04" + der_len(len(sct_list)) + sct_list
    leaf = builder.add_extension(
        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), octet), critical=False
    ).sign(inter_key, hashes.SHA384())
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, inter_cert, root_cert)]
    return {"signedCertificateEmbeddedSct": {"chain": {"certificates": pems}}}


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def load_verifier_key(pem):
    try:
        return x509.load_pem_x509_certificate(pem).public_key()
    except ValueError:  # a managed key instead of a Fulcio certificate
        return serialization.load_pem_public_key(pem)


def hashedrekord_body(req):
    spec = req["spec"]
    digest = bytes.fromhex(spec["data"]["hash"]["value"])
    key = load_verifier_key(base64.b64decode(spec["signature"]["publicKey"]["content"]))
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    key.verify(base64.b64decode(spec["signature"]["content"]), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    return canonical({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": spec})


def add_entry(req):
    if req.get("kind") == "hashedrekord" and req.get("apiVersion") == "0.0.1":
        return log_body(hashedrekord_body(req))
    if req.get("kind") != "dsse" or req.get("apiVersion") != "0.0.1":
        raise ValueError("only dsse and hashedrekord 0.0.1 entries")
    content = req["spec"]["proposedContent"]
    env = json.loads(content["envelope"])
    pem = base64.b64decode(content["verifiers"][0])
    # Rekor records the verifier re-encoded in canonical PEM (64-column lines, final
    # newline), whatever the client sent, and verifiers compare it with their own PEM.
    try:
        cert = x509.load_pem_x509_certificate(pem)
        key = cert.public_key()
        pem = cert.public_bytes(serialization.Encoding.PEM)
    except ValueError:  # a managed key instead of a Fulcio certificate
        key = serialization.load_pem_public_key(pem)
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    verifier = b64(pem)
    payload = base64.b64decode(env["payload"])
    pt = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(pt), pt, len(payload), payload)
    sigs = []
    for s in env["signatures"]:
        key.verify(base64.b64decode(s["sig"]), pae, ec.ECDSA(hashes.SHA256()))
        sigs.append({"signature": s["sig"], "verifier": verifier})
    body = canonical({
        "apiVersion": "0.0.1", "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(canonical(env)).hexdigest()},
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": sigs,
        },
    })
    return log_body(body)


def log_body(body):
    with LOG.lock:
        # A few earlier entries so that proofs have several levels.
        while len(LOG.leaves) < 5:
            LOG.leaves.append(hashlib.sha256(b"\x00" + os.urandom(16)).digest())
        LOG.leaves.append(hashlib.sha256(b"\x00" + body).digest())
        index = len(LOG.leaves) - 1
        leaves = list(LOG.leaves)
    size = len(leaves)
    root = LOG.root(leaves)
    proof = LOG.proof(leaves, index)
    integrated = int(time.time())
    body_b64 = b64(body)
    set_sig = sign(rekor_key, canonical({"body": body_b64, "integratedTime": integrated, "logID": REKOR_ID.hex(), "logIndex": index}))
    note = f"{ORIGIN}\n{size}\n{b64(root)}\n"
    cp_sig = sign(rekor_key, note.encode())
    checkpoint = note + "\n" + "\u2014 rekor.msign.test " + b64(REKOR_ID[:4] + cp_sig) + "\n"
    uuid = hashlib.sha256(body).hexdigest()
    return {uuid: {
        "body": body_b64, "integratedTime": integrated, "logID": REKOR_ID.hex(), "logIndex": index,
        "verification": {
            "signedEntryTimestamp": b64(set_sig),
            "inclusionProof": {"checkpoint": checkpoint, "hashes": [h.hex() for h in proof],
                               "logIndex": index, "rootHash": root.hex(), "treeSize": size},
        },
    }}


def to_bundle_entry(answer):
    """A Rekor v1 answer ({uuid: LogEntry}) as a bundle's TransparencyLogEntry, for tests that
    assemble bundles by hand (POST /test/rekor-v1 with a proposed entry)."""
    (e,) = answer.values()
    body = json.loads(base64.b64decode(e["body"]))
    p = e["verification"]["inclusionProof"]
    return {
        "logIndex": str(e["logIndex"]), "logId": {"keyId": b64(bytes.fromhex(e["logID"]))},
        "kindVersion": {"kind": body["kind"], "version": body["apiVersion"]},
        "integratedTime": str(e["integratedTime"]),
        "inclusionPromise": {"signedEntryTimestamp": e["verification"]["signedEntryTimestamp"]},
        "inclusionProof": {"logIndex": str(p["logIndex"]), "rootHash": b64(bytes.fromhex(p["rootHash"])),
                           "treeSize": str(p["treeSize"]), "hashes": [b64(bytes.fromhex(h)) for h in p["hashes"]],
                           "checkpoint": {"envelope": p["checkpoint"]}},
        "canonicalizedBody": e["body"],
    }


CODES = {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, obj=None, headers=()):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def reply_der(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/.well-known/openid-configuration":
            return self.reply(200, {"issuer": ISSUER, "authorization_endpoint": ISSUER + "/authorize",
                                    "token_endpoint": ISSUER + "/token", "jwks_uri": ISSUER + "/jwks"})
        if u.path == "/jwks":
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(oidc_key.public_key()))
            return self.reply(200, {"keys": [dict(jwk, kid="test", alg="ES256", use="sig")]})
        if u.path == "/mint":
            return self.reply(200, {"token": mint(q.get("sub", "alice@example.com"))})
        if u.path == "/authorize":
            # Approves at once as the test user, remembering the PKCE challenge.
            code = b64(os.urandom(12)).replace("+", "-").replace("/", "_")
            CODES[code] = (q["code_challenge"], q["redirect_uri"])
            loc = q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
            return self.reply(302, None, [("Location", loc)])
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            if self.path == "/api/v2/signingCert":
                return self.reply(200, signing_cert_request(json.loads(raw), self.headers.get("Authorization", "")))
            if self.path == "/api/v1/log/entries":
                return self.reply(201, add_entry(json.loads(raw)))
            if self.path == "/api/v2/log/entries":
                return self.reply(201, add_entry_v2(json.loads(raw)))
            if self.path == "/tsa":
                return self.reply_der(ts_reply(raw))
            if self.path == "/test/rekor-v1":
                return self.reply(200, to_bundle_entry(add_entry(json.loads(raw))))
            if self.path == "/test/rekor-v2-dsse":
                return self.reply(200, to_rekor_v2_dsse(json.loads(raw)))
            if self.path == "/test/rekor-v2-relog":
                return self.reply(200, relog_v2(json.loads(raw)))
            if self.path == "/test/rekor-v2":
                return self.reply(200, to_rekor_v2(json.loads(raw)))
            if self.path == "/token":
                f = dict(urllib.parse.parse_qsl(raw.decode()))
                challenge, redirect = CODES.pop(f["code"])
                digest = base64.urlsafe_b64encode(hashlib.sha256(f["code_verifier"].encode()).digest()).rstrip(b"=").decode()
                if digest != challenge or redirect != f["redirect_uri"]:
                    return self.reply(400, {"error": "invalid_grant"})
                return self.reply(200, {"id_token": mint("alice@example.com"), "token_type": "Bearer"})
        except Exception as e:  # a test server: report, do not die
            return self.reply(400, {"error": repr(e)})
        self.reply(404, {"error": "not found"})


def mint(sub):
    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "sub": sub, "email": sub, "aud": "sigstore", "iat": now,
                       "nbf": now, "exp": now + 600}, oidc_key, algorithm="ES256", headers={"kid": "test"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ISSUER = f"http://127.0.0.1:{server.server_address[1]}"

start = (NOW - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
trusted_root = {
    "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "tlogs": [{"baseUrl": ISSUER, "hashAlgorithm": "SHA2_256",
               "publicKey": {"rawBytes": b64(spki(rekor_key)), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": start}},
               "logId": {"keyId": b64(REKOR_ID)}},
              {"baseUrl": ISSUER + "/v2", "hashAlgorithm": "SHA2_256",
               "publicKey": {"rawBytes": b64(rekor2_key.public_key().public_bytes(serialization.Encoding.DER,
                             serialization.PublicFormat.SubjectPublicKeyInfo)), "keyDetails": "PKIX_ED25519",
                             "validFor": {"start": start}},
               "logId": {"keyId": b64(V2_ID)}}],
    "certificateAuthorities": [{"subject": {"organization": "msign-test", "commonName": "test-fulcio-root"}, "uri": ISSUER,
                                "certChain": {"certificates": [{"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))} for c in (inter_cert, root_cert)]},
                                "validFor": {"start": start}}],
    "ctlogs": [{"baseUrl": ISSUER, "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": b64(spki(ct_key)), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": start}},
                "logId": {"keyId": b64(CT_ID)}}],
    "timestampAuthorities": [{"subject": {"organization": "msign-test", "commonName": "test-tsa"}, "uri": ISSUER + "/tsa",
                              "certChain": {"certificates": [{"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))} for c in (tsa_cert, tsa_root)]},
                              "validFor": {"start": start}}],
}
svc = lambda: [{"url": ISSUER, "majorApiVersion": 1, "validFor": {"start": start}, "operator": "msign-test"}]
signing_config = {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                  "caUrls": svc(), "oidcUrls": svc(), "rekorTlogUrls": svc(),
                  "tsaUrls": [dict(svc()[0], url=ISSUER + "/tsa")],
                  "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"}}
with open(os.path.join(OUT, "trust_config.json"), "w") as f:
    json.dump({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
               "trustedRoot": trusted_root, "signingConfig": signing_config}, f)
# The same instance, signing through the Rekor v2 log (the only log this config names).
with open(os.path.join(OUT, "trust_config_v2.json"), "w") as f:
    json.dump({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
               "trustedRoot": trusted_root,
               "signingConfig": dict(signing_config, rekorTlogUrls=[dict(svc()[0], majorApiVersion=2)])}, f)
with open(os.path.join(OUT, "trusted_root.json"), "w") as f:
    json.dump(trusted_root, f)

threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"url": ISSUER}), flush=True)


def watch_stdin():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=watch_stdin, daemon=True).start()
time.sleep(LIFETIME)
os._exit(0)
