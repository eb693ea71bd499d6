//! The diagram of an environment: clusters, namespaces, apps, databases, hosts,
//! stacks, routes, the tunnel, registries and CI, as a graph that renders to Mermaid
//! (for the runbook; GitHub and GitLab draw it) or Graphviz DOT (`kiln graph`).

use super::{Environment, Placement};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What a node is; decides its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// An app or stack.
    App,
    /// A database.
    Database,
    /// A hostname people or machines reach.
    Route,
    /// A container registry.
    Registry,
    /// The tunnel from the internet.
    Tunnel,
}

/// A node of the diagram.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Node {
    /// A stable identifier (letters, digits, `_`).
    pub id: String,
    /// What it shows.
    pub label: String,
    /// Its shape.
    pub kind: NodeKind,
    /// The group it is drawn in: a path of (id, label) from outer to inner.
    pub within: Vec<(String, String)>,
}

/// An edge: `from` → `to`, solid for traffic, dotted for images.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Edge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// Edge text.
    pub label: Option<String>,
    /// Dotted (images pulled) rather than solid (requests).
    pub dotted: bool,
}

/// The diagram of one environment.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Graph {
    /// Nodes, in a deterministic order.
    pub nodes: Vec<Node>,
    /// Edges, in a deterministic order.
    pub edges: Vec<Edge>,
}

fn id(prefix: &str, name: &str) -> String {
    let mut out = String::from(prefix);
    out.push('_');
    out.extend(
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    out
}

impl Graph {
    /// Builds the diagram of `env`.
    pub fn of(env: &Environment) -> Graph {
        let m = &env.model;
        let mut g = Graph::default();
        let mut routes: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
        for (name, app) in m.enabled_apps() {
            let app_id = id("app", name.as_str());
            let within = match m.placement(app) {
                Some(Placement::Cluster(c, _)) => vec![
                    (id("cluster", c.as_str()), format!("cluster {c}")),
                    (
                        id("ns", &m.namespace(&env.name, name, app)),
                        format!("namespace {}", m.namespace(&env.name, name, app)),
                    ),
                ],
                Some(Placement::Host(h, host)) => vec![(
                    id("host", h.as_str()),
                    format!("host {h} ({})", host.address),
                )],
                None => Vec::new(),
            };
            // A data service is only its database.
            let runs = !app.is_data_service();
            if runs {
                g.nodes.push(Node {
                    id: app_id.clone(),
                    label: match app.port {
                        Some(port) => format!("{name}:{port}"),
                        None => format!("{name} (jobs)"),
                    },
                    kind: NodeKind::App,
                    within: within.clone(),
                });
            }
            if let Some(db) = &app.database {
                let db_id = id("db", name.as_str());
                g.nodes.push(Node {
                    id: db_id.clone(),
                    label: format!("{name}-db ({} {})", db.engine().title(), db.version),
                    kind: NodeKind::Database,
                    within,
                });
                if runs {
                    g.edges.push(Edge {
                        from: app_id.clone(),
                        to: db_id,
                        label: None,
                        dotted: false,
                    });
                }
            }
            // The databases of other apps it takes a part of (`{database: APP}`).
            for (owner, _) in m.consumed_databases(name, app) {
                g.edges.push(Edge {
                    from: app_id.clone(),
                    to: id("db", owner.as_str()),
                    label: None,
                    dotted: false,
                });
            }
            for route in app.routes.values() {
                let via = match (&route.via, route.tunnel) {
                    (_, true) => Some("tunnel".to_owned()),
                    (Some(c), _) => Some(format!("via {c}")),
                    _ => None,
                };
                routes
                    .entry(route.host.clone())
                    .or_default()
                    .push((format!("{app_id}|{}", route.path), via));
                if route.tunnel
                    && let Some(Placement::Cluster(c, cluster)) = m.placement(app)
                    && let Some(t) = &cluster.tunnel
                {
                    let tunnel_id = id("tunnel", c.as_str());
                    if !g.nodes.iter().any(|n| n.id == tunnel_id) {
                        g.nodes.push(Node {
                            id: tunnel_id.clone(),
                            label: format!("{:?} tunnel {}", t.provider, t.name),
                            kind: NodeKind::Tunnel,
                            within: Vec::new(),
                        });
                    }
                    let route_id = id("route", &route.host);
                    g.edges.push(Edge {
                        from: route_id,
                        to: tunnel_id.clone(),
                        label: None,
                        dotted: false,
                    });
                    g.edges.push(Edge {
                        from: tunnel_id,
                        to: app_id.clone(),
                        label: None,
                        dotted: false,
                    });
                }
            }
            let Some(image) = &app.image else { continue };
            let registry_id = id("registry", image.registry.as_str());
            if !g.nodes.iter().any(|n| n.id == registry_id) {
                let host = m
                    .registries
                    .get(&image.registry)
                    .map_or("?", |r| r.host.as_str());
                g.nodes.push(Node {
                    id: registry_id.clone(),
                    label: format!("registry {host}"),
                    kind: NodeKind::Registry,
                    within: Vec::new(),
                });
            }
            g.edges.push(Edge {
                from: registry_id,
                to: app_id,
                label: Some("image".to_owned()),
                dotted: true,
            });
        }
        for (name, stack) in m.enabled_stacks() {
            let within = m
                .stack_host(stack)
                .map(|(h, host)| {
                    vec![(
                        id("host", h.as_str()),
                        format!("host {h} ({})", host.address),
                    )]
                })
                .unwrap_or_default();
            let stack_id = id("stack", name.as_str());
            g.nodes.push(Node {
                id: stack_id.clone(),
                label: format!("{name}:{} (upstream stack)", stack.port),
                kind: NodeKind::App,
                within,
            });
            for route in stack.routes.values() {
                routes
                    .entry(route.host.clone())
                    .or_default()
                    .push((format!("{stack_id}|{}", route.path), None));
            }
        }
        for (host, targets) in routes {
            let route_id = id("route", &host);
            g.nodes.push(Node {
                id: route_id.clone(),
                label: format!("https://{host}"),
                kind: NodeKind::Route,
                within: Vec::new(),
            });
            for (target, via) in targets {
                let (to, path) = target.split_once('|').unwrap_or((&target, "/"));
                if via.as_deref() == Some("tunnel") {
                    continue;
                }
                let label = match (path, via) {
                    ("/", None) => None,
                    (p, None) => Some(p.to_owned()),
                    (p, Some(v)) => Some(format!("{p} {v}")),
                };
                g.edges.push(Edge {
                    from: route_id.clone(),
                    to: to.to_owned(),
                    label,
                    dotted: false,
                });
            }
        }
        g
    }

    /// Walks the nodes in their nested groups (clusters, hosts, namespaces): `step`
    /// gets each group's opening, each node and each group's closing, with the
    /// indentation of that line.
    fn walk(&self, mut step: impl FnMut(&str, Step<'_>)) {
        let mut groups: BTreeMap<&[(String, String)], Vec<&Node>> = BTreeMap::new();
        for n in &self.nodes {
            groups.entry(&n.within).or_default().push(n);
        }
        // Open a group for each new prefix, close it when leaving it.
        let mut open: Vec<(String, String)> = Vec::new();
        let indent = |depth: usize| "  ".repeat(depth + 1);
        for (path, nodes) in &groups {
            while !path.starts_with(&open) {
                open.pop();
                step(&indent(open.len()), Step::Close);
            }
            for (gid, glabel) in &path[open.len()..] {
                step(&indent(open.len()), Step::Open(gid, glabel));
                open.push((gid.clone(), glabel.clone()));
            }
            for n in nodes {
                step(&indent(open.len()), Step::Node(n));
            }
        }
        while open.pop().is_some() {
            step(&indent(open.len()), Step::Close);
        }
    }

    /// The diagram as a Mermaid flowchart.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        self.walk(|indent, step| {
            let _ = match step {
                Step::Open(gid, glabel) => {
                    writeln!(out, "{indent}subgraph {gid}[\"{}\"]", escape(glabel))
                }
                Step::Node(n) => {
                    let label = escape(&n.label);
                    let shape = match n.kind {
                        NodeKind::App => format!("[\"{label}\"]"),
                        NodeKind::Database => format!("[(\"{label}\")]"),
                        NodeKind::Route => format!("([\"{label}\"])"),
                        NodeKind::Registry => format!("[/\"{label}\"/]"),
                        NodeKind::Tunnel => format!("{{{{\"{label}\"}}}}"),
                    };
                    writeln!(out, "{indent}{}{shape}", n.id)
                }
                Step::Close => writeln!(out, "{indent}end"),
            };
        });
        for e in &self.edges {
            let arrow = if e.dotted { "-.->" } else { "-->" };
            match &e.label {
                Some(l) => {
                    let _ = writeln!(out, "  {} {arrow}|\"{}\"| {}", e.from, escape(l), e.to);
                }
                None => {
                    let _ = writeln!(out, "  {} {arrow} {}", e.from, e.to);
                }
            }
        }
        out
    }

    /// The diagram in Graphviz DOT.
    pub fn dot(&self) -> String {
        let mut out = String::from(
            "digraph environment {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n",
        );
        self.walk(|indent, step| {
            let _ = match step {
                Step::Open(gid, glabel) => writeln!(
                    out,
                    "{indent}subgraph cluster_{gid} {{ label=\"{}\";",
                    dot_escape(glabel)
                ),
                Step::Node(n) => {
                    let shape = match n.kind {
                        NodeKind::App => "box",
                        NodeKind::Database => "cylinder",
                        NodeKind::Route => "oval",
                        NodeKind::Registry => "parallelogram",
                        NodeKind::Tunnel => "hexagon",
                    };
                    writeln!(
                        out,
                        "{indent}{} [label=\"{}\", shape={shape}];",
                        n.id,
                        dot_escape(&n.label)
                    )
                }
                Step::Close => writeln!(out, "{indent}}}"),
            };
        });
        for e in &self.edges {
            let mut attrs = Vec::new();
            if let Some(l) = &e.label {
                attrs.push(format!("label=\"{}\"", dot_escape(l)));
            }
            if e.dotted {
                attrs.push("style=dotted".to_owned());
            }
            let attrs = if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            };
            let _ = writeln!(out, "  {} -> {}{attrs};", e.from, e.to);
        }
        out.push_str("}\n");
        out
    }
}

/// One step of [`Graph::walk`].
enum Step<'a> {
    /// A group opens.
    Open(&'a str, &'a str),
    /// A node inside the open groups.
    Node(&'a Node),
    /// The innermost open group closes.
    Close,
}

/// A double-quoted Mermaid label's text (Mermaid writes `"` as `#quot;`).
fn escape(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// A double-quoted DOT string's text.
fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe_identifiers() {
        assert_eq!(id("route", "shop.example.com"), "route_shop_example_com");
    }
}
