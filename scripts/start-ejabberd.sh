#!/bin/bash
# Starts a private ejabberd for the XMPPLink interop test, on 127.0.0.1 only, state and logs in DIR.
# Usage: scripts/start-ejabberd.sh DIR C2S_PORT COMPONENT_PORT ERL_DIST_PORT [--tls]
# No epmd (fixed Erlang distribution port). Users alice/alicepw and bob/bobpw are registered; component
# jingle.localhost has secret "compsecret". --tls adds STARTTLS with a self-signed certificate
# (DIR/certs/localhost.crt, usable as a trust root).
# As root, ejabberdctl switches to the 'ejabberd' user, so DIR is handed to it.
# EJABBERD_DOMAIN_BALANCING=TYPE:N (e.g. source:2) lets N component connections share jingle.localhost:
# ejabberd's domain_balancing picks one of them per stanza by hashing TYPE (source, destination,
# bare_source, bare_destination or random) — how several gateway instances scale out.
# EJABBERD_SCRAM_HASH=sha|sha256|sha512 stores passwords as SCRAM with that hash, so ejabberd offers only
# the matching SCRAM mechanism (as servers configured that way do).
# Prints the ejabberdctl command prefix. Stop: scripts/stop-ejabberd.sh DIR
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 DIR C2S_PORT COMPONENT_PORT ERL_DIST_PORT [--tls]" >&2; exit 2; }
command -v ejabberdctl >/dev/null || { echo "ejabberd is not installed (apt-get install ejabberd)" >&2; exit 1; }
DIR=$(realpath -m "$1"); C2S=$2; COMP=$3; DIST=$4; TLS=${5:-}
mkdir -p "$DIR/db" "$DIR/logs" "$DIR/certs"
CERTS="[]"; STARTTLS=false
PASSWORD_FORMAT=plain
if [ -n "${EJABBERD_SCRAM_HASH:-}" ]; then
  case "$EJABBERD_SCRAM_HASH" in sha|sha256|sha512) ;; *) echo "EJABBERD_SCRAM_HASH: sha, sha256 or sha512" >&2; exit 2;; esac
  PASSWORD_FORMAT="scram
auth_scram_hash: $EJABBERD_SCRAM_HASH"
fi
if [ "$TLS" = "--tls" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,DNS:*.localhost,IP:127.0.0.1" \
    -keyout "$DIR/certs/localhost.key" -out "$DIR/certs/localhost.crt" 2>/dev/null
  cat "$DIR/certs/localhost.crt" "$DIR/certs/localhost.key" > "$DIR/certs/localhost.pem"
  CERTS="[\"$DIR/certs/localhost.pem\"]"; STARTTLS=true
fi
cat > "$DIR/ejabberd.yml" <<CFG
hosts: [localhost]
loglevel: info
certfiles: $CERTS
auth_method: internal
auth_password_format: $PASSWORD_FORMAT
listen:
  - port: $C2S
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: $STARTTLS
    access: c2s
  - port: $COMP
    ip: "127.0.0.1"
    module: ejabberd_service
    hosts:
      "jingle.localhost":
        password: "compsecret"
acl:
  local: {user_regexp: ""}
access_rules:
  local: {allow: local}
  c2s: {allow: all}
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_stream_mgmt: {resume_timeout: 10}
  mod_stun_disco:
    secret: "turnsecret"
    services:
      - {host: 127.0.0.1, port: 13478, type: stun, transport: udp, restricted: false}
      - {host: 127.0.0.1, port: 13478, type: turn, transport: udp, restricted: true}
CFG
if [ -n "${EJABBERD_DOMAIN_BALANCING:-}" ]; then
  TYPE=${EJABBERD_DOMAIN_BALANCING%%:*}; COUNT=${EJABBERD_DOMAIN_BALANCING##*:}
  cat >> "$DIR/ejabberd.yml" <<CFG
domain_balancing:
  "jingle.localhost":
    type: $TYPE
    component_number: $COUNT
CFG
fi
cat > "$DIR/ejabberdctl.cfg" <<CFG
ERLANG_NODE=ejtest$DIST@localhost
ERL_DIST_PORT=$DIST
INET_DIST_INTERFACE=127.0.0.1
CFG
touch "$DIR/inetrc"
if [ "$(id -u)" = 0 ] && id ejabberd >/dev/null 2>&1; then chown -R ejabberd: "$DIR"; fi
CTL="ejabberdctl --config-dir $DIR --spool $DIR/db --logs $DIR/logs"
$CTL start >/dev/null
$CTL started >/dev/null            # blocks until the node is up
for u in alice bob; do $CTL register $u localhost ${u}pw >/dev/null; done
echo "$CTL"
