#!/usr/bin/env bash
{% for line in header %}
{{ line }}
{% endfor %}
#
# restore.sh [--yes] NAME FILE [ENV]: replaces the database of NAME (an app or stack
# on host {{ host }}) with a dump made by backup.sh. Takes a safety backup first, stops
# the project's other services, restores, and starts them again. Asks for the
# database's name as confirmation unless --yes is given.
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
[ -n "$db_service" ] || die "$1 has no database"
[ -f "$dump" ] || die "no such file: $dump"
if [ "$yes" != 1 ]; then
	read -r -p "Replace database $db_name of $project with $dump? Type its name to confirm: " answer
	[ "$answer" = "$db_name" ] || die "not confirmed; nothing changed"
fi
echo "restore.sh: taking a safety backup first" >&2
"$here/backup.sh" "$1" ${3:+"$3"}
mapfile -t others < <("${compose[@]}" config --services | grep -vx "$db_service" || true)
if [ "{% raw %}${#others[@]}{% endraw %}" -gt 0 ]; then
	"${compose[@]}" stop "${others[@]}"
fi
# shellcheck disable=SC2016 # expanded by the shell inside the container
if ! "${compose[@]}" exec -T "$db_service" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec psql --quiet -v ON_ERROR_STOP=1 -h 127.0.0.1 -U "$1" -d "$2"' sh "$db_user" "$db_name" <"$dump"; then
	die "restoring $dump failed; the other services of $project are stopped: restore the safety backup above, then run deploy.sh $1"
fi
"${compose[@]}" up --detach --wait
echo "restore.sh: $db_name of $project restored from $dump"
