//! Lint rules: checks of meaning over the whole model and its rendered output, each
//! in one file under `rules/`, each listed once in [`RULES`].
//!
//! A rule has a stable code, a kebab-case name that names the problem, a default
//! severity and documentation with the headings *What it does*, *Why is this bad?*
//! and *Example*. An app can waive a rule with a written reason
//! (`waive: {rule-name: "why"}`); a waiver without a reason, or for a rule that does
//! not exist, is an error.

mod rules;

use crate::diagnostic::{Check, Diagnostic, Diagnostics, Severity, checks};
use crate::model::{Environment, Project};
use crate::render::OutputTree;

pub use rules::RULES;

/// What rules look at.
pub struct LintContext<'a> {
    /// The model.
    pub project: &'a Project,
    /// What a build would write.
    pub output: &'a OutputTree,
}

/// A lint rule.
pub trait Rule: Sync {
    /// Stable code, e.g. `K001`.
    fn code(&self) -> &'static str;
    /// Kebab-case name of the problem, e.g. `latest-image-tag`.
    fn name(&self) -> &'static str;
    /// Error or warning.
    fn severity(&self) -> Severity;
    /// Markdown documentation: *What it does*, *Why is this bad?*, *Example*.
    fn doc(&self) -> &'static str;
    /// Reports every violation into `sink`.
    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>);
}

/// Where a rule reports; applies waivers and the rule's identity.
pub struct Sink<'a> {
    rule: &'a dyn Rule,
    diags: &'a mut Diagnostics,
}

impl Sink<'_> {
    /// Reports a violation concerning `app` in `env` (waivable by that app).
    pub fn report(&mut self, env: &Environment, app: Option<&str>, diagnostic: Diagnostic) {
        if let Some(app) = app
            && env
                .model
                .apps
                .get(app)
                .is_some_and(|a| a.waive.contains_key(self.rule.name()))
        {
            return;
        }
        self.diags.push(diagnostic);
    }

    /// A diagnostic with this rule's identity and severity.
    pub fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        let check = Check {
            code: self.rule.code(),
            name: self.rule.name(),
        };
        Diagnostic::new(self.rule.severity(), check, message).help(format!(
            "see `kiln rules {}`; waive it for one app with `waive: {{{}: \"why\"}}`",
            self.rule.name(),
            self.rule.name()
        ))
    }
}

/// Runs every rule, then checks the waivers themselves.
pub fn run(cx: &LintContext<'_>, diags: &mut Diagnostics) {
    for rule in RULES {
        let mut sink = Sink { rule: *rule, diags };
        rule.check(cx, &mut sink);
    }
    for env in &cx.project.environments {
        for (app_name, app) in &env.model.apps {
            for (rule, reason) in &app.waive {
                let pointer = format!("/apps/{app_name}/waive/{rule}");
                if !RULES.iter().any(|r| r.name() == rule) {
                    diags.push(
                        Diagnostic::error(checks::WAIVER, format!("no rule is named `{rule}`"))
                            .at(env.key_span(&pointer))
                            .help("`kiln rules` lists them"),
                    );
                } else if reason.trim().is_empty() {
                    diags.push(
                        Diagnostic::error(
                            checks::WAIVER,
                            format!("the waiver of `{rule}` gives no reason"),
                        )
                        .at(env.key_span(&pointer))
                        .help("say why the rule does not apply to this app"),
                    );
                }
            }
        }
    }
}

/// Whether a diagnostic comes from a lint rule (a finding) rather than from invalid
/// input.
pub fn is_rule(d: &Diagnostic) -> bool {
    RULES.iter().any(|r| r.code() == d.code)
}
