//! Checks of apps and stacks on hosts: routes need the host's Caddy, host ports are
//! bound once, images are built for the architecture they run on, upstream stacks are
//! wired to their variables, and a host shared by environments is described the same
//! way in each.
//!
//! Port and host checks look across environments: one machine serves every
//! environment placed on it, so two environments can collide on it.

use super::references::{is_env_name, secret_ref, unknown};
use crate::diagnostic::{Diagnostic, Diagnostics, Span, checks};
use crate::model::placement::{CADDY_PROJECT, host_users};
use crate::model::{
    Environment, MAIN_PORT_NAME, Name, Placement, Project, Protocol, Route, TlsMode,
};
use std::collections::BTreeMap;

/// Runs every host check.
pub fn check(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        check_env(env, diags);
    }
    check_shared_hosts(project, diags);
    check_ports(project, diags);
}

fn check_env(env: &Environment, diags: &mut Diagnostics) {
    let m = &env.model;
    for (name, host) in &m.hosts {
        let Some(caddy) = &host.caddy else { continue };
        let at = format!("/hosts/{name}/caddy/tls");
        let tls = &caddy.tls;
        let missing = |field: &str| {
            Diagnostic::error(
                checks::INVALID_VALUE,
                format!(
                    "TLS mode `{}` of host `{name}` needs `{field}`",
                    tls.mode.as_str()
                ),
            )
            .at(env.span(&format!("{at}/mode")))
        };
        match tls.mode {
            TlsMode::CloudflareOrigin => {
                for (field, value) in [("certificate", &tls.certificate), ("key", &tls.key)] {
                    if value.is_none() {
                        diags.push(missing(field).help(
                            "the Cloudflare Origin CA certificate and key, as files on the host",
                        ));
                    }
                }
            }
            TlsMode::CloudflareDns => match &tls.api_token {
                None => diags.push(
                    missing("apiToken")
                        .help("a secret key holding a Cloudflare API token with Zone.DNS:Edit"),
                ),
                Some(r) => secret_ref(env, &format!("{at}/apiToken"), r, diags),
            },
            TlsMode::Acme | TlsMode::Internal => {}
        }
    }

    for (name, app) in m.enabled_apps() {
        let placement = m.placement(app);
        let platforms = app
            .image
            .as_ref()
            .map(|i| &i.platforms[..])
            .unwrap_or_default();
        if let Some(p) = placement
            && !platforms.is_empty()
        {
            let (kind, target, arch) = match p {
                Placement::Cluster(n, c) => ("cluster", n, c.arch),
                Placement::Host(n, h) => ("host", n, h.arch),
            };
            if !platforms.contains(&arch) {
                let built: Vec<&str> = platforms.iter().map(|a| a.platform()).collect();
                let at = if app.runs_on.is_some() {
                    env.span(&format!("/apps/{name}/runsOn"))
                } else {
                    env.key_span(&format!("/apps/{name}"))
                };
                diags.push(
                    Diagnostic::error(
                        checks::PLATFORM_MISMATCH,
                        format!(
                            "`{name}` runs on {kind} `{target}` ({}), but its image is built for {} only",
                            arch.platform(),
                            built.join(", ")
                        ),
                    )
                    .at(at)
                    .label(env.span(&format!("/apps/{name}/image/platforms")), "built for these")
                    .label(env.key_span(&format!("/{kind}s/{target}")), format!("{kind} defined here"))
                    .help(format!(
                        "add `{}` to `image.platforms`, or run the app where its image runs",
                        serde_json::to_value(arch).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
                    )),
                );
            }
        }
        let Some(Placement::Host(host_name, host)) = placement else {
            continue;
        };
        if name.as_str() == CADDY_PROJECT {
            diags.push(
                Diagnostic::error(
                    checks::DUPLICATE_NAME,
                    format!("an app on a host cannot be named `{CADDY_PROJECT}`: `deploy.sh {CADDY_PROJECT}` deploys the host's Caddy"),
                )
                .at(env.key_span(&format!("/apps/{name}"))),
            );
        }
        for (route_name, route) in &app.routes {
            let pointer = format!("/apps/{name}/routes/{route_name}");
            check_host_route(env, &pointer, route, host_name, host.caddy.is_some(), diags);
        }
    }

    for (name, stack) in m.enabled_stacks() {
        let at = |p: &str| format!("/stacks/{name}{p}");
        let target = stack.runs_on.as_ref().or(m.environment.runs_on.as_ref());
        let host = match target {
            None => {
                diags.push(
                    Diagnostic::error(
                        checks::UNKNOWN_REFERENCE,
                        format!("stack `{name}` has nowhere to run"),
                    )
                    .at(env.key_span(&at("")))
                    .help("set `runsOn` to a host"),
                );
                None
            }
            Some(t) if m.clusters.contains_key(t) => {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("stack `{name}` runs on `{t}`, a cluster; stacks run on hosts"),
                    )
                    .at(env.span(&at("/runsOn")).or(env.span("/environment/runsOn")))
                    .help("set `runsOn` to a host"),
                );
                None
            }
            Some(t) => match m.hosts.get_key_value(t) {
                Some(h) => Some(h),
                None => {
                    diags.push(unknown(
                        env,
                        &at("/runsOn"),
                        "host",
                        t,
                        m.hosts.keys().map(Name::to_string).collect(),
                    ));
                    None
                }
            },
        };
        if name.as_str() == CADDY_PROJECT {
            diags.push(
                Diagnostic::error(
                    checks::DUPLICATE_NAME,
                    format!("a stack cannot be named `{CADDY_PROJECT}`: `deploy.sh {CADDY_PROJECT}` deploys the host's Caddy"),
                )
                .at(env.key_span(&at(""))),
            );
        }
        let service_env = stack.services.iter().flat_map(|(service, s)| {
            s.env
                .iter()
                .map(move |(var, value)| (format!("/services/{service}/env/{var}"), var, value))
        });
        let own_env = stack
            .env
            .iter()
            .map(|(var, value)| (format!("/env/{var}"), var, value));
        for (pointer, var, value) in own_env.chain(service_env) {
            let pointer = at(&pointer);
            if !is_env_name(var) {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!("`{var}` is not a valid environment variable name"),
                    )
                    .at(env.key_span(&pointer)),
                );
            }
            match value {
                crate::model::EnvValue::Secret(r) => secret_ref(env, &pointer, r, diags),
                crate::model::EnvValue::RouteOrigins(o)
                    if !m.apps.contains_key(&o.route_origins) =>
                {
                    diags.push(unknown(
                        env,
                        &format!("{pointer}/routeOrigins"),
                        "app",
                        &o.route_origins,
                        m.apps.keys().map(Name::to_string).collect(),
                    ));
                }
                _ => {}
            }
        }
        if let Some(db) = &stack.database
            && !stack.env.contains_key(&db.password_env)
        {
            diags.push(
                Diagnostic::error(
                    checks::UNKNOWN_REFERENCE,
                    format!("`{}` is not a variable of stack `{name}`", db.password_env),
                )
                .at(env.span(&at("/database/passwordEnv")))
                .did_you_mean(&db.password_env, stack.env.keys().map(String::as_str))
                .help("add it under the stack's `env`, from the secret that holds the password"),
            );
        }
        for (route_name, route) in &stack.routes {
            let pointer = at(&format!("/routes/{route_name}"));
            if let Some((host_name, host)) = host {
                if route.via.as_ref().is_some_and(|v| v != host_name) {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!(
                                "routes of stacks are served by their host's Caddy, not by `{}`",
                                route.via.as_ref().map(Name::as_str).unwrap_or_default()
                            ),
                        )
                        .at(env.span(&format!("{pointer}/via")))
                        .help("remove `via`"),
                    );
                    continue;
                }
                check_host_route(env, &pointer, route, host_name, host.caddy.is_some(), diags);
            }
        }
    }
}

fn check_host_route(
    env: &Environment,
    pointer: &str,
    route: &Route,
    host_name: &Name,
    has_caddy: bool,
    diags: &mut Diagnostics,
) {
    let m = &env.model;
    if let Some(via) = &route.via
        && via != host_name
        && m.hosts.contains_key(via)
    {
        diags.push(
            Diagnostic::error(
                checks::INVALID_VALUE,
                format!(
                    "`via: {via}` names another host; a host's Caddy serves only what runs on it"
                ),
            )
            .at(env.span(&format!("{pointer}/via")))
            .help(format!(
                "remove `via` to serve it from `{host_name}`, or name a cluster"
            )),
        );
    }
    if !route.served_by_host(host_name) {
        return;
    }
    if route.tunnel {
        diags.push(
            Diagnostic::error(
                checks::INVALID_VALUE,
                format!("host `{host_name}` has no tunnel; `tunnel: true` needs a route `via` a cluster with one"),
            )
            .at(env.span(&format!("{pointer}/tunnel"))),
        );
    }
    if !has_caddy {
        diags.push(
            Diagnostic::error(
                checks::ROUTE_WITHOUT_PROXY,
                format!(
                    "`{}{}` would be served by host `{host_name}`, which runs no Caddy",
                    route.host, route.path
                ),
            )
            .at(env.span(&format!("{pointer}/host")))
            .label(env.key_span(&format!("/hosts/{host_name}")), "host defined here")
            .help(format!(
                "add `caddy: {{tls: {{mode: acme, email: ...}}}}` to host `{host_name}`, or serve the route `via` a cluster"
            )),
        );
    }
}

fn check_shared_hosts(project: &Project, diags: &mut Diagnostics) {
    for (host, envs) in host_users(project) {
        let Some((first, rest)) = envs.split_first() else {
            continue;
        };
        let want = &first.model.hosts[&host];
        for env in rest {
            if &env.model.hosts[&host] != want {
                diags.push(
                    Diagnostic::error(
                        checks::HOST_DIFFERS,
                        format!(
                            "host `{host}` serves `{}` and `{}` but they describe it differently",
                            first.name, env.name
                        ),
                    )
                    .at(env.key_span(&format!("/hosts/{host}")))
                    .label(first.key_span(&format!("/hosts/{host}")), format!("as `{}` describes it", first.name))
                    .help("one machine has one address, data directory and Caddy: describe it once, in the shared base"),
                );
            }
        }
    }
}

struct Binding {
    address: String,
    port: u16,
    protocol: Protocol,
    what: String,
    /// The model field that moves it to another host port.
    moved_by: String,
    span: Option<Span>,
}

fn overlaps(a: &str, b: &str) -> bool {
    a == b || a == "0.0.0.0" || b == "0.0.0.0" || a == "::" || b == "::"
}

fn check_ports(project: &Project, diags: &mut Diagnostics) {
    let mut by_host: BTreeMap<Name, Vec<Binding>> = BTreeMap::new();
    let mut caddy_done: Vec<Name> = Vec::new();
    let mut upstream_dirs: BTreeMap<(Name, String), (String, Option<Span>)> = BTreeMap::new();
    for env in &project.environments {
        let m = &env.model;
        let mut add = |host: &Name, binding: Binding, diags: &mut Diagnostics| {
            let list = by_host.entry(host.clone()).or_default();
            if let Some(first) = list.iter().find(|b| {
                b.port == binding.port
                    && b.protocol == binding.protocol
                    && overlaps(&b.address, &binding.address)
            }) {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!(
                            "{} binds port {}{} on host `{host}`, which {} already binds",
                            binding.what,
                            binding.port,
                            match binding.protocol {
                                Protocol::Tcp => "",
                                Protocol::Udp => "/udp",
                            },
                            first.what
                        ),
                    )
                    .at(binding.span)
                    .label(first.span, "bound here first")
                    .help(format!(
                        "give one of them another host port: {} or {}",
                        first.moved_by, binding.moved_by
                    )),
                );
            } else {
                list.push(binding);
            }
        };
        for (name, app) in m.enabled_apps() {
            let Some(Placement::Host(host, h)) = m.placement(app) else {
                continue;
            };
            caddy_ports(env, host, h, &mut caddy_done, &mut |b| add(host, b, diags));
            for b in app.host_bindings(host) {
                let what = if b.name == MAIN_PORT_NAME {
                    format!("app `{name}` of `{}`", env.name)
                } else {
                    format!("port `{}` of app `{name}` of `{}`", b.name, env.name)
                };
                add(
                    host,
                    Binding {
                        address: b.address,
                        port: b.host_port,
                        protocol: b.protocol,
                        what,
                        moved_by: {
                            // The field that sets the host port: the port itself with
                            // `hostNetwork`, else `publish.port` (also when the port is
                            // published on its own number by default), in this
                            // environment.
                            let field = b.pointer.replace('/', ".");
                            let field = if field.ends_with(".publish") {
                                format!("{field}.port")
                            } else if field == ".port" && !app.host_network {
                                ".publish.port".to_owned()
                            } else {
                                field
                            };
                            format!("`apps.{name}{field}` in `{}`", env.name)
                        },
                        span: env.span(&format!("/apps/{name}{}", b.pointer)),
                    },
                    diags,
                );
            }
        }
        for (name, stack) in m.enabled_stacks() {
            let Some((host, h)) = m.stack_host(stack) else {
                continue;
            };
            caddy_ports(env, host, h, &mut caddy_done, &mut |b| add(host, b, diags));
            add(
                host,
                Binding {
                    address: "0.0.0.0".to_owned(),
                    port: stack.port,
                    protocol: Protocol::Tcp,
                    what: format!("stack `{name}` of `{}`", env.name),
                    moved_by: format!(
                        "`stacks.{name}.port` (with the port its upstream file publishes)"
                    ),
                    span: env.span(&format!("/stacks/{name}/port")),
                },
                diags,
            );
            let key = (host.clone(), stack.upstream.dir.clone());
            let span = env.span(&format!("/stacks/{name}/upstream/dir"));
            if let Some((other, other_span)) = upstream_dirs.get(&key) {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!(
                            "stack `{name}` of `{}` uses the upstream directory {} on host `{host}`, as {other} does",
                            env.name, stack.upstream.dir
                        ),
                    )
                    .at(span)
                    .label(*other_span, "also used here")
                    .help("the upstream directory holds the stack's volumes: give each environment its own"),
                );
            } else {
                upstream_dirs.insert(key, (format!("stack `{name}` of `{}`", env.name), span));
            }
        }
    }
}

/// The ports the Caddy of `host` binds, the first time `host` is seen (`done`: the
/// hosts seen).
fn caddy_ports(
    env: &Environment,
    host: &Name,
    h: &crate::model::Host,
    done: &mut Vec<Name>,
    add: &mut dyn FnMut(Binding),
) {
    if done.contains(host) {
        return;
    }
    done.push(host.clone());
    let Some(caddy) = &h.caddy else { return };
    let address = caddy.bind.clone().unwrap_or_else(|| "0.0.0.0".to_owned());
    for (port, field) in [
        (caddy.http_port, "httpPort"),
        (caddy.https_port, "httpsPort"),
    ] {
        add(Binding {
            address: address.clone(),
            port,
            protocol: Protocol::Tcp,
            what: format!("the Caddy of `{host}`"),
            moved_by: format!("`hosts.{host}.caddy.{field}`"),
            span: env.span(&format!("/hosts/{host}/caddy/{field}")),
        });
    }
}
