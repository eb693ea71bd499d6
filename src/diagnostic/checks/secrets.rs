//! Secrets: references and literal values in the model, where secrets are placed, the
//! sealed values in `environments/sealed/` and `kiln seal`.

use super::{Check, Kind};

family! {
    SECRETS;

    /// Something references a secret key the model does not define.
    SECRET_REFERENCE = Check { // pragma: allowlist secret
        code: "E0018",
        name: "secret-reference", // pragma: allowlist secret
        kind: Kind::Error,
        summary: "A reference to a secret or a secret key that is not defined.",
        fix: "define the key under the secret's `keys`, or reference a key the secret has",
        doc: r#"## What it does
Checks every `{secret: NAME, key: KEY}` of the model (variables, database passwords,
deploy keys) and every `{NAME.KEY}` in a secret's template against the secrets the
model defines. (After rendering, that every secret a generated pod reads exists with
that key in its namespace is a wiring point: `broken-wire`.)

## Why is this bad?
A pod that reads a missing key does not start (`CreateContainerConfigError`); a
template that names one cannot be sealed.

## Example
```yaml
secrets:
  web: {keys: {api-key: {generate: {length: 32}}}}
apps:
  web:
    env:
      API_KEY: {secret: web, key: apikey}
```

## How to fix
Reference a key the secret defines (`key: api-key`), or add the key to the secret's
`keys` and seal it with `kiln seal`.
"#,
    };

    /// A literal secret value in the model.
    LITERAL_SECRET = Check { // pragma: allowlist secret
        code: "E0020",
        name: "literal-secret", // pragma: allowlist secret
        kind: Kind::Error,
        summary: "A secret value written into the model as text.",
        fix: "define the value as a secret key (1Password, generated, or entered at `kiln seal`) and reference it with `{secret: NAME, key: KEY}`",
        doc: r#"## What it does
Reports a secret key given as a literal value, and an app variable whose name or value
looks like a credential (a password, a token, a private key) written as plain text.

## Why is this bad?
The model is committed and copied into `out/`, CI logs and runbooks: a value written
there is no longer secret, and rotating it means rewriting history.

## Example
```yaml
apps:
  web:
    env:
      DATABASE_PASSWORD: hunter2
```

## How to fix
Define a secret whose key says where the value comes from
(`op: op://vault/item/field`, `generate: {length: 40}`, `template:`,
`manual: "where to find it"`), reference it
(`DATABASE_PASSWORD: {secret: web-db, key: password}`), seal it with `kiln seal`, and
rotate the value that was exposed: it is in git history.
"#,
    };

    /// A secret no app uses.
    UNUSED_SECRET = Check {
        code: "W0201",
        name: "unused-secret",
        kind: Kind::Warning,
        summary: "A secret that no app uses in any environment.",
        fix: "list the apps that need it in `usedBy`, make it a registry's `pullSecret`, or delete it",
        doc: r#"## What it does
Warns about a secret that no app lists in `usedBy`, no registry names as its
`pullSecret` and no template of another key uses, in any environment.

## Why is this bad?
It is sealed and placed nowhere, or the app that should read it was forgotten in
`usedBy` and will not find it.

## Example
```yaml
secrets:
  old-api: {keys: {token: {manual: "the vendor's console"}}}    # nothing uses it
```

## How to fix
Add the apps that read it to `usedBy`, name it as a registry's `pullSecret`, or delete
the secret (and its sealed values: `kiln seal` removes them).
"#,
    };

    /// A secret referenced where it is not placed (its `usedBy` misses the app).
    SECRET_NOT_AVAILABLE = Check {
        code: "E0202",
        name: "secret-not-available",
        kind: Kind::Error,
        summary: "An app reads a secret that is not placed where the app runs.",
        fix: "add the app to the secret's `usedBy`",
        doc: r#"## What it does
Places every secret in the namespaces (and hosts) of the apps in its `usedBy`, and
reports an app that reads a secret not placed where it runs.

## Why is this bad?
The app's pod or container references a Secret that does not exist in its namespace
and does not start.

## Example
```yaml
secrets:
  web-db: {usedBy: [web], keys: {password: {generate: {length: 40}}}}
apps:
  worker:
    env:
      DB_PASSWORD: {secret: web-db, key: password}
```

## How to fix
Add the app to the secret's `usedBy` (`usedBy: [web, worker]`) and seal it for the new
namespace with `kiln seal`.
"#,
    };

    /// A placed secret has no sealed value yet (or only some of its keys).
    SECRET_NOT_SEALED = Check {
        code: "W0203",
        name: "secret-not-sealed",
        kind: Kind::Warning,
        summary: "A placed secret has no sealed value for some keys, so its SealedSecret is left out.",
        fix: "seal it with the controller's certificate: `kiln seal --cert cert.pem --env ENV SECRET`",
        doc: r#"## What it does
Warns when a secret placed in a namespace has no sealed value in
`environments/sealed/<env>.yaml` for one or more of its keys. The build leaves that
SealedSecret out.

## Why is this bad?
Until it is sealed, the pods that read the secret do not start in that namespace.

## Example
A new key `api-key` added to secret `web`, before `kiln seal` ran.

## How to fix
Fetch the controller's certificate (`kubeseal --fetch-cert > cert.pem`) and run
`kiln seal --cert cert.pem --env dev web`, then commit `environments/sealed/`.
"#,
    };

    /// The sealed values file could not be read or understood.
    SEALED_FILE = Check {
        code: "E0204",
        name: "sealed-file",
        kind: Kind::Error,
        summary: "A file of `environments/sealed/` is not valid, or a value in it is not a Sealed Secrets ciphertext.",
        fix: "restore the file from git and run `kiln seal` again; never edit sealed values by hand",
        doc: r#"## What it does
Reads `environments/sealed/<env>.yaml` (written by `kiln seal`) and reports a file that
is not the expected layout, and a value that does not have kubeseal's layout (base64 of
a 2-byte length, an RSA block of 2048 to 16384 bits, the AES-GCM payload). The value
itself is never shown.

## Why is this bad?
The controller cannot decrypt such a value: the Secret is never created, and the error
shows only in the controller's logs after the deploy.

## Example
```yaml
clusters:
  lab:
    web-dev:
      web:
        api-key: {value: "not-a-ciphertext", source: "…"}
```

## How to fix
Restore the file from git (`git checkout -- environments/sealed/`), then let `kiln seal
--cert CERT.pem --env ENV` write the values it is missing.
"#,
    };

    /// `kiln seal` cannot obtain or use a value (or has no certificate for a cluster).
    SEAL = Check {
        code: "E0205",
        name: "seal",
        kind: Kind::Error,
        summary: "`kiln seal` cannot obtain a value, or has no certificate for a cluster.",
        fix: "pass a certificate for every cluster (`--cert CLUSTER=CERT.pem`) and make each value obtainable (1Password signed in, KILN_* variable set)",
        doc: r#"## What it does
Reports what stops `kiln seal`: a cluster without a certificate (`--cert`), a value it
cannot obtain (1Password not signed in, a `KILN_*` variable unset, standard input
closed), a value that does not fit where it is used (characters a URL cannot hold), a
certificate it cannot read.

## Why is this bad?
A value sealed with the wrong certificate or from the wrong source cannot be decrypted
by the controller, so kiln seals nothing rather than something wrong.

## Example
```sh
kiln seal --env prod           # no --cert: no certificate for cluster `lab`
```

## How to fix
Fetch each cluster's certificate (`kubeseal --fetch-cert > lab.pem`) and pass it
(`--cert lab=lab.pem`); sign in to 1Password (`op signin`) or set the `KILN_*` variable
the message names; then seal again.
"#,
    };

    /// A sealed value made from an older definition of its key.
    SEALED_VALUE_OUTDATED = Check {
        code: "W0206",
        name: "sealed-value-outdated",
        kind: Kind::Warning,
        summary: "A sealed value was made from an older definition of its key.",
        fix: "seal it again: `kiln seal --cert CERT.pem --env ENV SECRET`",
        doc: r#"## What it does
Compares the fingerprint `kiln seal` recorded with each sealed value (where the value
comes from: the 1Password item, the generator's settings, the template) with the key's
definition now, and warns when they differ.

## Why is this bad?
The cluster still gets the old value: a changed 1Password reference or a longer
generated password has no effect until the key is sealed again.

## Example
```yaml
secrets:
  web:
    keys:
      api-key: {generate: {length: 48}}    # was 32 when it was sealed
```

## How to fix
Seal the secret again (`kiln seal --cert CERT.pem --env dev web`) and commit
`environments/sealed/`.
"#,
    };

    /// Sealed values that no placement of the model uses.
    UNUSED_SEALED_VALUE = Check {
        code: "W0207",
        name: "unused-sealed-value",
        kind: Kind::Warning,
        summary: "Sealed values the model no longer uses: a namespace it no longer places them in, or an environment that does not exist.",
        fix: "run `kiln seal --cert CERT.pem --env ENV`, which removes them (or delete a file of an environment that is gone)",
        doc: r#"## What it does
Warns about values in `environments/sealed/` that no placement of a secret uses: for a
cluster or namespace the model no longer places the secret in, or a whole file whose
environment does not exist.

## Why is this bad?
Stale ciphertexts stay in the repository and in review, and are easy to mistake for
the values in use.

## Example
`environments/sealed/staging.yaml`, after `environments/staging.yaml` was deleted.

## How to fix
Run `kiln seal --cert CERT.pem --env ENV`, which drops values nothing uses; delete the
file of an environment that is gone, or add the environment back.
"#,
    };
}
