//! Lint rules: checks of meaning over the whole model and its rendered output, each
//! in one file under `rules/`, each listed once in [`RULES`].
//!
//! A rule has an entry in the check registry ([`crate::diagnostic::checks`]), declared
//! in its file: a stable code, a kebab-case name that names the problem, a default
//! severity, a fix hint and documentation with the headings *What it does*, *Why is
//! this bad?*, *Example* and *How to fix*. An app or a registry can waive a rule with a written reason
//! (`waive: {rule-name: "why"}`); a waiver without a reason, or for a rule that does
//! not exist, is an error.

mod rules;

use crate::diagnostic::{Check, Diagnostic, Diagnostics, Severity, checks};
use crate::model::{Environment, Project};
use crate::render::OutputTree;
use rayon::prelude::*;
use std::sync::Arc;

pub use rules::RULES;

/// What rules look at.
pub struct LintContext<'a> {
    /// The model.
    pub project: &'a Project,
    /// What a build would write.
    pub output: &'a OutputTree,
    /// What the committed output holds that rules compare against, when known.
    pub state: Option<&'a crate::model::State>,
    /// The templates the project overrides (their paths, `templates/...`), which a
    /// broken reference between generated files may come from.
    pub overrides: Vec<String>,
    objects: std::sync::OnceLock<Vec<OutputObject>>,
    /// App → the indexes in `objects` of its objects.
    by_app: std::sync::OnceLock<std::collections::BTreeMap<String, Vec<usize>>>,
}

/// One YAML document kiln would write, as data.
#[derive(Debug)]
pub struct OutputObject {
    /// Its path under `out/`.
    pub path: String,
    /// Its environment (None: shared).
    pub env: Option<String>,
    /// Where its file comes from.
    pub provenance: crate::layout::Provenance,
    /// The document.
    pub value: Arc<serde_json::Value>,
}

impl<'a> LintContext<'a> {
    /// Rules over `project` and what a build would write.
    pub fn new(project: &'a Project, output: &'a OutputTree) -> Self {
        LintContext {
            project,
            output,
            state: None,
            overrides: Vec::new(),
            objects: std::sync::OnceLock::new(),
            by_app: std::sync::OnceLock::new(),
        }
    }

    /// The same, comparing with what the committed output holds.
    #[must_use]
    pub fn with_state(mut self, state: &'a crate::model::State) -> Self {
        self.state = Some(state);
        self
    }

    /// The same, knowing which templates the project overrides.
    #[must_use]
    pub fn with_overrides(mut self, overrides: Vec<String>) -> Self {
        self.overrides = overrides;
        self
    }

    /// Every Kubernetes object (a YAML document with `apiVersion` and `kind`) in the
    /// output, read once for all rules (from the data renderers kept, without parsing
    /// the bytes again when they did).
    pub fn objects(&self) -> &[OutputObject] {
        self.objects.get_or_init(|| {
            self.output
                .iter()
                .filter(|(p, _)| p.ends_with(".yaml") && !crate::layout::is_patch(p))
                .filter_map(|(path, file)| {
                    let value = match &file.data {
                        Some(data) => Arc::clone(data),
                        None => {
                            let text = std::str::from_utf8(&file.bytes).ok()?;
                            if !text.contains("\nkind: ") {
                                return None;
                            }
                            Arc::new(serde_saphyr::from_str(text).ok()?)
                        }
                    };
                    value.get("apiVersion")?;
                    value.get("kind")?;
                    Some(OutputObject {
                        path: path.clone(),
                        env: file.env().map(str::to_owned),
                        provenance: file.provenance.clone(),
                        value,
                    })
                })
                .collect()
        })
    }
}

impl LintContext<'_> {
    /// The objects of app `app`, whatever target wrote them (by their files'
    /// provenance), in path order.
    pub fn objects_of_app<'s>(&'s self, app: &str) -> impl Iterator<Item = &'s OutputObject> {
        let index = self.by_app.get_or_init(|| {
            let mut index: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
            for (i, o) in self.objects().iter().enumerate() {
                if let Some(app) = &o.provenance.app {
                    index.entry(app.clone()).or_default().push(i);
                }
            }
            index
        });
        let all = self.objects();
        index.get(app).into_iter().flatten().map(move |&i| &all[i])
    }
}

/// What a finding is about, for waivers.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    /// An app (waived under `apps.<name>.waive`).
    App(&'a str),
    /// A registry (waived under `registries.<name>.waive`).
    Registry(&'a str),
    /// Nothing that can waive it.
    None,
}

/// A lint rule.
pub trait Rule: Sync {
    /// The rule's entry in the check registry ([`crate::diagnostic::checks`]): its
    /// code (`K0xx`), name, default severity, summary, fix hint and documentation,
    /// declared once in the rule's file.
    fn entry(&self) -> &'static Check;
    /// Stable code, e.g. `K001`.
    fn code(&self) -> &'static str {
        self.entry().code
    }
    /// Kebab-case name of the problem, e.g. `latest-image-tag`.
    fn name(&self) -> &'static str {
        self.entry().name
    }
    /// Error or warning.
    fn severity(&self) -> Severity {
        self.entry().kind.severity()
    }
    /// Markdown documentation: *What it does*, *Why is this bad?*, *Example*, *How to
    /// fix*.
    fn doc(&self) -> &'static str {
        self.entry().doc
    }
    /// Reports every violation into `sink`.
    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>);
}

/// Where a rule reports; applies waivers and the rule's identity.
pub struct Sink<'a> {
    rule: &'a dyn Rule,
    diags: &'a mut Diagnostics,
}

impl Sink<'_> {
    /// Reports a violation concerning `subject` in `env`, unless it waives this rule.
    pub fn report(&mut self, env: &Environment, subject: Subject<'_>, diagnostic: Diagnostic) {
        let name = self.rule.name();
        let waived = match subject {
            Subject::App(app) => env
                .model
                .apps
                .get(app)
                .is_some_and(|a| a.waive.contains_key(name)),
            Subject::Registry(r) => env
                .model
                .registries
                .get(r)
                .is_some_and(|r| r.waive.contains_key(name)),
            Subject::None => false,
        };
        if waived {
            return;
        }
        // How to fix it comes first, then how to waive it.
        let diagnostic = if diagnostic.help.is_empty() {
            let fix = diagnostic.fix;
            diagnostic.help(fix)
        } else {
            diagnostic
        };
        let hint = match subject {
            Subject::App(app) => format!(
                "if it does not apply, waive it with a reason: `apps.{app}.waive: {{{name}: \"why\"}}`"
            ),
            Subject::Registry(r) => format!(
                "if it does not apply, waive it with a reason: `registries.{r}.waive: {{{name}: \"why\"}}`"
            ),
            Subject::None => format!("`kiln explain {name}` explains this rule"),
        };
        self.diags.push(diagnostic.help(hint));
    }

    /// A diagnostic with this rule's identity and severity.
    pub fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(*self.rule.entry(), message)
    }
}

/// Every enabled app that runs on a cluster, per environment.
pub fn cluster_workloads<'a>(
    cx: &LintContext<'a>,
) -> Vec<(
    &'a Environment,
    &'a crate::model::Name,
    &'a crate::model::App,
)> {
    let mut out = Vec::new();
    for env in &cx.project.environments {
        // A data service has no workload of its own, only its database.
        for (name, app) in env
            .model
            .enabled_apps()
            .filter(|(_, a)| !a.is_data_service())
        {
            if matches!(
                env.model.placement(app),
                Some(crate::model::Placement::Cluster(..))
            ) {
                out.push((env, name, app));
            }
        }
    }
    out
}

/// Where in the model a generated file comes from: the environment, what can waive a
/// finding about it (its app, when it has one) and the span to point at, all read from
/// the file's [`crate::layout::Provenance`] (see [`crate::layout::Provenance::locate`]).
/// A path the output does not hold points at the first environment.
pub fn locate<'a>(
    cx: &LintContext<'a>,
    path: &str,
) -> (
    Option<&'a Environment>,
    Subject<'a>,
    Option<crate::diagnostic::Span>,
) {
    let output: &'a OutputTree = cx.output;
    let Some(provenance) = output.get(path).map(|f| &f.provenance) else {
        let env = cx.project.environments.first();
        return (env, Subject::None, env.and_then(|e| e.span("")));
    };
    let (env, span) = provenance.locate(cx.project);
    let subject = match &provenance.app {
        Some(app) => Subject::App(app.as_str()),
        None => Subject::None,
    };
    (env, subject, span)
}

/// Runs every rule (in parallel, each into its own diagnostics, merged in `RULES`
/// order), then checks the waivers themselves.
pub fn run(cx: &LintContext<'_>, diags: &mut Diagnostics) {
    // The objects every rule reads, prepared once before the rules start.
    cx.objects();
    let found: Vec<Diagnostics> = RULES
        .par_iter()
        .map(|rule| {
            let mut diags = Diagnostics::default();
            let mut sink = Sink {
                rule: *rule,
                diags: &mut diags,
            };
            rule.check(cx, &mut sink);
            diags
        })
        .collect();
    for d in found {
        diags.append(d);
    }
    for env in &cx.project.environments {
        let apps = env
            .model
            .apps
            .iter()
            .map(|(n, a)| (format!("/apps/{n}"), &a.waive));
        let registries = env
            .model
            .registries
            .iter()
            .map(|(n, r)| (format!("/registries/{n}"), &r.waive));
        for (owner, waive) in apps.chain(registries) {
            for (rule, reason) in waive {
                let pointer = format!("{owner}/waive/{rule}");
                let checkov = crate::render::kubernetes::is_checkov_id(rule);
                if !checkov && !RULES.iter().any(|r| r.name() == rule) {
                    diags.push(
                        Diagnostic::error(checks::WAIVER, format!("no rule is named `{rule}`"))
                            .at(env.key_span(&pointer))
                            .did_you_mean(rule, RULES.iter().map(|r| r.name()))
                            .help("`kiln rules --family lint` lists kiln's rules; checkov checks are waived by their id, e.g. `CKV_K8S_43`"),
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
