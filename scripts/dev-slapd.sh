#!/usr/bin/env bash
# A throwaway OpenLDAP server for trying the LDAP source locally (docs/ldap.md, "Try it locally").
# Seeds test/fixtures/ldap/directory.ldif (alice, bob, carol, dave; Sales, Ops, Ops Oncall, engineers)
# plus one service account managed by alice, listens on 127.0.0.1:${PORT:-3890}, runs in the foreground,
# and deletes everything when stopped (Ctrl-C). Needs Debian's slapd and ldap-utils (apt-get install slapd ldap-utils).
set -euo pipefail

PORT="${PORT:-3890}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SLAPD="$(command -v slapd || echo /usr/sbin/slapd)"
SLAPADD="$(command -v slapadd || echo /usr/sbin/slapadd)"
SUFFIX='dc=example,dc=org'
READER_PASSWORD='reader-secret-0123456789'
DIR="$(mktemp -d "${TMPDIR:-/tmp}/tether-dev-slapd.XXXXXX")"
trap 'rm -rf "$DIR"' EXIT
mkdir "$DIR/db"

cat >"$DIR/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload refint
pidfile $DIR/slapd.pid
argsfile $DIR/slapd.args

database mdb
maxsize 104857600
suffix "$SUFFIX"
rootdn "cn=admin,$SUFFIX"
rootpw admin-secret
directory $DIR/db
index objectClass eq
index entryUUID eq
limits dn.exact="cn=reader,$SUFFIX" size.soft=unlimited size.hard=unlimited size.prtotal=unlimited
access to attrs=userPassword by anonymous auth by * none
access to * by * read
overlay ppolicy
overlay refint
refint_attributes member uniqueMember manager
EOF

{
  cat <<EOF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: cn=reader,$SUFFIX
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: $READER_PASSWORD

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

dn: ou=services,$SUFFIX
objectClass: organizationalUnit
ou: services

dn: uid=svc-reports,ou=services,$SUFFIX
objectClass: inetOrgPerson
uid: svc-reports
cn: svc-reports
sn: service
description: Builds the weekly sales report
manager: uid=alice,ou=people,$SUFFIX

EOF
  cat "$ROOT/test/fixtures/ldap/directory.ldif"
} >"$DIR/seed.ldif"

"$SLAPADD" -q -f "$DIR/slapd.conf" -l "$DIR/seed.ldif"

cat <<EOF
slapd on ldap://127.0.0.1:$PORT (data in $DIR, removed on exit). In tether.example.yaml, uncomment the
corp-ldap source (it matches this server), then in another shell:

  export LDAP_BIND_PASSWORD=$READER_PASSWORD
  npm run build && npm start

Change the directory as the admin, e.g. take alice out of Sales:

  ldapmodify -x -H ldap://127.0.0.1:$PORT -D cn=admin,$SUFFIX -w admin-secret <<'LDIF'
  dn: cn=Sales,ou=groups,$SUFFIX
  changetype: modify
  add: member
  member: uid=bob,ou=people,$SUFFIX
  -
  delete: member
  member: uid=alice,ou=people,$SUFFIX
  LDIF

Ctrl-C stops slapd.
EOF

"$SLAPD" -d 0 -f "$DIR/slapd.conf" -h "ldap://127.0.0.1:$PORT"
