//! Kubernetes' own validation rules for the values kiln writes that the JSON Schema
//! cannot express: ports in 1–65535, `int32` fields, a request at most its limit, cron
//! syntax, Secret key names, DNS lengths, label selectors; and that no two hand-entered
//! secret keys read the same `KILN_*` variable. Each rule is one function, listed once
//! in [`RULES`]; each finding is an error located at the offending value.
//!
//! The API server (or compose, or `kubeseal`) would refuse such a value, but only at
//! deploy time, after the output was committed; some would do worse (a schedule is
//! written into a shell line on hosts). Checked on the model, the build stops with
//! exit 2 and nothing is written.
//!
//! The one image-tag rule is [`crate::model::tags::image_tag`].

mod cron;
mod quantity;

use crate::diagnostic::{Diagnostic, Diagnostics, Span, checks};
use crate::model::{Environment, KeySource, Placement, Project, Resources};
use crate::pointer::escape;
use quantity::Quantity;
use std::collections::BTreeMap;

/// One rule: its kebab-case name and its check over every environment.
pub struct Rule {
    /// What the rule is about, e.g. `port-range`.
    pub name: &'static str,
    /// Reports every value of the project that breaks the rule.
    pub check: fn(&Project, &mut Diagnostics),
}

/// Every rule, in the order they run.
pub const RULES: &[Rule] = &[
    Rule {
        name: "port-range",
        check: ports,
    },
    Rule {
        name: "int32-range",
        check: int32_fields,
    },
    Rule {
        name: "request-within-limit",
        check: requests_within_limits,
    },
    Rule {
        name: "cron-schedule",
        check: cron_schedules,
    },
    Rule {
        name: "secret-key-name",
        check: secret_key_names,
    },
    Rule {
        name: "dns-name-length",
        check: dns_names,
    },
    Rule {
        name: "label-selector",
        check: label_selectors,
    },
    Rule {
        name: "manual-variable-unique",
        check: manual_variables,
    },
];

/// Runs every rule.
pub fn check(project: &Project, diags: &mut Diagnostics) {
    for rule in RULES {
        (rule.check)(project, diags);
    }
}

fn error(check: crate::diagnostic::Check, at: Option<Span>, message: String) -> Diagnostic {
    Diagnostic::error(check, message).at(at)
}

/// Ports kiln writes (container ports, published host ports, stack entry points,
/// Caddy's listeners) are 1–65535: port 0 is "any free port" to the kernel and
/// invalid to Kubernetes and compose.
fn ports(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        let m = &env.model;
        let mut found = Vec::new();
        for (name, app) in m.enabled_apps() {
            if let Some(port) = app.port {
                found.push((format!("/apps/{name}/port"), port));
            }
            if let Some(port) = app.publish.as_ref().and_then(|p| p.port) {
                found.push((format!("/apps/{name}/publish/port"), port));
            }
            for (port_name, p) in &app.ports {
                let at = format!("/apps/{name}/ports/{}", crate::pointer::escape(port_name));
                found.push((format!("{at}/port"), p.port));
                if let Some(port) = p.publish.as_ref().and_then(|p| p.port) {
                    found.push((format!("{at}/publish/port"), port));
                }
            }
        }
        for (name, stack) in m.enabled_stacks() {
            found.push((format!("/stacks/{name}/port"), stack.port));
        }
        for (name, host) in &m.hosts {
            if let Some(caddy) = &host.caddy {
                found.push((format!("/hosts/{name}/caddy/httpPort"), caddy.http_port));
                found.push((format!("/hosts/{name}/caddy/httpsPort"), caddy.https_port));
            }
        }
        for (pointer, port) in found {
            if port == 0 {
                diags.push(
                    error(
                        checks::INVALID_VALUE,
                        env.span(&pointer),
                        "port 0 is not a port kiln can write: Kubernetes and compose accept 1–65535".to_owned(),
                    )
                    .help("write the port the process listens on (1–65535)"),
                );
            }
        }
    }
}

/// Counts Kubernetes stores as `int32` (replicas, probe delays) fit in one.
fn int32_fields(project: &Project, diags: &mut Diagnostics) {
    const MAX: u32 = i32::MAX as u32;
    for env in &project.environments {
        for (name, app) in env.model.enabled_apps() {
            let delay = app.health.as_ref().and_then(|h| h.initial_delay_seconds);
            for (field, value) in [
                ("replicas", Some(app.replicas)),
                ("health/initialDelaySeconds", delay),
            ] {
                if let Some(v) = value.filter(|v| *v > MAX) {
                    diags.push(
                        error(
                            checks::INVALID_VALUE,
                            env.span(&format!("/apps/{name}/{field}")),
                            format!(
                                "{v} does not fit in the 32-bit field Kubernetes stores `{}` in (at most {MAX})",
                                field.rsplit('/').next().unwrap_or(field)
                            ),
                        )
                        .help(format!("write a number up to {MAX}")),
                    );
                }
            }
        }
    }
}

/// A CPU or memory request is at most the limit of the same resource: the API server
/// refuses a pod whose request is above its limit.
fn requests_within_limits(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        for (name, app) in env.model.enabled_apps() {
            if let Some(r) = &app.resources {
                request_within_limit(env, &format!("/apps/{name}/resources"), r, diags);
            }
            if let Some(r) = app.database.as_ref().and_then(|d| d.resources.as_ref()) {
                request_within_limit(env, &format!("/apps/{name}/database/resources"), r, diags);
            }
        }
    }
}

fn request_within_limit(env: &Environment, at: &str, r: &Resources, diags: &mut Diagnostics) {
    let (Some(requests), Some(limits)) = (&r.requests, &r.limits) else {
        return;
    };
    type Parse = fn(&str) -> Option<Quantity>;
    let pairs: [(&str, &Option<String>, &Option<String>, Parse); 2] = [
        ("cpu", &requests.cpu, &limits.cpu, Quantity::cpu),
        ("memory", &requests.memory, &limits.memory, Quantity::memory),
    ];
    for (what, request, limit, parse) in pairs {
        let (Some(request), Some(limit)) = (request, limit) else {
            continue;
        };
        let Some((req, lim)) = parse(request).zip(parse(limit)) else {
            continue;
        };
        let over = match req.compare(lim) {
            Some(order) => order.is_gt(),
            // Too large to compare exactly: Kubernetes refuses such a quantity anyway.
            None => true,
        };
        if over {
            diags.push(
                error(
                    checks::INVALID_VALUE,
                    env.span(&format!("{at}/requests/{what}")),
                    format!("the {what} request {request} is above its limit {limit}; Kubernetes refuses such a pod"),
                )
                .label(env.span(&format!("{at}/limits/{what}")), "the limit")
                .help(format!("lower the {what} request to at most the limit, or raise the limit")),
            );
        }
    }
}

/// Backup schedules (of databases and of volumes) and job schedules are cron
/// expressions Kubernetes' CronJob accepts (also what the hosts' `crond` runs: the
/// schedule is written into a crontab line).
fn cron_schedules(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        let m = &env.model;
        let apps = m.enabled_apps().filter_map(|(name, app)| {
            let backup = app.database.as_ref()?.backup.as_ref()?;
            Some((format!("/apps/{name}/database/backup/schedule"), backup))
        });
        let stacks = m.enabled_stacks().filter_map(|(name, stack)| {
            let backup = stack.database.as_ref()?.backup.as_ref()?;
            Some((format!("/stacks/{name}/database/backup/schedule"), backup))
        });
        let jobs = m.enabled_apps().flat_map(|(name, app)| {
            app.jobs
                .iter()
                .map(move |(job, j)| (format!("/apps/{name}/jobs/{job}/schedule"), &j.schedule))
        });
        let volumes = m.enabled_apps().flat_map(|(name, app)| {
            app.volumes.iter().filter_map(move |(vol, v)| {
                let backup = v.backup.as_ref()?;
                Some((
                    format!("/apps/{name}/volumes/{vol}/backup/schedule"),
                    backup.schedule.as_str(),
                ))
            })
        });
        let jobs = jobs.map(|(pointer, schedule)| (pointer, schedule.as_str()));
        let schedules = apps
            .chain(stacks)
            .map(|(pointer, backup)| (pointer, backup.schedule.as_str()))
            .chain(volumes)
            .chain(jobs);
        for (pointer, schedule) in schedules {
            if let Err(why) = cron::validate(schedule) {
                diags.push(
                    error(
                        checks::INVALID_VALUE,
                        env.span(&pointer),
                        format!("not a cron schedule Kubernetes accepts: {why}"),
                    )
                    .help("five fields: minute (0–59) hour (0–23) day-of-month (1–31) month (1–12 or JAN–DEC) day-of-week (0–6 or SUN–SAT), e.g. `0 3 * * *`"),
                );
            }
        }
    }
}

/// Secret keys are Kubernetes Secret data keys: `[-._a-zA-Z0-9]+`, at most 253
/// characters, not `.` or `..` or starting with `..`. A sealed value under any other
/// key is a Secret the controller cannot create.
fn secret_key_names(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        for (name, secret) in &env.model.secrets {
            for key in secret.keys.keys() {
                if let Err(why) = secret_key(key) {
                    diags.push(
                        error(
                            checks::INVALID_NAME,
                            env.key_span(&format!("/secrets/{name}/keys/{}", escape(key))),
                            format!("secret `{name}`: {why}"),
                        )
                        .help("name the key with letters, digits, `-`, `_` and `.` (e.g. `api-key`), at most 253 characters"),
                    );
                }
            }
        }
    }
}

/// Why `key` is not a Secret data key.
fn secret_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a key cannot be empty".to_owned());
    }
    if key.len() > 253 {
        return Err(format!(
            "a key has at most 253 characters, not {}",
            key.len()
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "a key cannot contain {}",
            crate::diagnostic::describe_char(c)
        ));
    }
    if key == "." || key.starts_with("..") {
        return Err("a key cannot be `.` or start with `..`".to_owned());
    }
    Ok(())
}

/// Hostnames kiln writes (route hosts, hosts' DNS names, registry hosts) have at most
/// 253 characters and at most 63 per label; a host's DNS name that becomes an
/// ExternalName Service is also lowercase.
fn dns_names(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        let m = &env.model;
        let mut names: Vec<(String, &str)> = Vec::new();
        for (name, app) in m.enabled_apps() {
            for (route, r) in &app.routes {
                names.push((format!("/apps/{name}/routes/{route}/host"), &r.host));
            }
        }
        for (name, stack) in m.enabled_stacks() {
            for (route, r) in &stack.routes {
                names.push((format!("/stacks/{name}/routes/{route}/host"), &r.host));
            }
        }
        for (name, registry) in &m.registries {
            let host = registry.host.split(':').next().unwrap_or_default();
            names.push((format!("/registries/{name}/host"), host));
        }
        for (name, host) in &m.hosts {
            if host.address.parse::<std::net::IpAddr>().is_err() {
                names.push((format!("/hosts/{name}/address"), &host.address));
                let external = m.enabled_apps().any(|(_, app)| {
                    matches!(m.placement(app), Some(Placement::Host(h, _)) if h == name)
                        && app
                            .routes
                            .values()
                            .any(|r| r.via.as_ref().is_some_and(|v| m.clusters.contains_key(v)))
                });
                if external && host.address.bytes().any(|b| b.is_ascii_uppercase()) {
                    diags.push(
                        error(
                            checks::INVALID_NAME,
                            env.span(&format!("/hosts/{name}/address")),
                            format!("the address of host `{name}` becomes an ExternalName Service, whose name Kubernetes accepts in lowercase only"),
                        )
                        .help("write the address in lowercase (DNS names are case-insensitive)"),
                    );
                }
            }
        }
        for (pointer, name) in names {
            if let Err(why) = dns_lengths(name) {
                diags.push(
                    error(checks::INVALID_NAME, env.span(&pointer), why)
                        .help("DNS allows at most 253 characters in a name and 63 in each of its labels; shorten it"),
                );
            }
        }
    }
}

/// Why `name` breaks DNS's length limits.
fn dns_lengths(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!(
            "the hostname has {} characters; DNS allows at most 253",
            name.len()
        ));
    }
    if let Some(label) = name.split('.').find(|l| l.len() > 63) {
        return Err(format!(
            "the hostname has a label of {} characters (`{}…`); DNS allows at most 63",
            label.len(),
            &label[..16.min(label.len())]
        ));
    }
    Ok(())
}

/// Label selectors kiln writes into network policies (a tunnel's `selector`) are
/// Kubernetes label keys and values.
fn label_selectors(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        for (name, cluster) in &env.model.clusters {
            let Some(tunnel) = &cluster.tunnel else {
                continue;
            };
            for (key, value) in &tunnel.selector {
                let pointer = format!("/clusters/{name}/tunnel/selector/{}", escape(key));
                if let Err(why) = label_key(key) {
                    diags.push(
                        error(checks::INVALID_NAME, env.key_span(&pointer), format!("not a label key: {why}"))
                            .help("a label key is `name` or `prefix/name`: a name of at most 63 letters, digits, `-`, `_`, `.` (starting and ending with a letter or digit), a prefix a DNS name"),
                    );
                }
                if let Err(why) = label_value(value) {
                    diags.push(
                        error(checks::INVALID_VALUE, env.span(&pointer), format!("not a label value: {why}"))
                            .help("a label value has at most 63 letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit (or is empty)"),
                    );
                }
            }
        }
    }
}

pub(crate) fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !ok {
            return Err("its prefix is not a lowercase DNS name".to_owned());
        }
        dns_lengths(prefix)?;
    }
    if name.is_empty() {
        return Err("its name is empty".to_owned());
    }
    label_value(name)
}

pub(crate) fn label_value(value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err(format!("{} characters, at most 63", value.len()));
    }
    let edge = |b: Option<u8>| b.is_none_or(|b| b.is_ascii_alphanumeric());
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && edge(value.bytes().next())
        && edge(value.bytes().last());
    if ok {
        Ok(())
    } else {
        Err("it has a character other than letters, digits, `-`, `_`, `.`, or does not start and end with a letter or digit".to_owned())
    }
}

/// Hand-entered keys read their value from `KILN_<SECRET>_<KEY>` (upper case, other
/// characters as `_`): two keys whose names differ only there (`a-b.c` and `a.b-c`)
/// would silently be sealed with one value.
fn manual_variables(project: &Project, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<String, (String, String, Option<Span>)> = BTreeMap::new();
    for env in &project.environments {
        for (name, secret) in &env.model.secrets {
            for (key, source) in &secret.keys {
                if !matches!(source, KeySource::Manual(_)) {
                    continue;
                }
                let var = crate::secrets::keys::manual_var(name.as_str(), key);
                let at = env.key_span(&format!("/secrets/{name}/keys/{}", escape(key)));
                match seen.get(&var) {
                    None => {
                        seen.insert(var, (name.to_string(), key.clone(), at));
                    }
                    Some((s, k, first)) if (s.as_str(), k.as_str()) != (name.as_str(), key) => {
                        diags.push(
                            error(
                                checks::CONFLICT,
                                at,
                                format!("`{name}.{key}` and `{s}.{k}` are both entered from `{var}`: `kiln seal` would seal one value for both"),
                            )
                            .label(*first, format!("`{s}.{k}`"))
                            .help("rename one of the secrets or keys so that their variables differ"),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_kebab_case() {
        let mut names = std::collections::HashSet::new();
        for r in RULES {
            assert!(names.insert(r.name), "duplicate rule {}", r.name);
            assert!(
                r.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.name
            );
        }
    }

    #[test]
    fn secret_keys_follow_kubernetes_config_map_key_rules() {
        for ok in [
            "api-key",
            "tls.crt",
            ".dockerconfigjson",
            "known_hosts",
            "A.b-c_1",
        ] {
            assert_eq!(secret_key(ok), Ok(()), "{ok}");
        }
        for bad in ["", ".", "..", "..x", "a b", "a/b", "ключ", &"k".repeat(254)] {
            assert!(secret_key(bad).is_err(), "{bad}");
        }
        assert!(secret_key(&"k".repeat(253)).is_ok());
    }

    #[test]
    fn dns_lengths_are_253_per_name_and_63_per_label() {
        let label = "a".repeat(63);
        let ok = [label.as_str(); 3].join(".") + "." + &"b".repeat(61);
        assert_eq!(ok.len(), 253);
        assert_eq!(dns_lengths(&ok), Ok(()));
        assert!(
            dns_lengths(&(ok.clone() + "c"))
                .unwrap_err()
                .contains("254 characters")
        );
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert!(
            dns_lengths(&long_label)
                .unwrap_err()
                .contains("label of 64")
        );
    }

    #[test]
    fn label_keys_and_values() {
        for ok in ["app", "app.kubernetes.io/name", "a_b.c-d", "x/y"] {
            assert_eq!(label_key(ok), Ok(()), "{ok}");
        }
        for bad in ["", "/x", "Bad_Prefix/x", "a/", "-a", "a b", &"a".repeat(64)] {
            assert!(label_key(bad).is_err(), "{bad}");
        }
        for ok in ["", "cloudflared", "v1.2", "A_b"] {
            assert_eq!(label_value(ok), Ok(()), "{ok}");
        }
        for bad in ["-x", "x.", "a b", "a;b", &"v".repeat(64)] {
            assert!(label_value(bad).is_err(), "{bad}");
        }
    }
}
