//! The `docs` target: `out/docs/<env>.md`, a runbook per environment, built from
//! sections rendered by minijinja templates under `templates/docs/`.
//!
//! Sections: overview (with a Mermaid diagram), steps by hand, the secrets (the
//! 1Password items and fields to create, as the Invoicetron runbook's table, and where
//! every value comes from), apply order, verification, rollback, waivers. Adding a
//! section is a template plus one entry in [`SECTIONS`].

use super::{Context, OutputTree, Target, runbook};
use crate::diagnostic::Diagnostics;
use crate::model::secret_placement::placements;
use crate::model::{Environment, KeySource};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The docs target.
pub struct Docs;

/// A runbook section: its template and the function building its context.
type Section = (&'static str, fn(&Context<'_>, &Environment) -> Value);

/// The sections of every runbook, in order.
pub static SECTIONS: &[Section] = &[
    ("docs/overview.md.j2", runbook::overview),
    ("docs/by-hand.md.j2", runbook::by_hand),
    ("docs/secrets.md.j2", |_, env| secrets_section(env)),
    ("docs/apply.md.j2", runbook::apply),
    ("docs/verify.md.j2", runbook::verify),
    ("docs/rollback.md.j2", runbook::rollback),
    ("docs/jobs.md.j2", runbook::host_jobs),
    ("docs/waivers.md.j2", runbook::waivers),
    ("docs/patches.md.j2", runbook::patches),
];

impl Target for Docs {
    fn id(&self) -> &'static str {
        "docs"
    }

    fn description(&self) -> &'static str {
        "a runbook per environment: diagram, steps by hand, secrets, apply order, verification, rollback"
    }

    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics) {
        for env in &cx.project.environments {
            let mut sections = Vec::new();
            for (template, context) in SECTIONS {
                match cx
                    .templates
                    .render(template, context(cx, env), &cx.project.sources)
                {
                    // A section with nothing to say is left out.
                    Ok(text) if text.trim().is_empty() => {}
                    Ok(text) => sections.push(text.trim_end().to_owned()),
                    Err(d) => diags.push(*d),
                }
            }
            let page = cx.templates.render(
                "docs/runbook.md.j2",
                json!({"env": env.name.as_str(), "sources": env.sources, "sections": sections}),
                &cx.project.sources,
            );
            match page {
                Ok(text) => out.add(
                    crate::layout::runbook(env.name.as_str()),
                    format!("{}\n", text.trim_end()).into_bytes(),
                    &crate::layout::Provenance::new(self.id()).of_env(env.name.as_str()),
                ),
                Err(d) => diags.push(*d),
            }
        }
    }
}

#[derive(Serialize)]
struct Item {
    vault: String,
    item: String,
    fields: Vec<String>,
}

#[derive(Serialize)]
struct KeyRow {
    secret: String,
    key: String,
    source: String,
    namespaces: String,
}

/// Markdown table cells cannot hold `|` or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn secrets_section(env: &Environment) -> Value {
    let m = &env.model;
    let placed = placements(env);
    let url_keys = crate::secrets::keys::UrlKeys::of(env);
    let mut items: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut url_fields = Vec::new();
    let mut keys = Vec::new();
    for (name, secret) in &m.secrets {
        let mut namespaces: Vec<String> = placed
            .iter()
            .filter(|p| &p.secret == name)
            .map(|p| format!("`{}` ({})", p.namespace, p.cluster))
            .collect();
        namespaces.dedup();
        let mut hosts: Vec<String> = secret
            .used_by
            .iter()
            .filter_map(|app| m.apps.get(app).filter(|a| a.enabled).map(|a| (app, a)))
            .filter_map(|(_, a)| match m.placement(a) {
                Some(crate::model::Placement::Host(h, _)) => Some(format!("host `{h}`")),
                _ => None,
            })
            .collect();
        // Once per host, however many of its apps use the secret.
        hosts.sort();
        hosts.dedup();
        namespaces.extend(hosts);
        let namespaces = if namespaces.is_empty() {
            "not used".to_owned()
        } else {
            namespaces.join(", ")
        };
        let on_cluster = placed.iter().any(|p| &p.secret == name);
        for (key, source) in &secret.keys {
            let described = match source {
                KeySource::OnePassword(o) => {
                    let mut parts = o.op.trim_start_matches("op://").splitn(3, '/');
                    let (vault, item, field) = (
                        parts.next().unwrap_or_default().to_owned(),
                        parts.next().unwrap_or_default().to_owned(),
                        parts.next().unwrap_or_default().to_owned(),
                    );
                    let fields = items.entry((vault, item)).or_default();
                    if !fields.contains(&field) {
                        fields.push(field.clone());
                    }
                    if url_keys.contains(name.as_str(), key) && !url_fields.contains(&field) {
                        url_fields.push(field);
                    }
                    format!("1Password `{}`", cell(&o.op))
                }
                KeySource::Generate(g) if on_cluster => format!(
                    "generated when sealed ({} characters, {}); exists only sealed",
                    g.generate.length,
                    g.generate.alphabet.as_str()
                ),
                KeySource::Generate(g) => format!(
                    "generate it yourself: {} characters, {}{}; it goes into the host's env file",
                    g.generate.length,
                    g.generate.alphabet.as_str(),
                    match g.generate.alphabet {
                        crate::model::Alphabet::Hex =>
                            format!(" (`openssl rand -hex {}`)", g.generate.length.div_ceil(2)),
                        _ => String::new(),
                    }
                ),
                KeySource::Template(t) => format!("composed: `{}`", cell(&t.template)),
                KeySource::Manual(h) if !on_cluster => {
                    format!("enter it in the host's env file: {}", cell(&h.manual))
                }
                KeySource::Manual(h) => format!(
                    "entered when sealing ({}), or from `{}`",
                    cell(&h.manual),
                    crate::secrets::keys::manual_var(name.as_str(), key)
                ),
            };
            keys.push(KeyRow {
                secret: name.to_string(),
                key: key.clone(),
                source: described,
                namespaces: namespaces.clone(),
            });
        }
    }
    let items: Vec<Item> = items
        .into_iter()
        .map(|((vault, item), fields)| Item {
            vault: cell(&vault),
            item: cell(&item),
            fields,
        })
        .collect();
    json!({
        "env": env.name.as_str(),
        "items": items,
        "url_fields": url_fields,
        "keys": keys,
    })
}
