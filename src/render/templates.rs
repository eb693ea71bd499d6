//! Text templates for formats that are not structured data: Caddyfiles, shell
//! scripts, Markdown runbooks. (YAML is never templated; see [`super::yaml`].)
//!
//! The defaults live in the repository's `templates/` and are built into the binary.
//! A project can override any of them by putting a file with the same name under
//! `DIR/templates/`; kiln reads overrides while loading, so renderers stay free of I/O.
//!
//! Templates are minijinja with strict undefined variables (a typo is an error, not an
//! empty string), `trim_blocks`/`lstrip_blocks`, and a `shell_quote` filter for values
//! that go into scripts.

use crate::diagnostic::{Diagnostic, FileId, SourceMap, Span, checks};
use crate::model::files::{Files, TEMPLATES};
use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};
use serde::Serialize;
use std::collections::BTreeMap;

/// The default templates: name → text. Adding a template is one line here plus the file.
pub static DEFAULTS: &[(&str, &str)] = &[
    (
        "flux/bootstrap.sh.j2",
        include_str!("../../templates/flux/bootstrap.sh.j2"),
    ),
    (
        "secrets/seal.sh.j2",
        include_str!("../../templates/secrets/seal.sh.j2"),
    ),
    (
        "docs/secrets.md.j2",
        include_str!("../../templates/docs/secrets.md.j2"),
    ),
    (
        "docs/overview.md.j2",
        include_str!("../../templates/docs/overview.md.j2"),
    ),
    (
        "docs/by-hand.md.j2",
        include_str!("../../templates/docs/by-hand.md.j2"),
    ),
    (
        "docs/apply.md.j2",
        include_str!("../../templates/docs/apply.md.j2"),
    ),
    (
        "docs/verify.md.j2",
        include_str!("../../templates/docs/verify.md.j2"),
    ),
    (
        "docs/rollback.md.j2",
        include_str!("../../templates/docs/rollback.md.j2"),
    ),
    (
        "docs/jobs.md.j2",
        include_str!("../../templates/docs/jobs.md.j2"),
    ),
    (
        "docs/waivers.md.j2",
        include_str!("../../templates/docs/waivers.md.j2"),
    ),
    (
        "docs/patches.md.j2",
        include_str!("../../templates/docs/patches.md.j2"),
    ),
    (
        "docs/runbook.md.j2",
        include_str!("../../templates/docs/runbook.md.j2"),
    ),
    (
        "hosts/Caddyfile",
        include_str!("../../templates/hosts/Caddyfile"),
    ),
    ("hosts/env", include_str!("../../templates/hosts/env")),
    (
        "hosts/common.sh",
        include_str!("../../templates/hosts/common.sh"),
    ),
    (
        "hosts/deploy.sh",
        include_str!("../../templates/hosts/deploy.sh"),
    ),
    (
        "hosts/backup.sh",
        include_str!("../../templates/hosts/backup.sh"),
    ),
    (
        "hosts/restore.sh",
        include_str!("../../templates/hosts/restore.sh"),
    ),
    (
        "pipelines/README.md.j2",
        include_str!("../../templates/pipelines/README.md.j2"),
    ),
    (
        "pipelines/config-README.md.j2",
        include_str!("../../templates/pipelines/config-README.md.j2"),
    ),
];

/// The loaded templates: the defaults, with the project's overrides on top.
pub struct Templates {
    env: Environment<'static>,
    overrides: BTreeMap<String, FileId>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("overrides", &self.overrides)
            .finish()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Templates::with_overrides(Vec::new(), &SourceMap::default()).0
    }
}

/// Quotes a value for a POSIX shell: `it's` → `'it'\''s'`.
pub fn shell_quote(value: &str) -> String {
    shlex::try_quote(value).map_or_else(|_| "''".to_owned(), |q| q.into_owned())
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .unwrap_or_default(),
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("shell_quote", |v: String| shell_quote(&v));
    env.add_filter("format_code", |v: String| format!("`{v}`"));
    env
}

impl Templates {
    /// The paths of the templates the project overrides (`templates/hosts/Caddyfile`),
    /// sorted.
    pub fn overridden(&self) -> Vec<String> {
        self.overrides
            .keys()
            .map(|name| format!("{TEMPLATES}/{name}"))
            .collect()
    }

    /// Loads the defaults and every override under `templates/` (in the input files)
    /// that names a default template. Override files are added to `sources` so errors
    /// in them are located.
    pub fn load(files: &Files, sources: &mut SourceMap) -> (Templates, Vec<Diagnostic>) {
        let mut overrides = Vec::new();
        let mut diags = Vec::new();
        for (name, _) in DEFAULTS {
            let rel = format!("{TEMPLATES}/{name}");
            let Some(entry) = files.get(&rel) else {
                continue;
            };
            match crate::model::load::add_source(entry, &files.source_path(&rel), sources) {
                Ok(id) => overrides.push(((*name).to_owned(), id)),
                Err(d) => diags.push(*d),
            }
        }
        let (templates, more) = Templates::with_overrides(overrides, sources);
        diags.extend(more);
        (templates, diags)
    }

    fn with_overrides(
        overrides: Vec<(String, FileId)>,
        sources: &SourceMap,
    ) -> (Templates, Vec<Diagnostic>) {
        let mut env = environment();
        let mut diags = Vec::new();
        let mut by_name = BTreeMap::new();
        for (name, text) in DEFAULTS {
            let text = overrides.iter().find(|(n, _)| n == name).map_or_else(
                || (*text).to_owned(),
                |(_, id)| sources.file(*id).text.clone(),
            );
            if let Err(e) = env.add_template_owned((*name).to_owned(), text) {
                let file = overrides.iter().find(|(n, _)| n == name).map(|(_, id)| *id);
                diags.push(template_error(&e, file, sources));
            }
        }
        for (name, id) in overrides {
            by_name.insert(name, id);
        }
        (
            Templates {
                env,
                overrides: by_name,
            },
            diags,
        )
    }

    /// Renders template `name` with `context`. On failure, returns a diagnostic located
    /// in the override file when the template came from the project.
    pub fn render<S: Serialize>(
        &self,
        name: &str,
        context: S,
        sources: &SourceMap,
    ) -> Result<String, Box<Diagnostic>> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(&context)))
            .map_err(|e| {
                Box::new(template_error(
                    &e,
                    self.overrides.get(name).copied(),
                    sources,
                ))
            })
    }
}

fn template_error(e: &minijinja::Error, file: Option<FileId>, sources: &SourceMap) -> Diagnostic {
    let mut message = format!("template {}: {}", e.name().unwrap_or("?"), e.kind());
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    let span = file.zip(e.line()).map(|(id, line)| {
        let text = &sources.file(id).text;
        let start: usize = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        Span::new(id, start, start)
    });
    let d = Diagnostic::error(checks::TEMPLATE, message).at(span);
    if file.is_some() {
        d.help("the project overrides this template under templates/; fix it or delete it to use kiln's default")
    } else {
        d.help("this is a bug in kiln's built-in template; please report it")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_parses() {
        let (_, diags) = Templates::with_overrides(Vec::new(), &SourceMap::default());
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn undefined_variables_are_errors_and_values_can_be_shell_quoted() {
        let env = environment();
        let t = env.template_from_str("{{ missing }}").unwrap();
        assert!(t.render(minijinja::context! {}).is_err());
        let t = env.template_from_str("echo {{ v | shell_quote }}").unwrap();
        let line = t
            .render(minijinja::context! { v => "it's $HOME; rm -rf /" })
            .unwrap();
        assert_eq!(
            shlex::split(&line).unwrap(),
            ["echo", "it's $HOME; rm -rf /"]
        );
        assert!(
            !line.contains(" $HOME"),
            "the variable must not expand: {line}"
        );
    }
}
