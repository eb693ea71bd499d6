//! `kiln graph`: the diagram of each environment (or those given with `--env`), in
//! Mermaid (default), Graphviz DOT or JSON.

use super::{Outcome, Printer, selected_envs};
use crate::cli::GlobalArgs;
use crate::diagnostic::render::Format;
use crate::model::graph::Graph;

pub(super) fn run(g: &GlobalArgs, out: &Printer) -> crate::Result<Outcome> {
    let files = crate::model::Files::read(&g.root);
    let (project, mut diags) = crate::model::load::load_files(&files);
    crate::validate::model(&project, &mut diags);
    if diags.has_errors() {
        let sources = &project.sources;
        out.diagnostics(&diags.into_sorted(sources), sources);
        return Ok(Outcome::Error);
    }
    let envs = selected_envs(g, &project)?;
    let mut text = String::new();
    for (i, env) in envs.iter().enumerate() {
        let graph = Graph::of(env);
        match g.format {
            Format::Human | Format::Mermaid => {
                if envs.len() > 1 {
                    text.push_str(&format!("%% environment {}\n", env.name));
                }
                text.push_str(&graph.mermaid());
            }
            Format::Markdown => {
                text.push_str(&format!(
                    "### {}\n\n```mermaid\n{}```\n",
                    env.name,
                    graph.mermaid()
                ));
            }
            Format::Dot => {
                text.push_str(&format!("// environment {}\n", env.name));
                text.push_str(&graph.dot());
            }
            Format::Json => {
                let value = serde_json::json!({"environment": env.name.as_str(), "graph": graph});
                text.push_str(&serde_json::to_string(&value).unwrap_or_default());
                text.push('\n');
            }
        }
        if i + 1 < envs.len() && !matches!(g.format, Format::Json) {
            text.push('\n');
        }
    }
    out.stdout(&text);
    Ok(Outcome::Clean)
}
