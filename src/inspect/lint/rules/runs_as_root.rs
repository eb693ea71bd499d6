use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject, cluster_workloads, locate};

/// A container that runs as root.
pub(crate) struct RunsAsRoot;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K006",
    name: "runs-as-root",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "An app or pod that runs as root.",
    fix: "run the app as a non-root user its image supports: `security: {runAsUser: 10001}`",
    doc: r#"## What it does
Flags an app configured to run as user 0, and any pod in the output that does not set
`runAsNonRoot: true`.

## Why is this bad?
Pod Security "restricted", which kiln's namespaces enforce by default, rejects such pods
outright. Beyond that, root in a container is one kernel bug away from root on the
node. If an image truly needs root, say so with `security: {root: {reason: ...}}`
and give its group `podSecurity: baseline` (`groups: {legacy: {podSecurity:
baseline}}`; kiln refuses a root pod its namespace would reject).

## Example
```yaml
apps:
  legacy:
    security: {runAsUser: 0}
```
Use instead a non-root user the image supports:
```yaml
apps:
  legacy:
    security: {runAsUser: 10001}
```

## How to fix
Set `security.runAsUser` to a non-root user the image supports (most images document
one; otherwise rebuild the image with a `USER`). If it truly needs root, waive the rule
with the reason and lower its group's `podSecurity` (`groups.<group>.podSecurity`).
"#,
};

impl Rule for RunsAsRoot {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for (env, name, app) in cluster_workloads(cx) {
            // `security.root` states its reason in the model: no waiver needed.
            if app.security.run_as_user == 0 && app.security.root.is_none() {
                let d = sink
                    .diagnostic(format!("`{name}` runs as root"))
                    .at(env.span(&format!("/apps/{name}/security/runAsUser")));
                sink.report(env, Subject::App(name.as_str()), d);
            }
        }
        for object in cx.objects() {
            let spec = &object.value["spec"];
            let pod = if spec["jobTemplate"].is_object() {
                &spec["jobTemplate"]["spec"]["template"]["spec"]
            } else {
                &spec["template"]["spec"]
            };
            if !pod.is_object() || pod["securityContext"]["runAsNonRoot"] == true {
                continue;
            }
            let (env, subject, span) = locate(cx, &object.path);
            // The app-level finding above already covers apps configured as root.
            let configured_root = matches!(subject, Subject::App(a) if env.is_some_and(|e| e.model.apps.get(a).is_some_and(|a| a.security.is_root())));
            if let (Some(env), false) = (env, configured_root) {
                let d = sink
                    .diagnostic(format!(
                        "out/{}: the pod does not set runAsNonRoot",
                        object.path
                    ))
                    .at(span);
                sink.report(env, subject, d);
            }
        }
    }
}
