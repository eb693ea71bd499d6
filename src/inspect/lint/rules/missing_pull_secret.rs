use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::model::Placement;

/// A private registry without a pull secret.
pub(crate) struct MissingPullSecret;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K005",
    name: "missing-pull-secret",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "An app on a cluster pulls from a private registry that names no pull secret.",
    fix: "name a `docker-registry` secret as the registry's `pullSecret` and seal it",
    doc: r#"## What it does
Flags an app on a cluster whose image comes from a private registry that names no
`pullSecret`.

## Why is this bad?
A private registry (a private GitLab project's registry inherits the project's
visibility) refuses anonymous pulls: every pod sits in `ImagePullBackOff`. kiln puts the
pull secret in every namespace that pulls from the registry and lists it in
`imagePullSecrets`, but only when the registry names one.

## Example
```yaml
registries:
  gitlab:
    host: registry.example.com
    private: true          # no pullSecret: pods cannot pull
```
Use instead:
```yaml
registries:
  gitlab:
    host: registry.example.com
    private: true
    pullSecret: gitlab-registry
```

## How to fix
Define a secret of type `docker-registry` with the registry's `username` and `password`,
name it as the registry's `pullSecret`, and seal it with `kiln seal`.
"#,
};

impl Rule for MissingPullSecret {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            let m = &env.model;
            for (name, app) in m.enabled_apps() {
                let Some(image) = &app.image else { continue };
                if !matches!(m.placement(app), Some(Placement::Cluster(..))) {
                    continue;
                }
                let Some(registry) = m.registries.get(&image.registry) else {
                    continue;
                };
                if registry.private && registry.pull_secret.is_none() {
                    let d = sink
                        .diagnostic(format!(
                            "`{name}` pulls from private registry `{}`, which has no pull secret",
                            image.registry
                        ))
                        .at(env.span(&format!("/registries/{}", image.registry)))
                        .label(
                            env.span(&format!("/apps/{name}/image/registry")),
                            "pulled here",
                        );
                    sink.report(env, Subject::App(name.as_str()), d);
                }
            }
        }
    }
}
