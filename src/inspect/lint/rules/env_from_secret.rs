use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::validate::references::is_env_name;

/// `envFrom` of a secret whose keys are not variable names.
pub(crate) struct EnvFromSecret;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K011",
    name: "env-from-secret",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A whole secret taken as environment variables when a key is not a variable name.",
    fix: "list the variables under `env` with `{secret: NAME, key: KEY}` instead of `envFrom`",
    doc: r#"## What it does
Flags an app that takes a whole secret as environment variables (`envFrom`) when one of
the secret's keys is not a valid variable name.

## Why is this bad?
Kubernetes secret keys conventionally use hyphens (`database-url`); programs expect
`DATABASE_URL`. With `envFrom` such keys are skipped or unusable, and the app starts with
its configuration silently missing (seed 004's lesson).

## Example
```yaml
apps:
  web:
    envFrom: [web-secrets]     # keys: database-url, auth-secret
```
Use instead explicit variables:
```yaml
apps:
  web:
    env:
      DATABASE_URL: {secret: web-secrets, key: database-url}
      AUTH_SECRET: {secret: web-secrets, key: auth-secret}
```

## How to fix
Replace `envFrom` with one `env` entry per key the app reads, each naming a valid
variable: `DATABASE_URL: {secret: web-secrets, key: database-url}`.
"#,
};

impl Rule for EnvFromSecret {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                for (i, secret_name) in app.env_from.iter().enumerate() {
                    let Some(secret) = env.model.secrets.get(secret_name) else {
                        continue;
                    };
                    let bad: Vec<&str> = secret
                        .keys
                        .keys()
                        .map(String::as_str)
                        .filter(|k| !is_env_name(k))
                        .collect();
                    if !bad.is_empty() {
                        let d = sink
                            .diagnostic(format!(
                                "`{name}` takes every key of `{secret_name}` as a variable, but {}",
                                if bad.len() == 1 {
                                    format!("`{}` is not a variable name", bad[0])
                                } else {
                                    format!("{} are not variable names", bad.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
                                }
                            ))
                            .at(env.span(&format!("/apps/{name}/envFrom/{i}")))
                            .label(env.key_span(&format!("/secrets/{secret_name}/keys/{}", bad[0])), "this key")
                            .help(format!("list the variables under `env` with `{{secret: {secret_name}, key: ...}}`"));
                        sink.report(env, Subject::App(name.as_str()), d);
                    }
                }
            }
        }
    }
}
