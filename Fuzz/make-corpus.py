#!/usr/bin/env python3
"""Writes the committed seed corpora of Fuzz/corpus/ (run once; the output is committed).

Usage: python3 Fuzz/make-corpus.py GENERATED_DIR
GENERATED_DIR holds the output of
    kofu bench generate --residents 4 --seed S --out exS.jsonl --municipality 999997 \
        --batches 2 --events-per-batch 3 --batch-dir bS        (S = 1, 2, 3)
    kofu bench generate --residents 3 --seed 4 --out ex4.jsonl.gz --gzip --municipality 999997
The other seeds come from ../shared/testdata (JSONTestSuite, PKITS, x509-limbo, blns.json,
jp-names.json), Deploy/kofu.toml.example and the payload shapes of the tests. The JWS seeds are
signed with a throwaway key made here by the openssl command line.
"""
import base64, glob, hashlib, json, os, re, struct, subprocess, sys, tempfile, zlib

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
testdata = os.path.join(root, "..", "shared", "testdata")
if not os.path.isdir(testdata):
    testdata = "/work/shared/testdata"
gen = sys.argv[1]
out = os.path.join(root, "Fuzz", "corpus")

def put(harness, name, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

# json: the whole JSONTestSuite (y_, n_, i_ files are small) and blns.json.
for path in sorted(glob.glob(os.path.join(testdata, "jsontestsuite", "*.json"))):
    data = open(path, "rb").read()
    if len(data) <= 4096:
        put("json", os.path.basename(path), data)
put("json", "blns.json", open(os.path.join(testdata, "blns.json"), "rb").read())

# payloads
common = '"requestId":"5f0c7a3e-1b2d-4c8e-9f10-2a3b4c5d6e7f","issuedAt":"2026-11-20T10:15:30+09:00","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1"}'
payloads = {
    "eligibility": "{%s}" % common,
    "self": '{%s,"kind":"juminhyo","scope":"self","copies":1}' % common,
    "household": '{%s,"kind":"juminhyo","scope":"household","options":{"domicile":true,"relationship":true,"foreignResidentItems":false},"copies":2}' % common,
    "members": '{%s,"kind":"juminhyo","scope":"members","members":["m1","m2"],"copies":10}' % common,
    "inkan": '{%s,"kind":"inkan","scope":"self","copies":1}' % common,
    "forbidden": '{%s,"kind":"juminhyo","scope":"self","options":{"individualNumber":true,"residentCode":false},"copies":1}' % common,
    "utc": '{"requestId":"5F0C7A3E-1B2D-4C8E-9F10-2A3B4C5D6E7F","issuedAt":"2026-02-29T23:59:60Z","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1"}}',
}
for k, v in payloads.items():
    put("payload", k + ".json", v)

# jws: signed with a throwaway RSA key and a self-signed certificate; one with a PKITS card.
with tempfile.TemporaryDirectory() as tmp:
    key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.der")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=fuzz card",
                    "-days", "3650", "-keyout", key, "-outform", "DER", "-out", crt], check=True, capture_output=True)
    der = open(crt, "rb").read()
    pkits = open(os.path.join(testdata, "pkits", "certs", "ValidCertificatePathTest1EE.crt"), "rb").read()
    for cert_name, cert in [("self", der), ("pkits", pkits)]:
        header = json.dumps({"alg": "RS256", "typ": "kofu-request", "x5c": [base64.b64encode(cert).decode()]},
                            separators=(",", ":")).encode()
        for k in ["eligibility", "members", "household"]:
            signing_input = (b64url(header) + "." + b64url(payloads[k].encode())).encode()
            sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input,
                                 check=True, capture_output=True).stdout
            put("jws", "%s-%s.jws" % (cert_name, k), signing_input + b"." + b64url(sig).encode())
    put("jws", "alg-none.jws", b64url(b'{"alg":"none","typ":"kofu-request","x5c":[]}') + "." + b64url(b"{}") + ".AA")

# sync batches and extracts from `kofu bench generate`
for path in sorted(glob.glob(os.path.join(gen, "b*", "*.json"))):
    put("syncbatch", path.split(os.sep)[-2] + "-" + os.path.basename(path), open(path, "rb").read())
put("syncbatch", "empty.json", '{"events":[]}')
for kind, event in [("delete", '{"seq":5,"type":"resident.delete","juminhyoCode":"12345678901","reason":"転出","effectiveOn":"2026-11-20"}'),
                    ("abolish", '{"seq":5,"type":"seal.abolish","juminhyoCode":"12345678901"}')]:
    put("syncbatch", kind + ".json", '{"events":[%s]}' % event)
lines = {}
for path in sorted(glob.glob(os.path.join(gen, "ex*.jsonl"))):
    data = open(path, "rb").read()
    if len(data) <= 16384:
        put("extract", os.path.basename(path), data)
    for line in data.split(b"\n"):
        if not line:
            continue
        kind = json.loads(line).get("type", "header")
        if kind not in lines or len(line) < len(lines[kind]):
            lines[kind] = line
for path in sorted(glob.glob(os.path.join(gen, "ex*.jsonl.gz"))):
    put("extract", os.path.basename(path), open(path, "rb").read())
for kind, line in lines.items():
    put("extractline", kind + ".json", line)

# png: the seal impressions of the extracts, and every colour type and bit depth made here.
seen = 0
for path in sorted(glob.glob(os.path.join(gen, "ex*.jsonl"))):
    for m in re.finditer(rb'"png":"([A-Za-z0-9+/=]+)"', open(path, "rb").read()):
        png = base64.b64decode(m.group(1))
        put("png", "seal-%d.png" % seen, png)
        seen += 1
        if seen >= 4:
            break

def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)

def png(w, h, depth, ctype, interlace=0, extra=b""):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    row = (w * channels * depth + 7) // 8
    raw = b"".join(bytes([y % 5]) + bytes((x * 37 + y * 11) % 256 for x in range(row)) for y in range(h))
    if interlace:  # a valid Adam7 stream for these sizes is tedious; the fuzzer gets the flag and data
        raw = raw
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

plte = chunk(b"PLTE", bytes(range(48)))
for depth, ctype, extra in [(1, 0, b""), (2, 0, b""), (4, 0, b""), (8, 0, b""), (16, 0, b""), (8, 2, b""), (16, 2, b""),
                            (1, 3, plte), (8, 3, plte + chunk(b"tRNS", b"\x00\x80")), (8, 4, b""), (16, 4, b""), (8, 6, b""),
                            (8, 0, chunk(b"tRNS", b"\x00\x07")), (8, 2, chunk(b"pHYs", struct.pack(">IIB", 11811, 11811, 1)))]:
    put("png", "t%d-d%d-%d.png" % (ctype, depth, len(extra)), png(5, 4, depth, ctype, 0, extra))
put("png", "interlaced.png", png(3, 3, 8, 0, 1))
preview = os.path.join(root, "Fonts", "kofu-demo-gaiji-preview.png")
if os.path.getsize(preview) <= 65536:
    put("png", "gaiji-preview.png", open(preview, "rb").read())

# cert: PKITS CA and end-entity certificates (DER and PEM), x509-limbo chains (PEM).
def pem(der, label):
    b = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), label)

certs = sorted(glob.glob(os.path.join(testdata, "pkits", "certs", "*.crt")))
picked = [c for c in certs if re.search(r"(ValidCertificatePathTest1EE|GoodCACert|TrustAnchorRoot|Policy|NameConstraints|BasicConstraints|keyUsage|DSA|RFC822|DN)", os.path.basename(c))][:40]
for c in picked:
    der = open(c, "rb").read()
    put("cert", os.path.basename(c), der)
for c in picked[:8]:
    put("cert", os.path.basename(c) + ".pem", pem(open(c, "rb").read(), "CERTIFICATE"))
put("cert", "two.pem", pem(open(picked[0], "rb").read(), "CERTIFICATE") + pem(open(picked[1], "rb").read(), "CERTIFICATE"))
limbo = json.load(open(os.path.join(testdata, "x509-limbo", "limbo.json")))["testcases"]
n = 0
for case in limbo[::9]:
    for p in [case["peer_certificate"]] + case["trusted_certs"] + case["untrusted_intermediates"]:
        if n < 16 and len(p) < 4096:
            put("cert", "limbo-%02d.pem" % n, p)
            n += 1

# crl: PKITS CRLs (DER and a few PEM), x509-limbo CRLs (PEM).
crls = sorted(glob.glob(os.path.join(testdata, "pkits", "crls", "*.crl")))
for c in crls[::4][:40]:
    put("crl", os.path.basename(c), open(c, "rb").read())
for c in crls[:6]:
    put("crl", os.path.basename(c) + ".pem", pem(open(c, "rb").read(), "X509 CRL"))
n = 0
for case in limbo:
    for p in case.get("crls") or []:
        if n < 8:
            put("crl", "limbo-%02d.pem" % n, p)
            n += 1
put("crl", "GoodCACRL.crl", open(os.path.join(testdata, "pkits", "crls", "GoodCACRL.crl"), "rb").read())

# toml: the example configuration, and pieces of it.
example = open(os.path.join(root, "Deploy", "kofu.toml.example"), "rb").read()
put("toml", "kofu.toml.example", example)
for i, part in enumerate(re.split(rb"\n(?=\[)", example)):
    put("toml", "part-%d.toml" % i, part)
put("toml", "values.toml", 'a = "s\\u00e9\\n"\nb = 12\nc = true\nd = ["x", "y"]\ne = 1.5\nf = \'literal\'\n[t]\ng = -3\n')

# shape: names of jp-names.json, strings of blns.json, IVS and 外字 (private use) sequences.
for i, name in enumerate(json.load(open(os.path.join(testdata, "jp-names.json")))):
    if i % 3 == 0:
        put("shape", "name-%03d.txt" % i, name["text"])
for i, s in enumerate(json.load(open(os.path.join(testdata, "blns.json")))):
    if i % 16 == 0:
        put("shape", "blns-%03d.txt" % i, s)
put("shape", "ivs.txt", "葛\U000E0100城　辻\U000E0101")
put("shape", "gaiji.txt", "\ue000\ue001\ue002")
put("shape", "hangul.txt", "\u1100\u1161\u11a8 한국")
