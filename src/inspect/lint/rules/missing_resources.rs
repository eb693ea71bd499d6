use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject, cluster_workloads};

/// An app on a cluster without CPU and memory requests and a memory limit.
pub(crate) struct MissingResources;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K003",
    name: "missing-resources",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "An app on a cluster without CPU and memory requests and a memory limit.",
    fix: "set `resources: {requests: {cpu: ..., memory: ...}, limits: {memory: ...}}` from what the app uses",
    doc: r#"## What it does
Flags an app running on a cluster that does not request CPU and memory and limit its
memory.

## Why is this bad?
Without requests the scheduler packs pods onto nodes that cannot run them (a Raspberry Pi
runs out of memory first); without a memory limit one leaking pod takes its node down
with every other app on it.

## Example
```yaml
apps:
  web:
    port: 8080          # no resources
```
Use instead:
```yaml
apps:
  web:
    resources:
      requests: {cpu: 50m, memory: 64Mi}
      limits: {memory: 128Mi}
```

## How to fix
Set `resources.requests.cpu`, `resources.requests.memory` and `resources.limits.memory`
from what the app uses under load (`kubectl top pod`), with headroom.
"#,
};

impl Rule for MissingResources {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for (env, name, app) in cluster_workloads(cx) {
            let r = app.resources.as_ref();
            let requests = r.and_then(|r| r.requests.as_ref());
            let limits = r.and_then(|r| r.limits.as_ref());
            let mut missing = Vec::new();
            if requests.and_then(|q| q.cpu.as_ref()).is_none() {
                missing.push("a CPU request");
            }
            if requests.and_then(|q| q.memory.as_ref()).is_none() {
                missing.push("a memory request");
            }
            if limits.and_then(|q| q.memory.as_ref()).is_none() {
                missing.push("a memory limit");
            }
            if !missing.is_empty() {
                let d = sink
                    .diagnostic(format!("`{name}` lacks {}", missing.join(", ")))
                    .at(env.key_span(&format!("/apps/{name}/resources")));
                sink.report(env, Subject::App(name.as_str()), d);
            }
        }
    }
}
