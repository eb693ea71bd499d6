use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject, cluster_workloads};

/// A container whose root filesystem is writable.
pub(crate) struct WritableRootFs;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K004",
    name: "writable-root-fs",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "An app on a cluster whose root file system is writable.",
    fix: "drop `readOnlyRootFilesystem: false` and list the directories the app writes under `security.writablePaths`",
    doc: r#"## What it does
Flags an app on a cluster with `security.readOnlyRootFilesystem: false`.

## Why is this bad?
An attacker who gets code execution can change the image's binaries and configuration,
and a process that writes to its image layer fills the node's disk. Most apps need only
a few writable directories; list them instead.

## Example
```yaml
apps:
  web:
    security: {readOnlyRootFilesystem: false}
```
Use instead:
```yaml
apps:
  web:
    security:
      writablePaths: [/tmp, /var/cache/nginx]
```

## How to fix
Remove `security.readOnlyRootFilesystem: false` and list the directories the app writes
under `security.writablePaths`; kiln mounts an `emptyDir` on each.
"#,
};

impl Rule for WritableRootFs {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for (env, name, app) in cluster_workloads(cx) {
            if !app.security.read_only_root_filesystem {
                let d = sink
                    .diagnostic(format!("`{name}` can write to its root filesystem"))
                    .at(env.span(&format!("/apps/{name}/security/readOnlyRootFilesystem")))
                    .help("list the directories it writes under `security.writablePaths` instead");
                sink.report(env, Subject::App(name.as_str()), d);
            }
        }
    }
}
