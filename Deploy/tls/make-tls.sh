#!/usr/bin/env bash
# Creates the TLS material of kofu's two listeners (operations.md [tls]) with the openssl CLI.
#
#   make-tls.sh --center-san SANS --sync-san SANS [--days N] FOLDER
#
# SANS is an openssl subjectAltName list, e.g. "DNS:kofu1.city.example.lg.jp,IP:10.0.0.5".
# In FOLDER (created mode 0700 if absent; every key mode 0600):
#
#   server-ca.pem/.key        a local CA that signs both server certificates; the center and the
#                             upstream are given server-ca.pem to check the server with
#   center-server.pem/.key    [tls] center_cert / center_key   (extendedKeyUsage serverAuth)
#   sync-server.pem/.key      [tls] sync_cert / sync_key
#   upstream-ca.pem/.key      [tls] sync_client_ca: the CA of the 住基 system's client certificate
#   upstream-client.pem/.key  a client certificate from it, for the upstream system (clientAuth)
#   center-ca.pem/.key        [tls] center_client_ca for TESTS AND STAGING ONLY: in production the
#                             center_client_ca is the CA of the 証明書交付センター (from J-LIS), and
#                             this one must not be configured
#   center-client.pem/.key    a client certificate from the test center CA (curl, tests)
#
# Nothing that exists is overwritten: an existing CA (its .pem and .key) is reused to sign, an
# existing certificate is kept. To renew a certificate, move its .pem and .key away and run the
# script again with the same arguments. Exit 0 when done, 1 on an openssl failure, 2 on bad usage.
set -euo pipefail
umask 077

usage() {  # usage [STATUS]: the synopsis, on standard error unless asked for
    if [[ "${1:-2}" == 0 ]]; then sed -n '4,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
    sed -n '4,6p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

center_san="" sync_san="" days=825 folder=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --center-san) [[ $# -ge 2 ]] || usage; center_san="$2"; shift 2 ;;
        --sync-san) [[ $# -ge 2 ]] || usage; sync_san="$2"; shift 2 ;;
        --days) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{0,4}$ ]] || usage; days="$2"; shift 2 ;;
        -h|--help) usage 0 ;;
        -*) echo "make-tls.sh: unknown option $1" >&2; usage ;;
        *) [[ -z "$folder" ]] || usage; folder="$1"; shift ;;
    esac
done
[[ -n "$folder" && -n "$center_san" && -n "$sync_san" ]] || usage
san_pattern='^(DNS:[A-Za-z0-9.*-]+|IP:[0-9A-Fa-f.:]+)(,(DNS:[A-Za-z0-9.*-]+|IP:[0-9A-Fa-f.:]+))*$'
for san in "$center_san" "$sync_san"; do
    [[ "$san" =~ $san_pattern ]] || { echo "make-tls.sh: '$san' is not a list of DNS:name / IP:address" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "make-tls.sh: openssl not found" >&2; exit 1; }

mkdir -p "$folder"
chmod 0700 "$folder"
cd "$folder"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key() {  # key NAME: a new RSA-2048 key in NAME.key, mode 0600
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null
    chmod 0600 "$1.key"
}

ca() {  # ca NAME SUBJECT: a self-signed CA, 10 years
    local name="$1" subject="$2"
    if [[ -e "$name.pem" || -e "$name.key" ]]; then
        [[ -e "$name.pem" && -e "$name.key" ]] || { echo "make-tls.sh: $folder/$name: .pem and .key must both exist or both be absent" >&2; exit 1; }
        echo "kept $folder/$name.pem"
        return
    fi
    key "$name"
    cat > "$work/$name.cnf" <<CNF
[req]
distinguished_name = dn
[dn]
[v3]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
    openssl req -new -x509 -key "$name.key" -subj "$subject" -days 3650 -sha256 \
        -config "$work/$name.cnf" -extensions v3 -out "$name.pem" 2>"$work/err" ||
        { cat "$work/err" >&2; rm -f "$name.key"; echo "make-tls.sh: openssl failed for $name" >&2; exit 1; }
    chmod 0644 "$name.pem"
    echo "created $folder/$name.pem (CA)"
}

leaf() {  # leaf NAME CA SUBJECT USAGE [SANS]: a certificate signed by CA
    local name="$1" issuer="$2" subject="$3" usage="$4" sans="${5:-}"
    if [[ -e "$name.pem" || -e "$name.key" ]]; then
        [[ -e "$name.pem" && -e "$name.key" ]] || { echo "make-tls.sh: $folder/$name: .pem and .key must both exist or both be absent" >&2; exit 1; }
        echo "kept $folder/$name.pem"
        return
    fi
    key "$name"
    {
        echo "basicConstraints = critical, CA:FALSE"
        echo "keyUsage = critical, digitalSignature, keyEncipherment"
        echo "extendedKeyUsage = $usage"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid"
        [[ -z "$sans" ]] || echo "subjectAltName = $sans"
    } > "$work/$name.ext"
    printf '[req]\ndistinguished_name = dn\n[dn]\n' > "$work/req.cnf"
    { openssl req -new -key "$name.key" -subj "$subject" -config "$work/req.cnf" -out "$work/$name.csr" &&
        openssl x509 -req -in "$work/$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
            -CAserial "$work/$issuer.srl" -days "$days" -sha256 -extfile "$work/$name.ext" -out "$name.pem"; } 2>"$work/err" ||
        { cat "$work/err" >&2; rm -f "$name.key" "$name.pem"; echo "make-tls.sh: openssl failed for $name" >&2; exit 1; }
    chmod 0644 "$name.pem"
    openssl verify -CAfile "$issuer.pem" -purpose "$( [[ $usage == serverAuth ]] && echo sslserver || echo sslclient )" "$name.pem" >/dev/null
    echo "created $folder/$name.pem (${usage}${sans:+, $sans}, $days days)"
}

ca server-ca "/O=kofu/CN=kofu server CA"
ca upstream-ca "/O=kofu/CN=kofu upstream client CA"
ca center-ca "/O=kofu/CN=kofu TEST center client CA (not for production)"
leaf center-server server-ca "/O=kofu/CN=kofu center listener" serverAuth "$center_san"
leaf sync-server server-ca "/O=kofu/CN=kofu sync listener" serverAuth "$sync_san"
leaf upstream-client upstream-ca "/O=kofu/CN=upstream resident registry system" clientAuth
leaf center-client center-ca "/O=kofu/CN=TEST center client" clientAuth
