here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

list_targets() {
	echo "names on host {{ host }}:"
{% for p in projects %}
{% for m in p.members %}
	echo {{ ("  " ~ m.name ~ (" " ~ m.env if m.env else "") ~ "  (compose project " ~ p.name ~ ")") | shell_quote }}
{% endfor %}
{% endfor %}
}

usage() {
	echo "usage: $1" >&2
	list_targets >&2
	exit 2
}
{% if script == "deploy" %}

require_file() {
	[ -f "$1" ] || die "missing $1: fill in a copy of $here/$2 (it says where every value comes from)"
}

require_secret() {
	if ! grep -Eq "^$3=.+" "$1" || grep -Eq "^$3=(''|\"\")[[:space:]]*$" "$1"; then
		die "$1: $3 is missing or empty (see $here/$2)"
	fi
}

# Refuses an env file compose would read differently from how it is written: its
# dotenv parser cuts unquoted values at " #", trims them and expands $ in them and in
# "..." values; '...' values are taken as written (\' is a quote). Says which line and
# variable, never the value.
check_env_file() {
	awk -v file="$1" -v template="$here/$2" '
	function fail(line, msg) {
		printf "%s: line %d: %s (see %s)\n", file, line, msg, template > "/dev/stderr"
		bad = 1
	}
	# The position of the quote q that closes a value in s from position i on, or 0;
	# an unescaped $ inside double quotes sets dollar.
	function scan(s, i, q,    c) {
		for (; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (esc) { esc = 0; continue }
			if (c == "\\") { esc = 1; continue }
			if (c == q) return i
			if (c == "$" && q == "\"") dollar = 1
		}
		return 0
	}
	function closed(s, end,    rest) {
		if (dollar)
			fail(start, name ": compose would expand the $ in this double-quoted value: write it as \\$, or single-quote the value")
		rest = substr(s, end + 1)
		sub(/^[ \t\r]*/, "", rest)
		if (rest != "" && substr(rest, 1, 1) != "#")
			fail(NR, name ": text after the closing quote")
		open = ""
	}
	{
		if (open != "") {
			# The line break is part of the value (or what an escape at the end took).
			esc = 0
			end = scan($0, 1, open)
			if (end) closed($0, end)
			next
		}
		if ($0 ~ /^[ \t\r]*$/ || $0 ~ /^[ \t]*#/) next
		if (!match($0, /^[A-Za-z_][A-Za-z0-9_]*=/)) {
			fail(NR, "not NAME=value (the name at the start of the line, no space around =)")
			next
		}
		name = substr($0, 1, RLENGTH - 1)
		v = substr($0, RLENGTH + 1)
		start = NR
		q = substr(v, 1, 1)
		if (v ~ /^[ \t]/) {
			fail(NR, name ": compose would drop the space after =")
		} else if (q == "\047" || q == "\"") {
			esc = 0
			dollar = 0
			open = q
			end = scan(v, 2, q)
			if (end) closed(v, end)
		} else if (index(v, "$")) {
			fail(NR, name ": compose would expand the $ in this value: write it in single quotes, " name "=\047...\047")
		} else if (index(v, " #")) {
			fail(NR, name ": compose would cut this value at \" #\": write it in single quotes")
		} else if (v ~ /[ \t\r]$/) {
			fail(NR, name ": compose would drop the spaces (or carriage return) at the end: write the value in single quotes")
		}
	}
	END {
		if (open != "") fail(start, name ": the quoted value never ends")
		exit bad
	}
	' "$1" || die "$1: compose would not read every value as it is written"
}

{% if secret_files %}
# A secret file an app mounts: present, not empty, not readable by every user.
require_secret_file() {
	[ -s "$1" ] || die "missing the secret file $1 (or it is empty): $2"
	[ -z "$(find "$1" -maxdepth 0 -perm -004)" ] || die "$1 is readable by every user: chmod o-rwx $1"
}

{% endif %}
require_plain() {
	grep -Eq "^$3=" "$1" || die "$1: $3 is missing (see $here/$2)"
}
{% endif %}
{% for p in projects %}

# Compose project {{ p.name }}.
project_{{ p.func }}() {
	project={{ p.name | shell_quote }}
	compose=(docker compose --project-name {{ p.name | shell_quote }}
{%- if p.project_directory %} --project-directory {{ p.project_directory | shell_quote }}{% endif %}
{%- if p.env_file %} --env-file {{ p.env_file | shell_quote }}{% endif %}
{%- for f in p.files %} --file {% if f.relative %}"$here"/{% endif %}{{ f.path | shell_quote }}{% endfor %})
{% if script == "deploy" %}
	data_dirs=({% for d in p.data_dirs %}{% if not loop.first %} {% endif %}{{ d | shell_quote }}{% endfor %})
	owned_dirs=({% for d in p.owned_dirs %}{% if not loop.first %} {% endif %}{{ d.owner | shell_quote }} {{ d.dir | shell_quote }}{% endfor %})
	health_urls=({% for u in p.health_urls %}{% if not loop.first %} {% endif %}{{ u | shell_quote }}{% endfor %})
{% if jobs %}
	# Scheduled jobs (schedule, service, concurrency, lock file), for the crontab.
	cron_jobs=({% for j in p.cron_jobs %}{% if not loop.first %} {% endif %}{{ j.schedule | shell_quote }} {{ j.service | shell_quote }} {{ j.concurrency | shell_quote }} {{ j.lock | shell_quote }}{% endfor %})
{% endif %}
	caddy={{ 1 if p.caddy else 0 }}
{% if jobs_only %}
	jobs_only={{ 1 if p.jobs_only else 0 }}
{% endif %}
	preflight() {
{% if p.upstream %}
		[ -f {{ p.upstream.file | shell_quote }} ] || die {{ ("missing the upstream compose file " ~ p.upstream.file ~ (": " ~ p.upstream.source if p.upstream.source else "")) | shell_quote }}
{% endif %}
{% for c in p.env_checks %}
		require_file {{ c.path | shell_quote }} {{ c.template | shell_quote }}
		check_env_file {{ c.path | shell_quote }} {{ c.template | shell_quote }}
{% for v in c.secret %}
		require_secret {{ c.path | shell_quote }} {{ c.template | shell_quote }} {{ v | shell_quote }}
{% endfor %}
{% for v in c.plain %}
		require_plain {{ c.path | shell_quote }} {{ c.template | shell_quote }} {{ v | shell_quote }}
{% endfor %}
{% endfor %}
{% for f in p.secret_files %}
		require_secret_file {{ f.path | shell_quote }} {{ ("put the value of key " ~ f.key ~ " of secret " ~ f.secret ~ " there, owned by " ~ f.uid ~ ":" ~ f.gid ~ " with mode " ~ f.mode ~ " (the runbook's By hand section says where the value comes from)") | shell_quote }}
{% endfor %}
		:
	}
{% endif %}
}
{% endfor %}

# Selects what NAME [ENV] names: sets project, compose{% if script == "deploy" %}, data_dirs, owned_dirs, health_urls, {% if jobs %}cron_jobs, {% endif %}caddy, {% if jobs_only %}jobs_only, {% endif %}preflight{% else %}, the database and the app's volumes{% endif %}.
select_target() {
{% if script != "deploy" %}
	db_service=""
	db_user=""
	db_name=""
{% endif %}
{% if script == "backup" %}
	db_dump=""
	db_ext=""
	backup_dir=""
{% endif %}
{% if script == "restore" %}
	db_check=""
	db_restore=""
	db_kind=""
	db_atomic=""
{% endif %}
{% if script == "restore" %}
	service=""
{% endif %}
{% if script != "deploy" %}
	# The app's persistent volumes: name, folder, owner, archive prefix, manual backup folder.
	volumes=()
{% endif %}
	case "$1@$2" in
{% for p in projects %}
{% for m in p.members %}
	{{ (m.name ~ "@" ~ m.env) | shell_quote }}{% if m.unique and m.env %} | {{ (m.name ~ "@") | shell_quote }}{% endif %})
		project_{{ p.func }}
{% if script != "deploy" and m.database %}
		db_service={{ m.database.service | shell_quote }}
		db_user={{ m.database.user | shell_quote }}
		db_name={{ m.database.name | shell_quote }}
{% if script == "backup" %}
		# shellcheck disable=SC2016 # expanded by sh in the database's container
		db_dump={{ m.database.dump | shell_quote }}
		db_ext={{ m.database.dump_ext | shell_quote }}
		backup_dir={{ m.database.backup_dir | shell_quote }}
{% endif %}
{% if script == "restore" %}
{% if "$" in m.database.check %}
		# shellcheck disable=SC2016 # expanded by sh in the database's container
{% endif %}
		db_check={{ m.database.check | shell_quote }}
		# shellcheck disable=SC2016 # expanded by sh in the database's container
		db_restore={{ m.database.restore | shell_quote }}
		db_kind={{ m.database.dump_kind | shell_quote }}
		db_atomic={% if m.database.atomic %}1{% else %}0{% endif %}

{% endif %}
{% endif %}
{% if script != "deploy" and m.volumes %}
{% if script == "restore" and not m.jobs_only %}
		service={{ m.name | shell_quote }}
{% endif %}
		volumes=({% for v in m.volumes %}{% if not loop.first %} {% endif %}{{ v.volume | shell_quote }} {{ v.dir | shell_quote }} {{ v.owner | shell_quote }} {{ v.prefix | shell_quote }} {{ v.backup_dir | shell_quote }}{% endfor %})
{% endif %}
		;;
{% endfor %}
{% endfor %}
	*)
		echo "$(basename "$0"): nothing named '$1'${2:+ in $2} runs on host {{ host }}" >&2
		list_targets >&2
		exit 2
		;;
	esac
}
