#!/usr/bin/env bash
# Back up Credit Workflow: the PostgreSQL database (pg_dump, custom format) and the media folder
# (evidence files), with checksums.
#
#   Usage: ops/backup.sh OUT_DIR
#
# Reads DATABASE_URL (postgres://user[:password]@host:port/name) and MEDIA_ROOT; without
# MEDIA_ROOT it asks Django (settings.MEDIA_ROOT, with the environment as it is). Writes
# OUT_DIR/db.dump, OUT_DIR/media.tar.gz and, last, OUT_DIR/SHA256SUMS: a backup without
# SHA256SUMS is incomplete and ops/restore.sh refuses it.
# The database dump is consistent by itself; take it first, then the media: an evidence file
# written between the two is an orphan that the sweep removes, never a row without its file.
set -euo pipefail

die() { echo "backup: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: ops/backup.sh OUT_DIR"
for tool in pg_dump tar sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[ -n "${DATABASE_URL:-}" ] || die "set DATABASE_URL to the PostgreSQL database to back up"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) die "DATABASE_URL must be a PostgreSQL URL (postgres://...), not '${DATABASE_URL%%:*}:'" ;;
esac

mkdir -p "$1"
out="$(cd "$1" && pwd)"  # absolute, relative to where the script was called from
media_env="${MEDIA_ROOT:-}"
if [ -n "$media_env" ]; then
  media="$(realpath -m "$media_env")"
fi
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
if [ -z "$media_env" ]; then
  media="$("$python" manage.py shell --no-imports -c \
    "from django.conf import settings; print(settings.MEDIA_ROOT)" | tail -n 1)" ||
    die "could not ask Django for MEDIA_ROOT; set MEDIA_ROOT"
  [ -n "$media" ] || die "Django reported an empty MEDIA_ROOT; set MEDIA_ROOT"
fi

rm -f "$out/SHA256SUMS"  # until the end, the folder does not hold a complete backup
echo "== database -> $out/db.dump"
pg_dump --format=custom --no-owner --no-privileges --file="$out/db.dump" "$DATABASE_URL" ||
  die "pg_dump failed; no backup was written"
echo "== media ($media) -> $out/media.tar.gz"
if [ -d "$media" ]; then
  tar -C "$media" -czf "$out/media.tar.gz" .
else
  echo "   (no media folder at $media: an empty archive is written)"
  tar -czf "$out/media.tar.gz" --files-from /dev/null
fi
(cd "$out" && sha256sum db.dump media.tar.gz > SHA256SUMS)
echo "== done: $(du -sh "$out" | cut -f1) in $out"
