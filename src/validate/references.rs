//! Reference checks: every name the model uses points at something that exists,
//! every name kiln derives from it is valid, and no two routes (of apps or stacks)
//! claim the same host and path.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{EnvValue, Environment, IngressKind, Name, Placement, SecretRef, names};
use std::collections::BTreeMap;

/// Runs every reference check on one environment.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    let m = &env.model;
    for name in m.clusters.keys().filter(|n| m.hosts.contains_key(*n)) {
        diags.push(
            Diagnostic::error(
                checks::DUPLICATE_NAME,
                format!(
                    "`{name}` is both a cluster and a host; `runsOn` could not tell them apart"
                ),
            )
            .at(env.key_span(&format!("/hosts/{name}")))
            .label(env.key_span(&format!("/clusters/{name}")), "the cluster"),
        );
    }
    if let Some(target) = &m.environment.runs_on
        && !m.clusters.contains_key(target)
        && !m.hosts.contains_key(target)
    {
        diags.push(unknown(
            env,
            "/environment/runsOn",
            "cluster or host",
            target,
            known(&m.clusters, &m.hosts),
        ));
    }
    for (name, registry) in &m.registries {
        if let Some(secret) = &registry.pull_secret
            && !m.secrets.contains_key(secret)
        {
            diags.push(unknown(
                env,
                &format!("/registries/{name}/pullSecret"),
                "secret",
                secret,
                m.secrets.keys().map(Name::to_string).collect(),
            ));
        }
    }
    for (name, cluster) in &m.clusters {
        if cluster.ingress.kind == IngressKind::Gateway && cluster.ingress.gateway.is_none() {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("cluster `{name}` routes through a Gateway but names none"),
                )
                .at(env.span(&format!("/clusters/{name}/ingress")))
                .help("add `gateway: {name: ..., namespace: ..., listener: ...}` under `ingress`"),
            );
        }
    }
    // A pattern with an unknown placeholder makes every namespace invalid: say it once.
    let pattern_ok = check_namespace_pattern(env, diags);
    for (name, app) in m.enabled_apps() {
        let at = |p: &str| format!("/apps/{name}{p}");
        let placement = m.placement(app);
        match (&app.runs_on, placement) {
            (_, Some(_)) => {}
            (Some(target), None) => diags.push(unknown(
                env,
                &at("/runsOn"),
                "cluster or host",
                target,
                known(&m.clusters, &m.hosts),
            )),
            (None, None) if m.environment.runs_on.is_none() => diags.push(
                Diagnostic::error(
                    checks::UNKNOWN_REFERENCE,
                    format!("app `{name}` has nowhere to run"),
                )
                .at(env.key_span(&format!("/apps/{name}")))
                .help("set `runsOn` on the app, or `environment.runsOn` for every app"),
            ),
            (None, None) => {}
        }
        if let Some(image) = &app.image
            && !m.registries.contains_key(&image.registry)
        {
            diags.push(unknown(
                env,
                &at("/image/registry"),
                "registry",
                &image.registry,
                m.registries.keys().map(Name::to_string).collect(),
            ));
        }
        for (var, value) in &app.env {
            if !is_env_name(var) {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!("`{var}` is not a valid environment variable name"),
                    )
                    .at(env.key_span(&at(&format!("/env/{var}"))))
                    .help("use letters, digits and `_`, not starting with a digit"),
                );
            }
            match value {
                EnvValue::Secret(r) => secret_ref(env, &at(&format!("/env/{var}")), r, diags),
                EnvValue::RouteOrigins(o) if !m.apps.contains_key(&o.route_origins) => {
                    diags.push(unknown(
                        env,
                        &at(&format!("/env/{var}/routeOrigins")),
                        "app",
                        &o.route_origins,
                        m.apps.keys().map(Name::to_string).collect(),
                    ))
                }
                _ => {}
            }
        }
        if let Some(db) = &app.database {
            secret_ref(env, &at("/database/password"), &db.password, diags);
        }
        for (i, secret) in app.env_from.iter().enumerate() {
            if !m.secrets.contains_key(secret) {
                diags.push(unknown(
                    env,
                    &at(&format!("/envFrom/{i}")),
                    "secret",
                    secret,
                    m.secrets.keys().map(Name::to_string).collect(),
                ));
            }
        }
        for dep in &app.depends_on {
            if !m.apps.contains_key(dep) {
                let i = app.depends_on.iter().position(|d| d == dep).unwrap_or(0);
                diags.push(unknown(
                    env,
                    &at(&format!("/dependsOn/{i}")),
                    "app",
                    dep,
                    m.apps.keys().map(Name::to_string).collect(),
                ));
            }
        }
        for (route_name, route) in &app.routes {
            let pointer = at(&format!("/routes/{route_name}"));
            // `via` names the cluster that serves a route of an app on a host, or the
            // app's own host (see `validate::hosts`, which checks which host).
            if let Some(via) = &route.via {
                let via_cluster = m.clusters.contains_key(via);
                if !via_cluster && !m.hosts.contains_key(via) {
                    diags.push(unknown(
                        env,
                        &format!("{pointer}/via"),
                        "cluster or host",
                        via,
                        known(&m.clusters, &m.hosts),
                    ));
                }
                match placement {
                    Some(Placement::Cluster(own, _)) if own != via => diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("`{name}` runs on cluster `{own}`; its routes cannot be served by `{via}`"),
                        )
                        .at(env.span(&format!("{pointer}/via")))
                        .help("drop `via`: an app on a cluster is routed by that cluster"),
                    ),
                    Some(Placement::Host(host_name, _)) if via_cluster => {
                        let reachable = app.publish.as_ref().is_some_and(|p| !is_loopback(&p.address));
                        if !reachable {
                            diags.push(
                                Diagnostic::error(
                                    checks::INVALID_VALUE,
                                    format!("cluster `{via}` routes to `{name}`, but `{name}` is not published beyond host `{host_name}`"),
                                )
                                .at(env.span(&format!("{pointer}/via")))
                                .help("publish the port on an address the cluster can reach, e.g. `publish: {address: 0.0.0.0}`"),
                            );
                        }
                        if route.tunnel {
                            diags.push(
                                Diagnostic::error(checks::INVALID_VALUE, "a tunnel route must belong to an app running on the tunnel's cluster")
                                    .at(env.span(&format!("{pointer}/tunnel"))),
                            );
                        }
                    }
                    _ => {}
                }
            }
            if let Some(Placement::Cluster(cluster_name, cluster)) = placement
                && route.tunnel
                && cluster.tunnel.is_none()
            {
                diags.push(
                    Diagnostic::error(
                        checks::UNKNOWN_REFERENCE,
                        format!("route `{route_name}` goes through a tunnel, but cluster `{cluster_name}` has none"),
                    )
                    .at(env.span(&format!("{pointer}/tunnel")))
                    .help(format!("add `tunnel:` to cluster `{cluster_name}`, or drop `tunnel: true`")),
                );
            }
        }
        for (suffix, what) in [
            ("-db-backup", "backup CronJob"),
            ("-migrate", "migration Job"),
        ] {
            if name.as_str().len() + suffix.len() > 63 {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!("the {what} of `{name}` would be named `{name}{suffix}`, longer than 63 characters"),
                    )
                    .at(env.key_span(&format!("/apps/{name}")))
                    .help("shorten the app's name"),
                );
                break;
            }
        }
        if pattern_ok
            && let Some(ns) = placement.and_then(|p| match p {
                Placement::Cluster(..) => Some(m.namespace(&env.name, name, app)),
                Placement::Host(..) => None,
            })
            && let Err(why) = names::validate(&ns, 63)
        {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_NAME,
                    format!("namespace of `{name}`: {why}"),
                )
                .at(env.key_span(&format!("/apps/{name}")))
                .label(env.span("/environment/namespaces"), "from this pattern"),
            );
        }
    }
    check_cycles(env, diags);
    check_route_conflicts(env, diags);
    for (name, host) in &m.hosts {
        let Some(from) = &host.deploy_from else {
            continue;
        };
        let at = format!("/hosts/{name}/deployFrom");
        if !m.clusters.contains_key(&from.cluster) {
            diags.push(unknown(
                env,
                &format!("{at}/cluster"),
                "cluster",
                &from.cluster,
                m.clusters.keys().map(Name::to_string).collect(),
            ));
        }
        match m.secrets.get(&from.ssh_key) {
            None => diags.push(unknown(
                env,
                &format!("{at}/sshKey"),
                "secret",
                &from.ssh_key,
                m.secrets.keys().map(Name::to_string).collect(),
            )),
            Some(secret) => {
                for key in ["ssh-privatekey", "known_hosts"] {
                    if !secret.keys.contains_key(key) {
                        diags.push(
                            Diagnostic::error(checks::SECRET_REFERENCE, format!("secret `{}` has no key `{key}`, which the deploy Job mounts", from.ssh_key))
                                .at(env.span(&format!("{at}/sshKey")))
                                .label(env.key_span(&format!("/secrets/{}", from.ssh_key)), "secret defined here")
                                .help("an ssh-key secret for deploys holds `ssh-privatekey` and `known_hosts`"),
                        );
                    }
                }
            }
        }
    }
    for (name, secret) in &m.secrets {
        for (i, user) in secret.used_by.iter().enumerate() {
            if !m.apps.contains_key(user) && !m.stacks.contains_key(user) {
                diags.push(unknown(
                    env,
                    &format!("/secrets/{name}/usedBy/{i}"),
                    "app or stack",
                    user,
                    m.apps
                        .keys()
                        .chain(m.stacks.keys())
                        .map(Name::to_string)
                        .collect(),
                ));
            }
        }
    }
}

/// Reports every route (of an app or a stack) whose host and path an earlier one
/// already claims.
fn check_route_conflicts(env: &Environment, diags: &mut Diagnostics) {
    let m = &env.model;
    let apps = m
        .enabled_apps()
        .map(|(n, a)| (format!("/apps/{n}"), &a.routes));
    let stacks = m
        .enabled_stacks()
        .map(|(n, s)| (format!("/stacks/{n}"), &s.routes));
    let mut routed: BTreeMap<(&str, &str), String> = BTreeMap::new();
    for (owner, routes) in apps.chain(stacks) {
        for (route_name, route) in routes {
            let pointer = format!("{owner}/routes/{route_name}");
            match routed.get(&(route.host.as_str(), route.path.as_str())) {
                Some(other) => diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!(
                            "`{}{}` is routed twice in `{}`",
                            route.host, route.path, env.name
                        ),
                    )
                    .at(env.span(&format!("{pointer}/host")))
                    .label(env.span(&format!("{other}/host")), "also routed here"),
                ),
                None => {
                    routed.insert((&route.host, &route.path), pointer);
                }
            }
        }
    }
}

/// Reports placeholders of `environment.namespaces` kiln does not fill; false if any.
fn check_namespace_pattern(env: &Environment, diags: &mut Diagnostics) -> bool {
    let pattern = &env.model.environment.namespaces;
    let mut ok = true;
    let mut rest = pattern.as_str();
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let end = after.find('}').unwrap_or(after.len());
        let var = &after[..end];
        if !["group", "app", "env"].contains(&var) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    checks::INTERPOLATION,
                    format!("`{{{var}}}` is not a namespace placeholder"),
                )
                .at(env.span("/environment/namespaces"))
                .help("use {group}, {app} and {env}"),
            );
        }
        rest = &after[(end + 1).min(after.len())..];
    }
    ok
}

/// Reports each `dependsOn` entry that closes a cycle, with the cycle. A depth-first
/// walk that visits every app once: linear in apps and dependencies, however many
/// paths the graph has.
fn check_cycles(env: &Environment, diags: &mut Diagnostics) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        OnPath,
        Done,
    }
    let apps = &env.model.apps;
    let mut marks: BTreeMap<&Name, Mark> = BTreeMap::new();
    for start in apps.keys() {
        if marks.contains_key(start) {
            continue;
        }
        // The path from `start`, each app with the index of its next dependency.
        let mut path: Vec<(&Name, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::OnPath);
        while let Some((at, next)) = path.last_mut() {
            let at: &Name = at;
            let deps = apps.get(at).map_or(&[][..], |a| &a.depends_on[..]);
            let Some(dep) = deps.get(*next) else {
                marks.insert(at, Mark::Done);
                path.pop();
                continue;
            };
            let i = *next;
            *next += 1;
            match marks.get(dep) {
                Some(Mark::Done) => {}
                Some(Mark::OnPath) => {
                    let pos = path.iter().position(|(p, _)| *p == dep).unwrap_or(0);
                    let cycle: Vec<&str> = path[pos..]
                        .iter()
                        .map(|(p, _)| p.as_str())
                        .chain([dep.as_str()])
                        .collect();
                    diags.push(
                        Diagnostic::error(
                            checks::CYCLE,
                            format!(
                                "apps depend on each other in a cycle: {}",
                                cycle.join(" → ")
                            ),
                        )
                        .at(env.span(&format!("/apps/{at}/dependsOn/{i}")))
                        .help("remove one of these `dependsOn` entries"),
                    );
                }
                None => {
                    // An unknown app is reported elsewhere; it has no dependencies.
                    if let Some((name, _)) = apps.get_key_value(dep) {
                        marks.insert(name, Mark::OnPath);
                        path.push((name, 0));
                    }
                }
            }
        }
    }
}

pub(crate) fn secret_ref(env: &Environment, pointer: &str, r: &SecretRef, diags: &mut Diagnostics) {
    let m = &env.model;
    match m.secrets.get(&r.secret) {
        None => diags.push(
            unknown(
                env,
                &format!("{pointer}/secret"),
                "secret",
                &r.secret,
                m.secrets.keys().map(Name::to_string).collect(),
            )
            .help(format!(
                "define it under `secrets: {{{}: {{keys: ...}}}}`",
                r.secret
            )),
        ),
        Some(secret) if !secret.keys.contains_key(&r.key) => {
            let keys: Vec<&str> = secret.keys.keys().map(String::as_str).collect();
            diags.push(
                Diagnostic::error(
                    checks::SECRET_REFERENCE,
                    format!("secret `{}` has no key `{}`", r.secret, r.key),
                )
                .at(env.span(&format!("{pointer}/key")))
                .label(
                    env.key_span(&format!("/secrets/{}", r.secret)),
                    "secret defined here",
                )
                .did_you_mean(&r.key, keys.iter().copied())
                .help(format!("its keys: {}", keys.join(", "))),
            );
        }
        Some(_) => {}
    }
}

pub(crate) fn unknown(
    env: &Environment,
    pointer: &str,
    what: &str,
    name: &Name,
    known: Vec<String>,
) -> Diagnostic {
    let d = Diagnostic::error(
        checks::UNKNOWN_REFERENCE,
        format!("no {what} is named `{name}`"),
    )
    .at(env.span(pointer));
    if known.is_empty() {
        d.help(format!("the model defines no {what} yet"))
    } else {
        d.did_you_mean(name.as_str(), known.iter().map(String::as_str))
            .help(format!("defined: {}", known.join(", ")))
    }
}

fn known<A, B>(a: &BTreeMap<Name, A>, b: &BTreeMap<Name, B>) -> Vec<String> {
    a.keys().chain(b.keys()).map(Name::to_string).collect()
}

fn is_loopback(address: &str) -> bool {
    address == "localhost"
        || address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `s` is a portable environment variable name.
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
