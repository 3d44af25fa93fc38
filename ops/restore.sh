#!/usr/bin/env bash
# Restore a backup made by ops/backup.sh into an EMPTY database, then verify the audit chains.
# Usage: ops/restore.sh BACKUP_DIR TARGET_DATABASE_URL [TARGET_MEDIA_ROOT]
# The target database is created when missing; a database that already holds tables is refused
# (restore into a fresh one and switch DATABASE_URL over).
set -euo pipefail
src="${1:?usage: ops/restore.sh BACKUP_DIR TARGET_DATABASE_URL [TARGET_MEDIA_ROOT]}"
target="${2:?usage: ops/restore.sh BACKUP_DIR TARGET_DATABASE_URL [TARGET_MEDIA_ROOT]}"
cd "$(dirname "$0")/.."
media="${3:-${MEDIA_ROOT:-var/media}}"
python="${PYTHON:-.venv/bin/python}"

echo "== checking $src/SHA256SUMS"
(cd "$src" && sha256sum --check --quiet SHA256SUMS) || {
  echo "restore: the backup in $src is damaged (checksum mismatch); nothing restored" >&2; exit 2; }

name="${target##*/}"; name="${name%%\?*}"
server="${target%/*}/postgres"
if [ "$(psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != "1" ]; then
  echo "== creating database $name"
  psql "$server" -qc "CREATE DATABASE \"$name\""
fi
tables="$(psql "$target" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
if [ "$tables" != "0" ]; then
  echo "restore: database $name is not empty ($tables tables); restore into a new database" >&2
  exit 3
fi
echo "== restoring the database into $name"
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$target" "$src/db.dump"
echo "== restoring media into $media"
mkdir -p "$media"
tar -C "$media" -xzf "$src/media.tar.gz"
echo "== verifying the audit chains"
DATABASE_URL="$target" MEDIA_ROOT="$media" "$python" manage.py verify_audit
echo "== restored: $name, media in $media"
