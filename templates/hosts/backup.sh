#!/usr/bin/env bash
{% for line in header %}
{{ line }}
{% endfor %}
#
# backup.sh NAME [ENV]: dumps the database of NAME (an app or stack on host {{ host }})
# to a timestamped dump (in the format the nightly backup writes) under
# the project's manual-backups directory, archives each of its persistent volumes to a
# timestamped .tar.gz beside it, and prints their paths. Take one before a risky
# change; restore it with restore.sh, which drops and recreates every object the dump
# contains. A volume is archived while the app runs: stop it first for a copy no write
# can tear.
# Exit status: 0 dumped, 1 any failure, 2 bad usage.
set -euo pipefail
umask 077
{% set script = "backup" %}
{% include "hosts/common.sh" %}

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
	usage "backup.sh NAME [ENV]"
fi
select_target "$1" "${2:-}"
[ -n "$db_service" ] || [ -n "${volumes[*]}" ] || die "$1 has no database and no persistent volume"

# fresh_file PREFIX EXT: PREFIX_<UTC time>EXT, or with -2, -3... before EXT when a
# backup of the same second exists: a backup never overwrites another (restore.sh takes
# a safety backup right before it reads the file it restores, maybe in the same second).
fresh_file() {
	local stamp n=1 file
	stamp="$(date -u +%Y%m%dT%H%M%SZ)"
	file="$1_$stamp$2"
	while [ -e "$file" ] || [ -e "$file.partial" ]; do
		n=$((n + 1))
		file="$1_$stamp-$n$2"
	done
	printf '%s\n' "$file"
}

# archive_volume DIR FILE: writes the contents of DIR into the gzip'd tar FILE (a
# partial file first, so a failed run leaves nothing that looks whole).
archive_volume() {
	if ! tar -czf "$2.partial" -C "$1" .; then
		rm -f "$2.partial"
		return 1
	fi
	mv "$2.partial" "$2"
}

# archive_volumes (NAME DIR OWNER PREFIX BACKUP_DIR)...: archives each volume.
archive_volumes() {
	while [ "$#" -ge 5 ]; do
		mkdir -p "$5"
		local file
		file="$(fresh_file "$5/$4" .tar.gz)"
		archive_volume "$2" "$file" || die "archiving volume $1 ($2) failed"
		echo "$file"
		shift 5
	done
}

if [ -z "$db_service" ]; then
	archive_volumes "${volumes[@]}"
	exit 0
fi
mkdir -p "$backup_dir"
file="$(fresh_file "$backup_dir/${db_name}" ".$db_ext")"
# The password is the database container's own; it never passes through this script.
if ! "${compose[@]}" exec -T "$db_service" sh -c "$db_dump" sh "$db_user" "$db_name" >"$file.partial"; then
	rm -f "$file.partial"
	die "the dump of $db_name in $project failed"
fi
mv "$file.partial" "$file"
echo "$file"
archive_volumes "${volumes[@]}"
