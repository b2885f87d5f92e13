#!/usr/bin/env bash
# Makes the certificates of a tether cluster: one cluster CA, and for each party (the
# coordinator, every node) a directory that `tether coordinator|node --tls-dir=DIR` reads:
#
#   OUT_DIR/ca/ca.pem     the CA certificate (public: every party gets a copy)
#   OUT_DIR/ca/ca.key     the CA's private key (SECRET: stays on the machine that signs)
#   OUT_DIR/NAME/ca.pem   copy of the CA certificate
#   OUT_DIR/NAME/cert.pem NAME's certificate, CN=NAME, signed by the CA, usable as TLS server
#                         and client (extendedKeyUsage serverAuth,clientAuth): every party is both
#   OUT_DIR/NAME/key.pem  NAME's private key, unencrypted, mode 0600 (SECRET: only on NAME's machine)
#
# Keys are EC P-256; certificates are valid 825 days. An existing CA in OUT_DIR/ca is reused,
# so a node added later is trusted by the running cluster. An existing NAME directory is left
# alone (the run fails) unless --force is given. Needs only the openssl command line tool.
#
# Usage: deploy/make-certs.sh [--force] OUT_DIR NAME...
#   e.g. deploy/make-certs.sh tls coordinator node1 node2
# Exit status: 0 when every NAME was made; 1 on an error (a NAME directory is either complete or
# absent; NAMEs made before the error and a new CA stay); 2 on a usage error.
set -euo pipefail

days=825
prog=make-certs

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}
die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $*; see $0 --help" >&2; exit 2; }

force=0
args=()
options_done=0
for arg in "$@"; do
  case "$options_done:$arg" in
    0:-h | 0:--help) usage; exit 0 ;;
    0:--force) force=1 ;;
    0:--) options_done=1 ;;
    0:-*) usage_error "unknown option $arg" ;;
    *) args+=("$arg") ;;
  esac
done
[ ${#args[@]} -ge 2 ] || usage_error "expected OUT_DIR and at least one NAME"
out_dir=${args[0]}
names=("${args[@]:1}")

command -v openssl >/dev/null ||
  die "the openssl command line tool is missing; install it with: apt-get install openssl"

for name in "${names[@]}"; do
  # NAME becomes a directory name and a certificate's CN: keep it to a safe alphabet.
  [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
    usage_error "NAME '$name': use letters, digits, '.', '_' and '-' (not first)"
  [ "$name" != ca ] || usage_error "NAME 'ca' is taken by the CA's own directory"
  if [ -e "$out_dir/$name" ] && [ "$force" = 0 ]; then
    die "$out_dir/$name exists; remove it or pass --force to replace it"
  fi
done

# Everything made here is private until it is copied out: keys 0600, directories 0700.
umask 077
mkdir -p "$out_dir"
# Work in a scratch directory inside OUT_DIR (same file system, so the final mv is atomic);
# removed on any exit, so a failed run leaves no half-made NAME directory.
scratch=$(mktemp -d "$out_dir/.make-certs.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# openssl is chatty on success; show what it said only when it fails.
run_openssl() {
  if ! openssl "$@" >"$scratch/openssl.log" 2>&1; then
    cat "$scratch/openssl.log" >&2
    die "openssl $1 failed (its output is above)"
  fi
}

new_key() { run_openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# Random 128-bit serial: certificates of CAs made by separate runs never share one.
new_serial() { echo "0x$(openssl rand -hex 16)"; }

public_key_of_cert() { openssl x509 -in "$1" -noout -pubkey; }
public_key_of_key() { openssl pkey -in "$1" -pubout; }

ca_dir=$out_dir/ca
if [ -f "$ca_dir/ca.pem" ] && [ -f "$ca_dir/ca.key" ]; then
  openssl x509 -in "$ca_dir/ca.pem" -noout -checkend 86400 >/dev/null ||
    die "the CA in $ca_dir expires within a day (or has); move $ca_dir away and make all certificates anew"
  [ "$(public_key_of_cert "$ca_dir/ca.pem")" = "$(public_key_of_key "$ca_dir/ca.key")" ] ||
    die "$ca_dir/ca.pem and $ca_dir/ca.key do not belong together; restore the pair or move $ca_dir away"
  echo "$prog: reusing the CA in $ca_dir ($(openssl x509 -in "$ca_dir/ca.pem" -noout -enddate))"
elif [ -e "$ca_dir/ca.pem" ] || [ -e "$ca_dir/ca.key" ]; then
  die "$ca_dir holds only one of ca.pem and ca.key; restore the other or move $ca_dir away"
else
  mkdir -p "$scratch/ca"
  new_key "$scratch/ca/ca.key"
  run_openssl req -new -x509 -days "$days" -key "$scratch/ca/ca.key" \
    -out "$scratch/ca/ca.pem" -subj "/CN=tether cluster CA" -set_serial "$(new_serial)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
  chmod 0644 "$scratch/ca/ca.pem"
  mkdir -p "$ca_dir"
  mv "$scratch/ca/ca.key" "$scratch/ca/ca.pem" "$ca_dir/"
  echo "$prog: made a new CA in $ca_dir (valid $days days)"
fi

cat >"$scratch/party.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

for name in "${names[@]}"; do
  dir=$scratch/$name
  mkdir "$dir"
  new_key "$dir/key.pem"
  run_openssl req -new -key "$dir/key.pem" -subj "/CN=$name" -out "$scratch/$name.csr"
  run_openssl x509 -req -in "$scratch/$name.csr" -CA "$ca_dir/ca.pem" -CAkey "$ca_dir/ca.key" \
    -set_serial "$(new_serial)" -days "$days" -extfile "$scratch/party.ext" -out "$dir/cert.pem"
  cp "$ca_dir/ca.pem" "$dir/ca.pem"
  chmod 0600 "$dir/key.pem"
  chmod 0644 "$dir/cert.pem" "$dir/ca.pem"
  chmod 0700 "$dir"
  run_openssl verify -purpose sslserver -CAfile "$dir/ca.pem" "$dir/cert.pem"
  run_openssl verify -purpose sslclient -CAfile "$dir/ca.pem" "$dir/cert.pem"
  if [ -e "$out_dir/$name" ]; then # only with --force (checked above)
    rm -rf "${out_dir:?}/$name"
  fi
  mv "$dir" "$out_dir/$name"
  echo "$prog: made $out_dir/$name (CN=$name): copy it to $name's machine; key.pem is secret"
done
