//! Reading the model: the command line, files, YAML, the schema, `extends`, variables,
//! templates.

use super::{Check, Kind};

family! {
    FILES;

    /// The command could not run (arguments, git, a path outside the model).
    COMMAND = Check {
        code: "E0000",
        name: "command-error",
        kind: Kind::Error,
        summary: "The command could not run: an argument, git, a lock file or a path kiln refuses.",
        fix: "correct what the message names (an argument, a revision, a path) and run the command again",
        doc: r#"## What it does
Reports a failure that has no place in a model file: an argument that names nothing
(`--env staging` without `environments/staging.yaml`), a git revision that does not
exist (`kiln diff --against`), an `out/kiln.lock` kiln cannot read, a path kiln refuses
to follow (a link, a FIFO, a path that leaves its folder). In `--format json` it is the
one diagnostic without a location.

## Why is this bad?
kiln cannot do what was asked without guessing, and a guess about which files to read
or delete is how output gets lost.

## Example
```sh
kiln build --env staging      # no environment is named staging
```

## How to fix
Read the message: it names the argument, revision or path. Correct it (`kiln build
--env dev`), or move the link or FIFO out of the project, and run the command again.
"#,
    };

    /// A file could not be read.
    IO = Check {
        code: "E0001",
        name: "io",
        kind: Kind::Error,
        summary: "A file of the model could not be read, or is not UTF-8 text.",
        fix: "make the file a readable UTF-8 text file (no link, no FIFO), or remove it",
        doc: r#"## What it does
Reports a file under `environments/` or `templates/` that kiln cannot read: missing
permissions, a link or a FIFO (kiln follows no link), a file larger than 64 MiB, or
bytes that are not UTF-8 (a file saved as UTF-16 is named as such).

## Why is this bad?
A file kiln cannot read is a part of the model it would silently leave out: an
environment missing a setting builds, but not as written.

## Example
```text
environments/prod.yaml   saved by an editor as UTF-16 LE
environments/dev.yaml -> ../../elsewhere/dev.yaml   (a link)
```

## How to fix
Save the file as UTF-8, replace a link by the file itself, give kiln permission to read
it, or remove it from `environments/`.
"#,
    };

    /// The YAML is not well-formed.
    YAML_SYNTAX = Check {
        code: "E0002",
        name: "yaml-syntax",
        kind: Kind::Error,
        summary: "A model file is not well-formed YAML.",
        fix: "correct the YAML at the place shown (indentation with spaces, closed quotes and brackets)",
        doc: r#"## What it does
Parses every model file as strict YAML 1.2 and reports the first place a file stops
being YAML: an unclosed quote or bracket, a tab used for indentation, a byte-order mark,
a key without a value where a mapping was expected.

## Why is this bad?
A file that is not YAML has no meaning kiln could build from; reading part of it would
drop settings without saying so.

## Example
```yaml
apps:
  web:
	port: 8080        # a tab indents this line
```

## How to fix
Correct the file at the line and column shown: indent with spaces, close quotes and
brackets, and save without a byte-order mark. An editor with the YAML language server
(`yaml-language-server: $schema=...` at the top of the file) shows the same errors.
"#,
    };

    /// A mapping has the same key twice.
    DUPLICATE_KEY = Check {
        code: "E0003",
        name: "duplicate-key",
        kind: Kind::Error,
        summary: "A mapping has the same key twice.",
        fix: "keep one of the two keys (merge their values into it)",
        doc: r#"## What it does
Reports a key that appears twice in one mapping, with both places.

## Why is this bad?
Most YAML readers keep the last value and drop the first without a word, so one of the
two settings someone wrote has no effect: usually the one they meant.

## Example
```yaml
apps:
  web:
    port: 8080
    port: 3000
```

## How to fix
Delete one of the two keys, or merge what both say into one.
"#,
    };

    /// A YAML feature kiln does not accept (tags, merge keys, multiple documents).
    YAML_UNSUPPORTED = Check {
        code: "E0004",
        name: "yaml-unsupported",
        kind: Kind::Error,
        summary: "A YAML feature the model does not accept: tags, anchors, merge keys, several documents.",
        fix: "write the value out in plain YAML; share settings with `extends` instead of anchors",
        doc: r#"## What it does
Reports YAML features kiln refuses in the model: tags (`!!str`, `!custom`), anchors and
aliases (`&base`, `*base`), merge keys (`<<`), keys that are not strings, and a second
document (`---`) in one file.

## Why is this bad?
Each of them makes a file mean something other than what it shows: an alias expands
elsewhere, a merge key overrides silently, a second document is ignored by most tools.
The model is meant to read the same in an editor, in review and to kiln.

## Example
```yaml
defaults: &defaults {replicas: 2}
apps:
  web:
    <<: *defaults
```

## How to fix
Write the values out where they apply. Settings shared by environments belong in an
abstract base file that the environments `extends`; one file holds one document.
"#,
    };

    /// The document does not match the JSON Schema of the model.
    SCHEMA = Check {
        code: "E0005",
        name: "schema",
        kind: Kind::Error,
        summary: "A value does not have the type or form the model's schema gives it.",
        fix: "give the field a value of the type and form named in the message (the schema is in schema/)",
        doc: r#"## What it does
Checks every environment, after `extends` and variables, against the JSON Schema kiln
generates from its model types (`schema/environment-file.schema.json`): types, required
fields, allowed values, formats. Also checks the files kiln itself keeps in the model,
such as `environments/state/image-tags.yaml`, and that a file is a mapping at all.

## Why is this bad?
A value of the wrong type cannot become the objects and files kiln writes; guessing a
conversion (`"eighty"` for a port) would build something nobody wrote.

## Example
```yaml
apps:
  web:
    port: eighty
    replicas: "2"
```

## How to fix
Give the field a value of the type the message names (`port: 8080`, `replicas: 2`),
add a missing required field, or pick one of the listed values. Point your editor at
the schema (`# yaml-language-server: $schema=../schema/environment-file.schema.json`)
to see the same errors while typing.
"#,
    };

    /// A field the model does not know (a typo must not pass silently).
    UNKNOWN_FIELD = Check {
        code: "E0006",
        name: "unknown-field",
        kind: Kind::Error,
        summary: "A field the model does not know, usually a typo.",
        fix: "correct the field's name (the message suggests the closest known one), or remove it",
        doc: r#"## What it does
Reports a key the schema does not define at that place, and suggests the known field
closest to it.

## Why is this bad?
A misspelt field is a setting that silently does nothing: `replica: 3` leaves the app at
one replica, `helth:` leaves it without probes.

## Example
```yaml
apps:
  web:
    replica: 3
```

## How to fix
Use the field's real name (`replicas: 3`); `kiln explain schema` says where the schema
lives, and an editor pointed at it completes field names.
"#,
    };

    /// `extends` names a file that does not exist, or forms a cycle.
    EXTENDS = Check {
        code: "E0007",
        name: "extends",
        kind: Kind::Error,
        summary: "`extends` names no file, is not one file name, or forms a cycle.",
        fix: "make `extends` name one file of environments/ (without `.yaml`) that does not extend this one",
        doc: r#"## What it does
Follows each file's `extends` to the file it names in `environments/` and reports a
name that matches no file, a value that is not one string, and files that extend each
other in a cycle.

## Why is this bad?
The base is where shared settings live; an environment whose base cannot be found or
never ends would be built from part of its settings.

## Example
```yaml
# dev.yaml
extends: commmon          # no environments/commmon.yaml
```

## How to fix
Name the base file without `.yaml` (`extends: common`), and break a cycle so that
environments extend an abstract base that extends nothing (or another base).
"#,
    };

    /// A `${var}` that no variable defines.
    INTERPOLATION = Check {
        code: "E0008",
        name: "interpolation",
        kind: Kind::Error,
        summary: "A `${variable}` that nothing defines, or a variable or placeholder kiln cannot expand.",
        fix: "define the variable under `vars` (or use a built-in: `${env}`, `${domain}`), or write `$${` for a literal `${`",
        doc: r#"## What it does
Expands `${name}` in every string from `vars` and the built-ins `${env}` and
`${domain}`, and reports a name nothing defines, a `${` without `}`, a variable that
refers to another one or is not a string, a built-in set under `vars`, and a
placeholder of `environment.namespaces` other than `{group}`, `{app}` and `{env}`.

## Why is this bad?
An unexpanded `${name}` would reach a hostname, a URL or a script as literal text, and
the app would talk to `https://${api_host}/`.

## Example
```yaml
vars: {api_host: api.example.com}
apps:
  web:
    env:
      API_URL: "https://${apihost}/"
```

## How to fix
Define the variable under `vars` (in the environment or its base), correct its name, or
write `$${` where a literal `${` is meant. Variables hold plain strings: write the value
out instead of referring to another variable.
"#,
    };

    /// The environments directory has no environment to build.
    NO_ENVIRONMENT = Check {
        code: "E0013",
        name: "no-environment",
        kind: Kind::Error,
        summary: "There is no environment to build: no `environments/` folder, or only abstract files.",
        fix: "run kiln in the project root (or pass --root DIR), and add an environment file such as environments/dev.yaml",
        doc: r#"## What it does
Reports a project whose `environments/` folder is missing, unreadable, or holds only
abstract bases (`abstract: true`).

## Why is this bad?
kiln would write an empty `out/` and a check would pass with nothing checked; usually
kiln runs in the wrong folder.

## Example
```sh
cd ~ && kiln build          # no ~/environments/
```

## How to fix
Run kiln in the project root, or pass `--root DIR`. Add at least one environment file
that is not abstract, e.g. `environments/dev.yaml` with `extends: common`.
"#,
    };

    /// A text template failed to load or render.
    TEMPLATE = Check {
        code: "E0023",
        name: "template",
        kind: Kind::Error,
        summary: "A text template (kiln's or the project's override under `templates/`) failed to load or render.",
        fix: "correct the template override under templates/, or delete it to use kiln's default",
        doc: r#"## What it does
Loads kiln's built-in minijinja templates (runbooks, scripts, Caddyfile, pipeline
READMEs) and the project's overrides of them under `templates/`, and reports a template
that does not parse or fails while rendering, located in the override.

## Why is this bad?
A template that fails writes no file, or half of one: a deploy script or runbook that
stops in the middle.

## Example
```jinja
{# templates/hosts/deploy.sh #}
{% for app in apps %}
  deploy {{ app.name }
{% endfor %}
```

## How to fix
Correct the override at the line shown (a closed `}}`, a variable the template's
context has), or delete the file to go back to kiln's default template.
"#,
    };

    /// An abstract base that no environment extends.
    UNUSED_ABSTRACT = Check {
        code: "W0024",
        name: "unused-abstract",
        kind: Kind::Warning,
        summary: "An abstract base that no environment extends.",
        fix: "add `extends: NAME` to an environment, or delete the file",
        doc: r#"## What it does
Warns about a file with `abstract: true` that no environment extends, directly or
through another base.

## Why is this bad?
Settings written there reach no environment. Usually an environment's `extends` was
changed and the old base was left behind, or someone edits the base expecting it to
apply.

## Example
```yaml
# environments/shared.yaml
abstract: true
apps:
  web: {replicas: 3}        # no environment extends shared
```

## How to fix
Add `extends: shared` to the environment (or base) meant to get the settings, or delete
the file.
"#,
    };
}
