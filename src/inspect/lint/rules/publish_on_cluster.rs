use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::model::Placement;

/// `publish` on an app that runs on a cluster, where it does nothing.
pub(crate) struct PublishOnCluster;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K020",
    name: "publish-on-cluster",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "An app on a cluster with `publish`, which only a host does: nothing is published.",
    fix: "reach it through a route, or give it `service: {type: LoadBalancer}` (or `NodePort`); keep `publish` for the environments where it runs on a host",
    doc: r#"## What it does
Flags `publish` (the main port's, or `ports.<name>.publish`) on an app that an
environment places on a cluster. Publishing binds a port of a host; on a cluster the
app's ports are its Service's, and `publish` is not written anywhere.

## Why is this bad?
The model says the port is reachable at an address it is not: a client that follows it
gets no answer, and nothing else tells you why.

## Example
```yaml
apps:
  dns:
    runsOn: lab            # a cluster
    ports:
      dns: {port: 53, protocol: udp, publish: {address: 0.0.0.0}}
```
Use instead:
```yaml
apps:
  dns:
    runsOn: lab
    ports:
      dns: {port: 53, protocol: udp}
    service: {type: LoadBalancer}
```

## How to fix
On a cluster, reach the app through a route or its Service (`service.type:
LoadBalancer` or `NodePort`). If the app runs on a host in another environment, set
`publish` in that environment's file only.
"#,
};

impl Rule for PublishOnCluster {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                let Some(Placement::Cluster(cluster, _)) = env.model.placement(app) else {
                    continue;
                };
                let mut fields = Vec::new();
                if app.publish.is_some() {
                    fields.push("/publish".to_owned());
                }
                for (port, p) in &app.ports {
                    if p.publish.is_some() {
                        fields.push(format!("/ports/{}/publish", crate::pointer::escape(port)));
                    }
                }
                for field in fields {
                    let d = sink
                        .diagnostic(format!(
                            "`{name}` runs on cluster `{cluster}` in `{}`, where `publish` does nothing",
                            env.name
                        ))
                        .at(env.key_span(&format!("/apps/{name}{field}")));
                    sink.report(env, Subject::App(name.as_str()), d);
                }
            }
        }
    }
}
