use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};

/// A registry served over plain HTTP.
pub(crate) struct InsecureRegistry;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K008",
    name: "insecure-registry",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "A registry reached over plain HTTP.",
    fix: "serve the registry over TLS and drop `insecure: true`",
    doc: r#"## What it does
Flags a registry marked `insecure: true` (HTTP, no TLS).

## Why is this bad?
Images and registry credentials cross the network in the clear, and anything on the path
can swap an image. Every node's container runtime and Flux's ImageRepository must also be
told to allow it. Acceptable on an isolated LAN: waive it on the registry with that
reason.

## Example
```yaml
registries:
  harbor: {host: harbor.lan, insecure: true}
```
Use instead TLS (Harbor with a certificate from an internal CA), or state why not:
```yaml
registries:
  harbor:
    host: harbor.lan
    insecure: true
    waive: {insecure-registry: "LAN-only; pulls never leave the home network"}
```

## How to fix
Serve the registry over TLS (a certificate from an internal CA is enough) and remove
`insecure: true`; on an isolated LAN, waive the rule on the registry with that reason.
"#,
};

impl Rule for InsecureRegistry {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, registry) in &env.model.registries {
                if registry.insecure {
                    let d = sink
                        .diagnostic(format!(
                            "registry `{name}` ({}) is served over plain HTTP",
                            registry.host
                        ))
                        .at(env.span(&format!("/registries/{name}/insecure")));
                    sink.report(env, Subject::Registry(name.as_str()), d);
                }
            }
        }
    }
}
