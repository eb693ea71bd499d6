//! The host's Caddy: its compose project (host networking, so it reaches apps on
//! their published ports) and its `Caddyfile`, rendered from `templates/hosts/Caddyfile`.
//!
//! Sites come from the same route declarations the clusters use: every route of an
//! app or stack on this host that has no `via` (or whose `via` names the host), in
//! every environment the host serves. Routes of one hostname share a site; within
//! it, longer path prefixes are matched first.

use super::caddy_token::{self, Refused, Token};
use super::compose::{ComposeFile, EnvFile, ImageRef, Mount, Service, Volume};
use super::env_file::{self, EnvFileSpec};
use super::scripts::{ComposeArg, EnvCheck, Member, ScriptProject};
use super::{Built, HostPlan, ProjectKind};
use crate::diagnostic::{Diagnostic, checks};
use crate::model::placement::CADDY_PROJECT;
use crate::model::{Caddy, Route, TlsMode};
use crate::render::Context;
use serde::Serialize;
use std::collections::BTreeMap;

/// The template that renders the Caddyfile.
pub const TEMPLATE: &str = "hosts/Caddyfile";
/// Where the Caddyfile is mounted in the container.
pub const CONFIG_PATH: &str = "/etc/caddy/Caddyfile";
/// The variable holding the Cloudflare API token (`cloudflare-dns`).
pub const CLOUDFLARE_TOKEN_VAR: &str = "CLOUDFLARE_API_TOKEN";

/// Builds the `caddy` compose project.
pub fn project(plan: &HostPlan<'_>, caddy: &Caddy) -> Built<ComposeFile> {
    let data = plan.project_data(CADDY_PROJECT);
    let mut s = Service::new(ImageRef::Plain(caddy.image.clone()));
    s.network_mode = Some("host".to_owned());
    s.cap_drop = vec!["ALL".to_owned()];
    s.cap_add = vec!["NET_BIND_SERVICE".to_owned()];
    s.security_opt = vec!["no-new-privileges:true".to_owned()];
    s.volumes = vec![
        Mount {
            kind: "bind",
            source: crate::layout::join("..", crate::layout::CADDYFILE),
            target: CONFIG_PATH.to_owned(),
            read_only: true,
        },
        Mount {
            kind: "volume",
            source: "data".to_owned(),
            target: "/data".to_owned(),
            read_only: false,
        },
        Mount {
            kind: "volume",
            source: "config".to_owned(),
            target: "/config".to_owned(),
            read_only: false,
        },
    ];
    let tls = &caddy.tls;
    if tls.mode == TlsMode::CloudflareOrigin {
        for file in [&tls.certificate, &tls.key].into_iter().flatten() {
            s.volumes.push(Mount {
                kind: "bind",
                source: file.clone(),
                target: file.clone(),
                read_only: true,
            });
        }
    }
    let mut env_files = Vec::new();
    if tls.mode == TlsMode::CloudflareDns
        && let Some(token) = &tls.api_token
        && let Some(env) = plan.envs.first()
    {
        let target = format!("{data}/caddy.env");
        s.env_file = vec![EnvFile {
            path: target.clone(),
            required: false,
        }];
        env_files.push(EnvFileSpec {
            service: Some(CADDY_PROJECT.to_owned()),
            target,
            vars: vec![env_file::secret_var(env, CLOUDFLARE_TOKEN_VAR, token)],
        });
    }
    let data_dirs = vec![format!("{data}/data"), format!("{data}/config")];
    let volumes = BTreeMap::from([
        ("config".to_owned(), Volume::bind(&data_dirs[1])),
        ("data".to_owned(), Volume::bind(&data_dirs[0])),
    ]);
    let env_checks = env_files
        .iter()
        .map(|f| EnvCheck {
            path: f.target.clone(),
            template: format!("{CADDY_PROJECT}/{}", f.template_name()),
            secret: f.secret_vars(),
            plain: f.plain_vars(),
        })
        .collect();
    Built {
        compose: ComposeFile {
            name: Some(CADDY_PROJECT.to_owned()),
            services: BTreeMap::from([(CADDY_PROJECT.to_owned(), s)]),
            volumes,
        },
        script: ScriptProject {
            name: CADDY_PROJECT.to_owned(),
            func: CADDY_PROJECT.to_owned(),
            files: vec![ComposeArg {
                path: crate::layout::join(CADDY_PROJECT, crate::layout::COMPOSE),
                relative: true,
            }],
            project_directory: None,
            env_file: None,
            data_dirs,
            owned_dirs: Vec::new(),
            health_urls: Vec::new(),
            cron_jobs: Vec::new(),
            env_checks,
            secret_files: Vec::new(),
            upstream: None,
            caddy: true,
            jobs_only: false,
            members: vec![Member {
                name: CADDY_PROJECT.to_owned(),
                env: String::new(),
                unique: true,
                database: None,
                volumes: Vec::new(),
                jobs_only: false,
            }],
        },
        env_files,
        files: Vec::new(),
    }
}

#[derive(Serialize)]
struct CaddyContext {
    header: Vec<String>,
    host: String,
    mode: &'static str,
    globals: Vec<String>,
    security_headers: bool,
    hsts: bool,
    compression: bool,
    sites: Vec<Site>,
}

/// A site block; every value is a [`Token`] or a line of them.
#[derive(Serialize)]
struct Site {
    address: Token,
    tls: Option<String>,
    routes: Vec<SiteRoute>,
    root: Option<SiteRoute>,
}

#[derive(Serialize)]
struct SiteRoute {
    matcher: Token,
    paths: String,
    upstream: Token,
    comment: String,
}

fn matcher_name(owner: &str, path: &str) -> String {
    let slug: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{}_{slug}", owner.replace('-', "_"))
}

/// Every route the host's Caddy serves, by hostname and path: (upstream host and
/// port, owner, comment).
type SiteRoutes = BTreeMap<String, BTreeMap<String, ((String, u16), String, String)>>;

fn routes(plan: &HostPlan<'_>) -> SiteRoutes {
    let mut sites = SiteRoutes::new();
    let mut add = |route: &Route, upstream: (String, u16), owner: &str, what: String| {
        sites
            .entry(route.host.clone())
            .or_default()
            .entry(route.path.clone())
            .or_insert((upstream, owner.to_owned(), what));
    };
    for project in plan.projects.values() {
        let env = project.env.name.as_str();
        match &project.kind {
            ProjectKind::Apps(apps) => {
                for (name, app) in apps {
                    let Some((address, port)) = app.host_publish(plan.name) else {
                        continue;
                    };
                    let reach = if address == "0.0.0.0" || address == "::" {
                        "127.0.0.1".to_owned()
                    } else {
                        address
                    };
                    for (route_name, route) in &app.routes {
                        if route.served_by_host(plan.name) {
                            add(
                                route,
                                (reach.clone(), port),
                                &format!("{name}_{env}"),
                                format!("app `{name}` of `{env}`, route `{route_name}`"),
                            );
                        }
                    }
                }
            }
            ProjectKind::Stack(name, stack) => {
                for (route_name, route) in &stack.routes {
                    add(
                        route,
                        ("127.0.0.1".to_owned(), stack.port),
                        &format!("{name}_{env}"),
                        format!("stack `{name}` of `{env}`, route `{route_name}`"),
                    );
                }
            }
        }
    }
    sites
}

/// Renders the host's Caddyfile. Every model value goes through [`caddy_token`]; a
/// value it refuses (the model checks should have refused it first) is an error
/// at the host, never a Caddyfile with it.
pub fn caddyfile(
    cx: &Context<'_>,
    plan: &HostPlan<'_>,
    caddy: &Caddy,
    sources: &[String],
) -> Result<String, Box<Diagnostic>> {
    let context = context(plan, caddy, sources).map_err(|refused| {
        Box::new(
            Diagnostic::error(checks::INVALID_VALUE, refused.to_string()).at(plan
                .envs
                .first()
                .and_then(|e| e.key_span(&format!("/hosts/{}", plan.name)))),
        )
    })?;
    cx.templates.render(TEMPLATE, context, &cx.project.sources)
}

fn context(
    plan: &HostPlan<'_>,
    caddy: &Caddy,
    sources: &[String],
) -> Result<CaddyContext, Refused> {
    let tls = &caddy.tls;
    let mut globals = vec!["admin off".to_owned()];
    if let Some(bind) = &caddy.bind {
        globals.push(caddy_token::directive("default_bind", &[bind])?);
    }
    if caddy.http_port != 80 {
        globals.push(format!("http_port {}", caddy.http_port));
    }
    if caddy.https_port != 443 {
        globals.push(format!("https_port {}", caddy.https_port));
    }
    match tls.mode {
        TlsMode::Acme | TlsMode::CloudflareDns => {
            if let Some(email) = &tls.email {
                globals.push(caddy_token::directive("email", &[email])?);
            }
            if tls.mode == TlsMode::CloudflareDns {
                // kiln's own placeholder, not a value: written as is.
                globals.push(format!(
                    "acme_dns cloudflare {{env.{CLOUDFLARE_TOKEN_VAR}}}"
                ));
            }
        }
        TlsMode::Internal => {
            globals.push("local_certs".to_owned());
            globals.push("skip_install_trust".to_owned());
        }
        TlsMode::CloudflareOrigin => globals.push("auto_https disable_certs".to_owned()),
    }
    let site_tls = match (tls.mode, &tls.certificate, &tls.key) {
        (TlsMode::CloudflareOrigin, Some(c), Some(k)) => {
            Some(caddy_token::directive("tls", &[c, k])?)
        }
        _ => None,
    };
    let mut sites = Vec::new();
    for (address, by_path) in routes(plan) {
        let mut routes = Vec::new();
        let mut root = None;
        for (path, ((host, port), owner, comment)) in by_path {
            let route = SiteRoute {
                matcher: Token::new(&matcher_name(&owner, &path))?,
                paths: if path == "/" {
                    String::new()
                } else {
                    let p = path.trim_end_matches('/');
                    format!(
                        "{} {}",
                        Token::new(p)?.as_str(),
                        Token::new(&format!("{p}/*"))?.as_str()
                    )
                },
                upstream: caddy_token::host_port(&host, port)?,
                comment: caddy_token::comment(&comment)?,
            };
            if path == "/" {
                root = Some(route);
            } else {
                routes.push(route);
            }
        }
        // Longer prefixes first: `handle` blocks with named matchers run in order.
        routes.sort_by(|a, b| {
            b.paths
                .len()
                .cmp(&a.paths.len())
                .then(a.paths.cmp(&b.paths))
        });
        sites.push(Site {
            address: Token::new(&address)?,
            tls: site_tls.clone(),
            routes,
            root,
        });
    }
    let header = crate::render::yaml::header(sources)
        .lines()
        .map(str::to_owned)
        .collect();
    Ok(CaddyContext {
        header,
        host: caddy_token::comment(plan.name.as_str())?,
        mode: tls.mode.as_str(),
        globals,
        security_headers: caddy.security_headers,
        hsts: tls.mode != TlsMode::Internal,
        compression: caddy.compression,
        sites,
    })
}

#[cfg(test)]
mod tests {
    use crate::render::hosts::Hosts;
    use crate::render::unchecked::{render, text};

    fn model(email: &str, path: &str) -> String {
        format!(
            r#"registries:
  lan: {{host: registry.lan}}
hosts:
  box:
    address: 10.0.0.5
    caddy:
      tls: {{mode: acme, email: {email}}}
apps:
  shop:
    runsOn: box
    image: {{registry: lan, repository: shop/web, tag: "1"}}
    port: 8080
    routes:
      web: {{host: shop.example.com, path: {path}}}
"#
        )
    }

    #[test]
    fn values_are_caddyfile_tokens() {
        let yaml = model("\"ops+x@example.com\"", "'/a\"b'");
        let (out, diags) = render(&Hosts, &[("environments/test.yaml", &yaml)]);
        assert!(diags.is_empty(), "{diags:?}");
        let caddyfile = text(&out, "hosts/box/Caddyfile");
        assert!(
            caddyfile.contains("\temail ops+x@example.com\n"),
            "{caddyfile}"
        );
        assert!(
            caddyfile.contains(r#"path "/a\"b" "/a\"b/*""#),
            "{caddyfile}"
        );
    }

    /// Even past the model checks, a line break never reaches the Caddyfile: the
    /// value is refused at the host.
    #[test]
    fn a_line_break_is_refused_not_written() {
        let yaml = model(
            "\"ops@example.com\\n}\\n:80 {\\n\\trespond owned\\n}\\n{\"",
            "/",
        );
        let (out, diags) = render(&Hosts, &[("environments/test.yaml", &yaml)]);
        assert!(out.get("hosts/box/Caddyfile").is_none());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0]
                .message
                .contains("cannot be written into a Caddyfile"),
            "{}",
            diags[0].message
        );
        assert!(diags[0].span.is_some());
    }
}
