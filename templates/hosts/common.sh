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
	grep -Eq "^$3=.+" "$1" || die "$1: $3 is missing or empty (see $here/$2)"
}

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
	health_urls=({% for u in p.health_urls %}{% if not loop.first %} {% endif %}{{ u | shell_quote }}{% endfor %})
	caddy={{ 1 if p.caddy else 0 }}
	preflight() {
{% if p.upstream %}
		[ -f {{ p.upstream.file | shell_quote }} ] || die {{ ("missing the upstream compose file " ~ p.upstream.file ~ (": " ~ p.upstream.source if p.upstream.source else "")) | shell_quote }}
{% endif %}
{% for c in p.env_checks %}
		require_file {{ c.path | shell_quote }} {{ c.template | shell_quote }}
{% for v in c.secret %}
		require_secret {{ c.path | shell_quote }} {{ c.template | shell_quote }} {{ v | shell_quote }}
{% endfor %}
{% for v in c.plain %}
		require_plain {{ c.path | shell_quote }} {{ c.template | shell_quote }} {{ v | shell_quote }}
{% endfor %}
{% endfor %}
		:
	}
{% endif %}
}
{% endfor %}

# Selects what NAME [ENV] names: sets project, compose{% if script == "deploy" %}, data_dirs, health_urls, caddy, preflight{% else %} and the database{% endif %}.
select_target() {
{% if script != "deploy" %}
	db_service=""
	db_user=""
	db_name=""
{% endif %}
{% if script == "backup" %}
	backup_dir=""
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
		backup_dir={{ m.database.backup_dir | shell_quote }}
{% endif %}
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
