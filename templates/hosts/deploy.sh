#!/usr/bin/env bash
{% for line in header %}
{{ line }}
{% endfor %}
#
# deploy.sh NAME [ENV]: deploys the compose project that runs NAME on host {{ host }}
# (an app, a stack, or `caddy`): checks its env files, pulls its images, starts it and
# waits until it is healthy. ENV is needed only when NAME runs in two environments on
# this host. DEPLOY_TIMEOUT (seconds, default 300) bounds each wait.
# Exit status: 0 deployed and healthy, 1 any failure, 2 bad usage.
set -euo pipefail
{% set script = "deploy" %}
{% include "hosts/common.sh" %}

timeout_seconds="${DEPLOY_TIMEOUT:-300}"

wait_healthy() {
	local url="$1"
	local deadline=$((SECONDS + timeout_seconds))
	until curl --fail --silent --show-error --max-time 5 --output /dev/null "$url"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			die "$url did not answer within ${timeout_seconds}s"
		fi
		sleep 2
	done
}

{% if jobs %}
# One word for /bin/sh, which runs crontab lines.
sh_word() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# Writes the project's scheduled jobs into this user's crontab, between its own
# markers (replacing what an earlier deploy wrote there): each line runs the job's
# compose service with `docker compose run --rm`, its output to the system log.
install_jobs() {
	local begin="# kiln: jobs of compose project $project (begin)"
	local end="# kiln: jobs of compose project $project (end)"
	local current lines="" docker flock logger run line word
	if [ -z "${cron_jobs[*]:-}" ] && ! command -v crontab >/dev/null 2>&1; then
		return 0
	fi
	command -v crontab >/dev/null 2>&1 || die "$project has scheduled jobs, which need cron: install it (the crontab command) and deploy again"
	current="$(crontab -l 2>/dev/null || true)"
	if [ -z "${cron_jobs[*]:-}" ] && ! printf '%s\n' "$current" | grep -Fxq "$begin"; then
		return 0
	fi
	docker="$(command -v docker)"
	flock="$(command -v flock || true)"
	logger="$(command -v logger || true)"
	set -- "${cron_jobs[@]}"
	while [ "$#" -ge 4 ]; do
		run=""
		for word in "$docker" "${compose[@]:1}"; do
			run="$run$(sh_word "$word") "
		done
		run="${run}run --rm --no-TTY"
		case "$3" in
		forbid)
			[ -n "$flock" ] || die "the forbid concurrency of $2 needs flock (util-linux)"
			run="$(sh_word "$flock") --nonblock $(sh_word "$4") $run $(sh_word "$2")"
			;;
		replace)
			run="$(sh_word "$docker") rm --force $(sh_word "$project-$2-run") >/dev/null 2>&1; $run --name $(sh_word "$project-$2-run") $(sh_word "$2")"
			;;
		*)
			run="$run $(sh_word "$2")"
			;;
		esac
		if [ -n "$logger" ]; then
			run="$run 2>&1 | $(sh_word "$logger") --tag $(sh_word "kiln-$project-$2")"
		fi
		# cron reads % as a line break.
		line="$1 $(printf '%s' "$run" | sed 's/%/\\%/g')"
		lines="$lines$line"$'\n'
		shift 4
	done
	{
		if [ -n "$current" ]; then
			printf '%s\n' "$current" | awk -v b="$begin" -v e="$end" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }'
		fi
		if [ -n "$lines" ]; then
			printf '%s\n' "$begin"
			printf '%s' "$lines"
			printf '%s\n' "$end"
		fi
	} | crontab - || die "cannot write the crontab entries of $project"
}

{% endif %}
if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
	usage "deploy.sh NAME [ENV]"
fi
select_target "$1" "${2:-}"
command -v docker >/dev/null 2>&1 || die "docker is not installed"
preflight
for dir in "${data_dirs[@]}"; do
	mkdir -p "$dir" || die "cannot create $dir: create it once as root and give it to this user"
done
# The folders of app volumes belong to the user the app runs as (owner, folder pairs).
set -- "${owned_dirs[@]}"
while [ "$#" -ge 2 ]; do
	owner=$1
	dir=$2
	shift 2
	mkdir -p "$dir" || die "cannot create $dir: create it once as root and give it to this user"
	if [ "$(stat -c %u:%g "$dir")" != "$owner" ]; then
		chown "$owner" "$dir" 2>/dev/null || sudo -n chown "$owner" "$dir" 2>/dev/null ||
			die "$dir must belong to $owner, the user the app runs as: run once: sudo chown $owner $dir"
	fi
done
"${compose[@]}" config --quiet || die "docker compose rejects project $project"
{% if jobs %}
# The jobs' images too, so the first scheduled run does not wait for (or fail on) a pull.
"${compose[@]}" --profile jobs pull --quiet || die "cannot pull the images of $project"
{% else %}
"${compose[@]}" pull --quiet || die "cannot pull the images of $project"
{% endif %}
if [ "$caddy" = 1 ]; then
	"${compose[@]}" run --rm --no-deps caddy caddy validate --config /etc/caddy/Caddyfile --adapter caddyfile ||
		die "the new Caddyfile is invalid; the running Caddy was left alone"
fi
{% if jobs_only %}
if [ "$jobs_only" = 1 ]; then
	# Only scheduled jobs: nothing to start (a `down` would stop a run in progress).
	:
elif ! "${compose[@]}" up --detach --remove-orphans --wait --wait-timeout "$timeout_seconds"; then
{% else %}
if ! "${compose[@]}" up --detach --remove-orphans --wait --wait-timeout "$timeout_seconds"; then
{% endif %}
	"${compose[@]}" ps || true
	"${compose[@]}" logs --tail 50 || true
	die "$project did not become healthy"
fi
if [ "$caddy" = 1 ]; then
	# Caddy's admin API is off, so a restart is what loads a new Caddyfile.
	"${compose[@]}" restart caddy || die "cannot restart caddy"
fi
for url in "${health_urls[@]}"; do
	wait_healthy "$url"
done
{% if jobs %}
install_jobs
{% endif %}
{% if jobs_only %}
if [ "$jobs_only" = 1 ]; then
	echo "deploy.sh: the jobs of $project are scheduled"
else
	echo "deploy.sh: $project is up and healthy"
fi
{% else %}
echo "deploy.sh: $project is up and healthy"
{% endif %}
