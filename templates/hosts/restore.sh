#!/usr/bin/env bash
{% for line in header %}
{{ line }}
{% endfor %}
#
# restore.sh [--yes] NAME FILE [ENV]: replaces the database of NAME (an app or stack
# on host {{ host }}) with a dump made by backup.sh or the nightly backup, or one of
# its persistent volumes with an archive of it (FILE named <app>-<volume>_<date>.tar.gz,
# by backup.sh or the scheduled backup). Takes a safety backup first; for a dump,
# checks it, stops the project's other services, restores it (dropping and
# recreating what it contains; PostgreSQL's in one transaction that any error rolls
# back, MySQL's and MariaDB's table by table, with the safety backup to go back to)
# and starts them again, failed or not; for an archive, checks it, stops the app,
# replaces the folder's contents (given back to the app's user) and starts the app,
# which runs again on the old contents if the restore fails. Asks for the database's or volume's
# name as confirmation unless --yes is given.
# Exit status: 0 restored, 1 any failure, 2 bad usage.
set -euo pipefail
umask 077
{% set script = "restore" %}
{% include "hosts/common.sh" %}

yes=0
if [ "${1:-}" = "--yes" ]; then
	yes=1
	shift
fi
if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
	usage "restore.sh [--yes] NAME FILE [ENV]"
fi
dump="$2"
select_target "$1" "${3:-}"
[ -f "$dump" ] || die "no such file: $dump"

# restore_volume DIR ARCHIVE OWNER: replaces the contents of DIR with those of the
# gzip'd tar ARCHIVE, owned by OWNER (uid:gid). Extracts beside DIR first and swaps
# the folders only when that worked: on any failure DIR is as it was and the status
# is non-zero.
restore_volume() {
	local dir="${1%/}" archive="$2" owner="$3" staging old
	staging="$(mktemp -d "$dir.restore.XXXXXX")" || return 1
	if ! tar -xzf "$archive" -C "$staging" || ! chown -R "$owner" "$staging" || ! chmod --reference="$dir" "$staging"; then
		rm -rf "$staging"
		return 1
	fi
	old="$dir.old.$$"
	if ! mv "$dir" "$old"; then
		rm -rf "$staging"
		return 1
	fi
	if ! mv "$staging" "$dir"; then
		mv "$old" "$dir"
		rm -rf "$staging"
		return 1
	fi
	rm -rf "$old"
}

# volume_of FILE (NAME DIR OWNER PREFIX BACKUP_DIR)...: the volume FILE is an archive
# of (its name starts with the volume's PREFIX_ and ends with .tar.gz): prints NAME,
# DIR and OWNER on three lines, or nothing.
volume_of() {
	local file="$1"
	shift
	while [ "$#" -ge 5 ]; do
		case "$file" in
		"$4"_*.tar.gz)
			printf '%s\n' "$1" "$2" "$3"
			return 0
			;;
		esac
		shift 5
	done
}

mapfile -t volume < <(volume_of "$(basename "$dump")" "${volumes[@]}")
if [ -n "${volume[*]}" ]; then
	vol_name="${volume[0]}"
	vol_dir="${volume[1]}"
	vol_owner="${volume[2]}"
	tar -tzf "$dump" >/dev/null || die "$dump is not a whole tar.gz archive; nothing changed"
	if [ "$yes" != 1 ]; then
		read -r -p "Replace the contents of volume $vol_name of $1 ($vol_dir) with $dump? Type its name to confirm: " answer
		[ "$answer" = "$vol_name" ] || die "not confirmed; nothing changed"
	fi
	echo "restore.sh: taking a safety backup first" >&2
	"$here/backup.sh" "$1" ${3:+"$3"}
	# A jobs-only app has no service to stop (its scheduled runs are not held off).
	[ -z "$service" ] || "${compose[@]}" stop "$service"
	if ! restore_volume "$vol_dir" "$dump" "$vol_owner"; then
		[ -z "$service" ] || "${compose[@]}" up --detach --wait
		die "restoring $dump into $vol_dir failed; the folder is unchanged${service:+ and $service runs again}"
	fi
	[ -z "$service" ] || "${compose[@]}" up --detach --wait
	echo "restore.sh: volume $vol_name of $1 restored from $dump"
	exit 0
fi
[ -n "$db_service" ] || die "$1 has no database, and $dump is not an archive of one of its volumes (<app>-<volume>_<date>.tar.gz)"
if ! "${compose[@]}" exec -T "$db_service" sh -c "$db_check" <"$dump"; then
	die "$dump is not a whole dump of $db_kind (what backup.sh and the nightly backup write); nothing changed"
fi
if [ "$yes" != 1 ]; then
	read -r -p "Replace database $db_name of $project with $dump? Type its name to confirm: " answer
	[ "$answer" = "$db_name" ] || die "not confirmed; nothing changed"
fi
echo "restore.sh: taking a safety backup first" >&2
"$here/backup.sh" "$1" ${3:+"$3"}

# start_again: the EXIT trap while the other services may be stopped: starts the
# project again whatever ended the script, and keeps its exit status (1 if starting
# fails).
start_again() {
	local status=$?
	trap - EXIT
	if ! "${compose[@]}" up --detach --wait; then
		echo "restore.sh: starting $project again failed: run deploy.sh $1 once the cause is fixed" >&2
		status=1
	fi
	exit "$status"
}

mapfile -t others < <("${compose[@]}" config --services | grep -vx "$db_service" || true)
trap start_again EXIT
if [ "{% raw %}${#others[@]}{% endraw %}" -gt 0 ]; then
	"${compose[@]}" stop "${others[@]}"
fi
if ! "${compose[@]}" exec -T "$db_service" sh -c "$db_restore" sh "$db_user" "$db_name" <"$dump"; then
	if [ "$db_atomic" = 1 ]; then
		die "restoring $dump failed and was rolled back: $db_name is as it was, and the other services of $project are started again"
	fi
	die "restoring $dump failed part way: restore the safety backup above to put $db_name back as it was; the other services of $project are started again"
fi
trap - EXIT
"${compose[@]}" up --detach --wait
echo "restore.sh: $db_name of $project restored from $dump"
