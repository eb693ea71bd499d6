use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject, cluster_workloads};

/// An app on a cluster with no health endpoint.
pub(crate) struct MissingProbes;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K002",
    name: "missing-probes",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "An app on a cluster without a health endpoint, so its pods get no probes.",
    fix: "add a health endpoint: `health: {path: /healthz}` (kiln derives both probes from it)",
    doc: r#"## What it does
Flags an app running on a cluster that declares no `health` endpoint, so its pods get no
liveness or readiness probe.

## Why is this bad?
Without a readiness probe, traffic reaches pods before they can serve it and a rollout
"succeeds" with a broken version; without a liveness probe a hung process is never
restarted. Flux's `wait` and the pipelines' rollout checks also rely on readiness.

## Example
```yaml
apps:
  web:
    port: 8080          # no health: no probes
```
Use instead:
```yaml
apps:
  web:
    port: 8080
    health: {path: /healthz}
```

## How to fix
Give the app `health: {path: ...}` (an HTTP endpoint that answers 200 when it can serve);
kiln writes the liveness and readiness probes from it. A worker without HTTP waives the
rule with that reason.
"#,
};

impl Rule for MissingProbes {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for (env, name, app) in cluster_workloads(cx) {
            if app.health.is_none() {
                let d = sink
                    .diagnostic(format!(
                        "`{name}` has no health endpoint, so no liveness or readiness probe"
                    ))
                    .at(env.key_span(&format!("/apps/{name}")));
                sink.report(env, Subject::App(name.as_str()), d);
            }
        }
    }
}
