use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::model::{DbPart, EnvValue, KeySource, TemplatePart};

/// A generated secret value that can hold characters a URL cannot, used in a URL.
pub(crate) struct UrlUnsafeSecret;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K015",
    name: "url-unsafe-secret",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A secret value in a URL template that has characters a URL cannot hold.",
    fix: "generate the value with `alphabet: hex` (the default) or `alphanumeric`, then seal it again",
    doc: r#"## What it does
Flags a generated secret key whose alphabet has characters outside the URL-safe set
(`A-Z a-z 0-9 - . _ ~`) when a URL template (`scheme://...`) of another key uses it, or
when it is a database's password and an app takes the database's URL
(`{database: APP, part: url}`).
Values from 1Password or entered by hand are checked the same way by `kiln seal`, when
the value is known.

## Why is this bad?
A `/`, `+`, `=` or `@` inside the password of a `postgresql://` URL (`user:password@host`)
changes how the URL is parsed: Prisma and most drivers then fail to connect, or connect
somewhere else. The Invoicetron migration learned it the hard way and settled on
`openssl rand -hex 20`.

## Example
```yaml
secrets:
  app-db:
    keys:
      password:
        generate: {length: 32, alphabet: base64}
      url:
        template: "postgresql://app:{password}@app-db:5432/app"
```
Use instead:
```yaml
      password:
        generate: {length: 40, alphabet: hex}
```

## How to fix
Generate the key with `alphabet: hex` (the default) or `alphanumeric`; for a value from
1Password or standard input, choose one with only `A-Z a-z 0-9 - . _ ~`. Then seal it
again (`kiln seal --cert CERT.pem --rotate SECRET`).
"#,
};

impl Rule for UrlUnsafeSecret {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            let m = &env.model;
            // Connection URLs (`{database: APP, part: url}`) hold the database's password.
            for (app, a) in m.enabled_apps() {
                for (pointer, value) in a.all_env() {
                    let EnvValue::Database(d) = value else {
                        continue;
                    };
                    if d.part != DbPart::Url {
                        continue;
                    }
                    let Some(r) = m.env_secret(value) else {
                        continue;
                    };
                    let Some(KeySource::Generate(g)) =
                        m.secrets.get(&r.secret).and_then(|x| x.keys.get(&r.key))
                    else {
                        continue;
                    };
                    if g.generate.alphabet.is_url_safe() {
                        continue;
                    }
                    let d = sink
                        .diagnostic(format!(
                            "`{}.{}` is generated from the `{}` alphabet, which is not URL-safe, and `{app}`'s `{}` puts it in the URL of the database of `{}`",
                            r.secret,
                            r.key,
                            g.generate.alphabet.as_str(),
                            pointer.rsplit('/').next().unwrap_or_default(),
                            d.database
                        ))
                        .at(env.span(&format!("/secrets/{}/keys/{}/generate", r.secret, r.key)))
                        .label(env.span(&format!("/apps/{app}{pointer}")), "used in this URL")
                        .help("use `alphabet: hex` (the default) or `alphanumeric`");
                    sink.report(env, Subject::None, d);
                }
            }
            for (name, secret) in &m.secrets {
                for (key, source) in &secret.keys {
                    let KeySource::Template(t) = source else {
                        continue;
                    };
                    if !t.is_url() {
                        continue;
                    }
                    for part in t.parts().unwrap_or_default() {
                        let TemplatePart::Key { secret: s, key: k } = part else {
                            continue;
                        };
                        let target = s.unwrap_or_else(|| name.to_string());
                        let Some(KeySource::Generate(g)) =
                            m.secrets.get(target.as_str()).and_then(|x| x.keys.get(&k))
                        else {
                            continue;
                        };
                        if g.generate.alphabet.is_url_safe() {
                            continue;
                        }
                        let d = sink
                            .diagnostic(format!(
                                "`{target}.{k}` is generated from the `{}` alphabet, which is not URL-safe, and `{name}.{key}` puts it in a URL",
                                g.generate.alphabet.as_str()
                            ))
                            .at(env.span(&format!("/secrets/{target}/keys/{k}/generate")))
                            .label(
                                env.span(&format!("/secrets/{name}/keys/{key}/template")),
                                "used in this URL",
                            )
                            .help("use `alphabet: hex` (the default) or `alphanumeric`");
                        sink.report(env, Subject::None, d);
                    }
                }
            }
        }
    }
}
