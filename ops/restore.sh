#!/usr/bin/env bash
# Restore a backup made by ops/backup.sh into an EMPTY database, then verify the audit chains.
#
#   Usage: ops/restore.sh BACKUP_DIR TARGET_DATABASE_URL [TARGET_MEDIA_ROOT]
#
# Checks SHA256SUMS first. The target database is created when missing; a database that already
# holds tables is refused (restore into a fresh one, then switch DATABASE_URL over). The restore
# runs in one transaction: if it fails, the target stays empty. The media go to
# TARGET_MEDIA_ROOT, else $MEDIA_ROOT, else Django's settings.MEDIA_ROOT. Finally
# `manage.py verify_audit` runs against the target; the script fails if it does.
# Exit codes: 1 usage/tools/restore error, 2 damaged or incomplete backup, 3 target not empty,
# 4 verify_audit failed on the restored database.
set -euo pipefail

die() { code="$1"; shift; echo "restore: $*" >&2; exit "$code"; }

usage="usage: ops/restore.sh BACKUP_DIR TARGET_DATABASE_URL [TARGET_MEDIA_ROOT]"
[ $# -ge 2 ] && [ $# -le 3 ] || die 1 "$usage"
for tool in psql pg_restore tar sha256sum; do
  command -v "$tool" >/dev/null || die 1 "$tool is not on PATH"
done
[ -d "$1" ] || die 2 "no backup folder at $1"
src="$(cd "$1" && pwd)"
target="$2"
media_arg="${3:-${MEDIA_ROOT:-}}"
if [ -n "$media_arg" ]; then
  media="$(realpath -m "$media_arg")"
fi

case "$target" in
  postgres://* | postgresql://*) ;;
  *) die 1 "TARGET_DATABASE_URL must be a PostgreSQL URL (postgres://...)" ;;
esac
base="${target%%\?*}"                                       # without ?options
query="${target#"$base"}"                                   # ?options or empty
name="${base##*/}"
[[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_-]*$ ]] ||
  die 1 "cannot read a plain database name from TARGET_DATABASE_URL (got '$name')"
server="${base%/*}/postgres${query}"                        # same server, maintenance database

echo "== checking $src/SHA256SUMS"
[ -f "$src/SHA256SUMS" ] ||
  die 2 "$src has no SHA256SUMS: not a complete backup (did ops/backup.sh finish?); nothing restored"
for f in db.dump media.tar.gz; do
  grep -qE "^[0-9a-f]{64}  $f\$" "$src/SHA256SUMS" ||
    die 2 "$src/SHA256SUMS does not list $f; nothing restored"
done
(cd "$src" && sha256sum --check --quiet --strict SHA256SUMS) ||
  die 2 "the backup in $src is damaged (checksum mismatch); nothing restored"

exists="$(psql "$server" -XtAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ||
  die 1 "cannot reach the PostgreSQL server of the target ($(sed -E 's#//[^@/]*@#//#' <<<"$server"))"
if [ "$exists" != "1" ]; then
  echo "== creating database $name"
  psql "$server" -Xqc "CREATE DATABASE \"$name\""
fi
tables="$(psql "$target" -XtAc \
  "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
if [ "$tables" != "0" ]; then
  die 3 "database $name is not empty ($tables tables); refusing to restore over it." \
    "Restore into a new database and switch DATABASE_URL over; nothing was changed"
fi

echo "== restoring the database into $name"
pg_restore --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$target" "$src/db.dump" ||
  die 1 "pg_restore failed; the transaction was rolled back and $name is still empty"

cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
if [ -z "$media_arg" ]; then
  media="$(DATABASE_URL="$target" "$python" manage.py shell --no-imports -c \
    "from django.conf import settings; print(settings.MEDIA_ROOT)" | tail -n 1)" ||
    die 1 "could not ask Django for MEDIA_ROOT; pass TARGET_MEDIA_ROOT (database $name is restored)"
fi
echo "== restoring media into $media"
mkdir -p "$media"
if [ -n "$(ls -A "$media")" ]; then
  echo "   (the folder is not empty: files from the backup are added, same names replaced)"
fi
tar -C "$media" -xzf "$src/media.tar.gz"

echo "== verifying the audit chains (manage.py verify_audit)"
DATABASE_URL="$target" MEDIA_ROOT="$media" "$python" manage.py verify_audit ||
  die 4 "verify_audit FAILED on the restored database $name: do not switch over to it"
echo "== restored: database $name, media in $media"
