#!/usr/bin/env bash
# Back up Credit Workflow: the PostgreSQL database (pg_dump, custom format) and the media folder
# (evidence files), with checksums.   Usage: ops/backup.sh OUT_DIR
# Reads DATABASE_URL (postgres://user@host:port/name) and MEDIA_ROOT (default: var/media).
# The database dump is consistent by itself; take it first, then the media: an evidence file
# written between the two is an orphan that the sweep removes, never a row without its file.
set -euo pipefail
out="${1:?usage: ops/backup.sh OUT_DIR}"
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
cd "$(dirname "$0")/.."
media="${MEDIA_ROOT:-var/media}"
mkdir -p "$out"
echo "== database -> $out/db.dump"
pg_dump --format=custom --no-owner --no-privileges --file="$out/db.dump" "$DATABASE_URL"
echo "== media ($media) -> $out/media.tar.gz"
if [ -d "$media" ]; then
  tar -C "$media" -czf "$out/media.tar.gz" .
else
  tar -czf "$out/media.tar.gz" --files-from /dev/null
fi
(cd "$out" && sha256sum db.dump media.tar.gz > SHA256SUMS)
echo "== done: $(du -sh "$out" | cut -f1) in $out"
