use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};

/// An app on a cluster or a host with no health check.
pub(crate) struct MissingProbes;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K002",
    name: "missing-probes",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "An app without a health check, so its pods get no probes and its compose service no health check.",
    fix: "add a health check: `health: {path: /healthz}` (HTTP), `health: {tcp: true}` or `health: {command: [...]}` (kiln derives every probe from it)",
    doc: r#"## What it does
Flags an app on a cluster or a host that declares no `health` check, so its pods get no
liveness or readiness probe and its compose service no health check.

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
Give the app `health: {path: ...}` (an HTTP endpoint that answers 200 when it can serve),
`health: {tcp: true}` (its port accepts a connection) or `health: {command: [...]}`; kiln
writes the probes and the compose health check from it (on a host, an HTTP probe also
names `tool: wget | curl`). An app that cannot be checked waives the rule with that reason.
"#,
};

impl Rule for MissingProbes {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                if app.health.is_some()
                    || app.kind == crate::model::WorkloadKind::Jobs
                    || app.is_data_service()
                    || env.model.placement(app).is_none()
                {
                    continue;
                }
                let d = sink
                    .diagnostic(format!(
                        "`{name}` has no health check, so no probe on a cluster and no compose health check on a host"
                    ))
                    .at(env.key_span(&format!("/apps/{name}")));
                sink.report(env, Subject::App(name.as_str()), d);
            }
        }
    }
}
