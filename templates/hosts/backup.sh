#!/usr/bin/env bash
{% for line in header %}
{{ line }}
{% endfor %}
#
# backup.sh NAME [ENV]: dumps the database of NAME (an app or stack on host {{ host }})
# to a timestamped SQL file under the project's manual-backups directory, and prints
# its path. Take one before a risky change; restore it with restore.sh.
# The dump drops and recreates every object it contains when restored.
# Exit status: 0 dumped, 1 any failure, 2 bad usage.
set -euo pipefail
umask 077
{% set script = "backup" %}
{% include "hosts/common.sh" %}

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
	usage "backup.sh NAME [ENV]"
fi
select_target "$1" "${2:-}"
[ -n "$db_service" ] || die "$1 has no database"
mkdir -p "$backup_dir"
file="$backup_dir/${db_name}_$(date -u +%Y%m%dT%H%M%SZ).sql"
# The password is the database container's own; it never passes through this script.
# shellcheck disable=SC2016 # expanded by the shell inside the container
if ! "${compose[@]}" exec -T "$db_service" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec pg_dump --clean --if-exists -h 127.0.0.1 -U "$1" -d "$2"' sh "$db_user" "$db_name" >"$file.partial"; then
	rm -f "$file.partial"
	die "pg_dump of $db_name in $project failed"
fi
mv "$file.partial" "$file"
echo "$file"
