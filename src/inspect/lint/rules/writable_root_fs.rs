use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject, cluster_workloads};

/// A container whose root filesystem is writable.
pub(crate) struct WritableRootFs;

impl Rule for WritableRootFs {
    fn code(&self) -> &'static str {
        "K004"
    }

    fn name(&self) -> &'static str {
        "writable-root-fs"
    }

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn doc(&self) -> &'static str {
        r#"## What it does
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
"#
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
