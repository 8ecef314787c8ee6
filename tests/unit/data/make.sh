#!/bin/sh
# make.sh -- regenerates the certificate fixtures of the C unit tests
# (tests/unit/test_x509.c, tests/unit/test_anchor.c).  Needs the openssl CLI
# (written against OpenSSL 3.0).  Run from anywhere:
#
#   sh tests/unit/data/make.sh
#
# Keys are fresh on every run, so key identifiers, moduli and signatures change;
# subjects, serial numbers, validity dates, algorithms and SANs do not (the
# tests assert only those, plus relations such as AKI == issuer's SKI).
# Private keys are generated in a temporary directory and thrown away.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# --- a throw-away `openssl ca` set-up, so validity dates can be fixed ------------
: > index.txt
cat > ca.cnf <<CNF
[ ca ]
default_ca = tf
[ tf ]
dir = $work
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
policy = keep_all
unique_subject = no
email_in_dn = yes
copy_extensions = none
default_md = sha256
[ keep_all ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
emailAddress = optional
[ req ]
distinguished_name = req_dn
string_mask = utf8only
[ req_dn ]
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_decoy_nokid ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:leaf.tlsfit.test, IP:192.0.2.7, DNS:*.leaf.tlsfit.test, email:ops@tlsfit.test, URI:https://tlsfit.test/, DNS:www.tlsfit.test
[ v3_self ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
[ v3_names ]
basicConstraints = CA:FALSE
CNF

key() { # key NAME genpkey-arguments...
    name=$1; shift
    openssl genpkey -quiet "$@" -out "$name.key" 2>/dev/null || openssl genpkey "$@" -out "$name.key"
}

# issue NAME KEY SUBJECT SERIAL START END EXTENSIONS SIGNER_CERT|self SIGNER_KEY [extra ca args...]
issue() {
    name=$1 k=$2 subj=$3 serial=$4 start=$5 end=$6 ext=$7 signer=$8 signkey=$9
    shift 9
    openssl req -new -key "$k.key" -subj "$subj" -config ca.cnf -out "$name.csr"
    echo "$serial" > serial
    if [ "$signer" = self ]; then
        set -- -selfsign -keyfile "$k.key" "$@"
    else
        set -- -cert "$signer.crt" -keyfile "$signkey.key" "$@"
    fi
    openssl ca -batch -config ca.cnf -notext -preserveDN -in "$name.csr" -out "$name.crt" \
        -startdate "$start" -enddate "$end" -extensions "$ext" "$@" 2>ca.log || { cat ca.log; exit 1; }
    openssl x509 -in "$name.crt" -outform DER -out "$here/$name.der"
}

# --- keys ---------------------------------------------------------------------
key rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
key rsa4096 -algorithm RSA -pkeyopt rsa_keygen_bits:4096
key ec256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key ec384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
key ec521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521
key brainpool -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1
key ed25519 -algorithm ED25519
key ed448 -algorithm ED448
key x25519 -algorithm X25519
key x448 -algorithm X448
key rsapss -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_pss_keygen_md:sha384 \
    -pkeyopt rsa_pss_keygen_mgf1_md:sha384 -pkeyopt rsa_pss_keygen_saltlen:48
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param 2>/dev/null
key dsa -paramfile dsa.param
key root -algorithm EC -pkeyopt ec_paramgen_curve:P-384
key inter -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key leaf -algorithm RSA -pkeyopt rsa_keygen_bits:2048
key decoy1 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key decoy2 -algorithm EC -pkeyopt ec_paramgen_curve:P-256

# --- one self-signed certificate per key / signature algorithm ----------------
issue rsa2048 rsa2048 "/C=FR/ST=Ile-de-France/L=Paris/O=tlsfit/OU=Unit Tests/CN=rsa2048.tlsfit.test/emailAddress=ops@tlsfit.test" \
    1001 250101000000Z 350101000000Z v3_self self - -md sha256
issue rsa4096 rsa4096 "/C=FR/O=tlsfit/CN=rsa4096.tlsfit.test" 1002 250102030405Z 350102030405Z v3_self self - -md sha384
issue ec256 ec256 "/C=FR/O=tlsfit/CN=ec256.tlsfit.test" 1003 250101000000Z 350101000000Z v3_self self - -md sha256
issue ec384 ec384 "/C=FR/O=tlsfit/CN=ec384.tlsfit.test" 1004 250101000000Z 350101000000Z v3_self self - -md sha384
issue ec521 ec521 "/C=FR/O=tlsfit/CN=ec521.tlsfit.test" 1005 250101000000Z 350101000000Z v3_self self - -md sha512
issue brainpool brainpool "/C=FR/O=tlsfit/CN=brainpool.tlsfit.test" 1006 250101000000Z 350101000000Z v3_self self - -md sha256
issue ed25519 ed25519 "/C=FR/O=tlsfit/CN=ed25519.tlsfit.test" 1007 250101000000Z 350101000000Z v3_self self -
issue ed448 ed448 "/C=FR/O=tlsfit/CN=ed448.tlsfit.test" 1008 250101000000Z 350101000000Z v3_self self -
issue rsapss rsapss "/C=FR/O=tlsfit/CN=rsapss.tlsfit.test" 1009 250101000000Z 350101000000Z v3_self self - \
    -md sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48
issue sha1 rsa2048 "/C=FR/O=tlsfit/CN=sha1.tlsfit.test" 100a 250101000000Z 350101000000Z v3_self self - -md sha1
issue dsa dsa "/C=FR/O=tlsfit/CN=dsa.tlsfit.test" 100b 250101000000Z 350101000000Z v3_self self - -md sha256

# --- a chain: root (P-384) -> intermediate (P-256) -> leaf (RSA-2048, SANs) ---
issue root root "/C=FR/O=tlsfit/CN=tlsfit Test Root" 01 250101000000Z 450101000000Z v3_root self - -md sha384
issue inter inter "/C=FR/O=tlsfit/CN=tlsfit Test Intermediate" 02 250101000000Z 400101000000Z v3_inter root root -md sha384
issue leaf leaf "/C=FR/O=tlsfit/CN=leaf.tlsfit.test" 00c0ffee0123456789 250601123456Z 20510101000000Z v3_leaf inter inter -md sha256

# Two decoys with the root's exact name but other keys: one without key
# identifiers (matches the intermediate by name only), one whose SKI differs.
issue decoy_nokid decoy1 "/C=FR/O=tlsfit/CN=tlsfit Test Root" 03 250101000000Z 450101000000Z v3_decoy_nokid self - -md sha256
issue decoy_kid decoy2 "/C=FR/O=tlsfit/CN=tlsfit Test Root" 04 250101000000Z 450101000000Z v3_root self - -md sha256

# --- X25519 / X448 public keys (cannot self-sign): certified by the root ------
for x in x25519 x448; do
    openssl pkey -in "$x.key" -pubout -out "$x.pub"
    openssl req -new -key ec256.key -subj "/C=FR/O=tlsfit/CN=$x.tlsfit.test" -config ca.cnf -out "$x.csr"
    openssl x509 -req -in "$x.csr" -CA root.crt -CAkey root.key -force_pubkey "$x.pub" \
        -set_serial 0x2001 -days 3650 -sha384 -out "$x.crt" 2>/dev/null
    openssl x509 -in "$x.crt" -outform DER -out "$here/$x.der"
done

# --- names in every string type: T61String, BMPString, multi-valued RDN, DC,
#     serialNumber, and an attribute type without a name (1.2.3.4) ------------
{
    echo "oid_section = new_oids"
    sed 's/^string_mask = utf8only$/string_mask = default/' ca.cnf
    printf '[ new_oids ]\ntfOpaque = 1.2.3.4\n'
} > names.cnf
openssl req -x509 -new -key ec256.key -config names.cnf -utf8 -multivalue-rdn -set_serial 0x3001 -days 3650 \
    -extensions v3_names -sha256 -out names.crt \
    -subj '/DC=test/DC=tlsfit/O=tlsfit+OU=Names/serialNumber=42/tfOpaque=opaque/L=Montréal/ST=Ωmega/CN=a,b\+c "q"'
openssl x509 -in names.crt -outform DER -out "$here/names.der"

# --- PEM bundles for tf_pem_each / tf_anchor_find -----------------------------
{
    echo "# tlsfit test bundle: decoys first, the real root last"
    cat decoy_nokid.crt
    echo
    echo "some text that is not PEM"
    cat rsa2048.crt ec256.crt decoy_kid.crt
    echo "# the real root:"
    cat root.crt
} > "$here/bundle.pem"
cat rsa4096.crt ec384.crt > "$here/others.pem"
cat leaf.crt inter.crt root.crt > "$here/chain.pem"
cat decoy_nokid.crt > "$here/weak.pem"
{
    echo "garbage before"
    cat ec256.crt
    printf '\001\002 binary junk \377\n'
    echo "-----BEGIN CERTIFICATE-----"
    echo "this is not base64 !!!"
    echo "-----END CERTIFICATE-----"
    echo "-----BEGIN CERTIFICATE-----"
    echo "TWFu"
    echo "-----END CERTIFICATE-----"
    echo "-----BEGIN CERTIFICATE-----"
    echo "an unterminated block, followed by a good one"
    cat ed25519.crt
    echo "garbage after"
    echo "-----BEGIN CERTIFICATE-----"
    echo "MIIB"
} > "$here/garbage.pem"
: > "$here/empty.pem"
echo "fixtures written to $here"
