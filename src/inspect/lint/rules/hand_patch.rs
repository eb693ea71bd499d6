use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};

/// A hand patch: something kiln writes that the model does not say.
pub(crate) struct HandPatch;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K019",
    name: "hand-patch",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "A hand patch (`patches`) changes what kiln writes outside the model.",
    fix: "say it in the model when it can (and drop the patch), or waive the rule for the app with the reason the patch is needed",
    doc: r#"## What it does
Names every hand patch of an app (`patches.kubernetes`, each one, and `patches.compose`)
in each environment: kiln applies them and checks that they apply, but what they change
is outside the model, so none of kiln's other checks reason about it (the lint rules
read the objects kiln builds, before the patches).

## Why is this bad?
A patch is kept by hand: it does not move with the app between a cluster and a host,
another environment does not get it unless its file says so too, and a later kiln that
writes the field itself may conflict with it. The runbook lists every patch so a reader
sees them; this warning keeps them in sight of whoever builds.

## Example
```yaml
apps:
  web:
    patches:
      kubernetes:
        - jsonPatch:
            - {op: add, path: /spec/template/spec/dnsConfig, value: {options: [{name: ndots, value: "2"}]}}
```

## How to fix
Use the model's field when there is one (`ports`, `volumes`, `security`...), or keep the
patch and waive the rule with why it is needed: `waive: {hand-patch: "kiln has no
dnsConfig yet"}`.
"#,
};

impl Rule for HandPatch {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                let at = format!("/apps/{name}/patches");
                for (i, patch) in app.patches.kubernetes.iter().enumerate() {
                    let target = match (&patch.target.kind, &patch.target.name) {
                        (None, None) => "its workload".to_owned(),
                        (kind, target) => format!(
                            "{} `{}`",
                            kind.as_deref().unwrap_or(app.kind.kind()),
                            target.as_deref().unwrap_or(name.as_str())
                        ),
                    };
                    let d = sink
                        .diagnostic(format!(
                            "patch {} of `{name}` in `{}` ({} on {target}) is outside the model",
                            i + 1,
                            env.name,
                            patch.form()
                        ))
                        .at(env.span(&format!("{at}/kubernetes/{i}")));
                    sink.report(env, Subject::App(name.as_str()), d);
                }
                if app.patches.compose.is_some() {
                    let d = sink
                        .diagnostic(format!(
                            "the compose patch of `{name}` in `{}` is outside the model",
                            env.name
                        ))
                        .at(env.span(&format!("{at}/compose")));
                    sink.report(env, Subject::App(name.as_str()), d);
                }
            }
        }
    }
}
