//! The model's meaning: names, references, values, cycles, conflicts, waivers, image
//! tags.

use super::{Check, Kind};

family! {
    MODEL;

    /// A name that cannot become a Kubernetes object name or a path.
    INVALID_NAME = Check {
        code: "E0009",
        name: "invalid-name",
        kind: Kind::Error,
        summary: "A name that cannot become a Kubernetes name, a label, a variable or a path.",
        fix: "rename it: lower-case letters, digits and `-`, starting with a letter, at most 63 characters",
        doc: r#"## What it does
Checks every name the model gives (apps, clusters, hosts, secrets, environments from
their file names), the names kiln derives from them (namespaces, `<app>-db`,
`<app>-migrate`), label keys, Secret key names and environment variable names, against
the rules of where they end up: DNS labels of at most 63 characters, label syntax,
`[A-Za-z_][A-Za-z0-9_]*` for variables.

## Why is this bad?
The API server refuses an object with an invalid name at apply time, long after the
build, or (for a derived name) the name no longer fits once a suffix is added.

## Example
```yaml
apps:
  Web_Frontend: {port: 8080}
```

## How to fix
Rename it to lower-case letters, digits and `-`, starting with a letter
(`web-frontend`), short enough that its derived names stay within 63 characters; a
variable name uses letters, digits and `_`.
"#,
    };

    /// A reference to an app, cluster, host, registry or secret that does not exist.
    UNKNOWN_REFERENCE = Check {
        code: "E0010",
        name: "unknown-reference",
        kind: Kind::Error,
        summary: "A reference to an app, cluster, host, registry or secret the environment does not define.",
        fix: "name something the environment defines (the message lists what exists), or define it",
        doc: r#"## What it does
Follows every name the model uses (`runsOn`, `dependsOn`, `image.registry`, `usedBy`,
`via`, routes, stacks' variables) and reports one that names nothing in the
environment, or an app or stack with nowhere to run.

## Why is this bad?
Generated objects would point at nothing: a Deployment pulling from an unknown
registry, a route to a cluster that does not exist.

## Example
```yaml
apps:
  web:
    runsOn: homelb        # the cluster is `homelab`
```

## How to fix
Correct the name (the message suggests the defined names), or define what it refers to
in this environment or its base.
"#,
    };

    /// Two objects that would have the same name.
    DUPLICATE_NAME = Check {
        code: "E0011",
        name: "duplicate-name",
        kind: Kind::Error,
        summary: "Two things that would get the same name, or a name kiln reserves.",
        fix: "rename one of the two so that each name is used once",
        doc: r#"## What it does
Reports names that would collide once generated: a cluster and a host of the same name
(`runsOn` could not tell them apart), two objects kiln would write under one name, an
app or stack named `caddy` on a host (`deploy.sh caddy` deploys the host's Caddy).

## Why is this bad?
One of the two would overwrite the other in `out/`, or a command would act on the
wrong one.

## Example
```yaml
clusters:
  lab: {}
hosts:
  lab: {address: 192.168.1.50}
```

## How to fix
Rename one of them (`lab-vm`) and update what refers to it.
"#,
    };

    /// A value the model accepts in shape but not in meaning.
    INVALID_VALUE = Check {
        code: "E0012",
        name: "invalid-value",
        kind: Kind::Error,
        summary: "A value of the right type that cannot work: out of range, contradicting another, or unsafe where it is written.",
        fix: "change the value to one the message allows",
        doc: r#"## What it does
Checks what the schema cannot: Kubernetes' own value rules (ports 1-65535, `int32`
fields, a request not above its limit, cron schedules, label values), image tags,
settings that need another one (a TLS mode and its fields, a Gateway route and a
Gateway), secret types and their keys, and values other languages read (e-mail
addresses, bind addresses, URL paths, git URLs, branch names) checked for their form.

## Why is this bad?
Such a value builds, and then fails where it is used: the API server refuses the
object, a CronJob never runs, a shell or Caddyfile reads text as syntax.

## Example
```yaml
apps:
  web:
    port: 70000
    resources:
      requests: {memory: 256Mi}
      limits: {memory: 128Mi}
```

## How to fix
Change the value to one the message allows (`port: 8080`, a limit at least the
request), or add the setting it depends on.
"#,
    };

    /// A dependency cycle.
    CYCLE = Check {
        code: "E0019",
        name: "cycle",
        kind: Kind::Error,
        summary: "Apps, hosts or secret templates that depend on each other in a cycle.",
        fix: "remove one dependency of the cycle shown",
        doc: r#"## What it does
Follows `dependsOn` between apps and stacks and the templates of secret keys, and
reports a cycle with every step of it.

## Why is this bad?
Nothing in a cycle can start (or be computed) first: init containers wait for each
other forever, a secret template never resolves.

## Example
```yaml
apps:
  web: {dependsOn: [api]}
  api: {dependsOn: [web]}
```

## How to fix
Remove the dependency that is not real (often the app only needs the other at request
time, not at start), so the graph has an order.
"#,
    };

    /// A rule waiver is malformed (no reason, unknown rule).
    WAIVER = Check {
        code: "E0021",
        name: "waiver",
        kind: Kind::Error,
        summary: "A waiver that names no lint rule or gives no reason.",
        fix: "name a rule `kiln rules --family lint` lists (or a checkov id) and say why it does not apply",
        doc: r#"## What it does
Checks every `waive:` of apps and registries: each key must be a lint rule's name (or a
checkov check id such as `CKV_K8S_43`), each value a reason.

## Why is this bad?
A waiver of a misspelt rule waives nothing, and a waiver without a reason tells the next
reader nothing about why the rule was switched off.

## Example
```yaml
apps:
  web:
    waive:
      missing-probe: ""
```

## How to fix
Name the rule as `kiln rules --family lint` lists it (`missing-probes`) and write why it
does not apply to this app: `missing-probes: "a batch worker with no HTTP endpoint"`.
"#,
    };

    /// Two things claim the same port, hostname or path.
    CONFLICT = Check {
        code: "E0022",
        name: "conflict",
        kind: Kind::Error,
        summary: "Two things that claim the same port, hostname, path, branch or secret.",
        fix: "give one of the two its own port, hostname or path",
        doc: r#"## What it does
Reports two apps, stacks or environments that claim one thing only one can have: a host
port bound twice on a host, a hostname and path routed twice, an upstream directory
used by two stacks, one secret in one namespace coming from two environments.

## Why is this bad?
The second one fails at deploy time (`port is already allocated`) or, worse, silently
takes over the first one's traffic.

## Example
```yaml
apps:
  web: {runsOn: vm, port: 8080, publish: {port: 8080}}
  api: {runsOn: vm, port: 3000, publish: {port: 8080}}
```

## How to fix
Give one of the two its own port, hostname, path or namespace.
"#,
    };

    /// A pod kiln would write that its namespace's Pod Security level rejects.
    POD_SECURITY = Check {
        code: "E0025",
        name: "pod-security",
        kind: Kind::Error,
        summary: "An app whose pod its namespace's Pod Security level would reject: root, added capabilities, host folders.",
        fix: "set the app's group's `podSecurity` (`groups.<group>.podSecurity`) or the environment's to the level the message names, or drop what needs it",
        doc: r#"## What it does
Computes the Pod Security level each app's pod needs on a cluster (`restricted` by
default; `baseline` for a container that runs as root, `security.root` or `runAsUser:
0`, or adds a capability of baseline's list such as `CHOWN` or `SETUID`; `privileged`
for any other capability, such as `NET_ADMIN`) and compares it with the level its
namespace enforces (`groups.<group>.podSecurity`, else `environment.podSecurity`). kiln never lowers a namespace's level
by itself.

## Why is this bad?
The API server refuses the pod: the Deployment exists, its ReplicaSet reports
`violates PodSecurity "restricted:latest"`, and the app never starts.

## Example
```yaml
apps:
  paperless:
    security:
      root: {reason: "s6-overlay starts as root and drops to the app user"}
```
in an environment whose `podSecurity` is the default, `restricted`.

## How to fix
Set `groups: {paperless: {podSecurity: baseline}}` (or `privileged`, as the message
says): the app's group's namespaces only; or `environment.podSecurity` for every
namespace of the environment; or run the image as a non-root user and drop the
capability.
"#,
    };

    /// A hand patch (`apps.<app>.patches`) that cannot apply to what kiln writes.
    PATCH = Check {
        code: "E0026",
        name: "patch",
        kind: Kind::Error,
        summary: "A hand patch that cannot apply: a target kiln does not write, a path that is not there, a value of the wrong type.",
        fix: "target an object kiln writes for the app (the message lists them) and a path the object has; `kiln build` applies every patch before it writes",
        doc: r#"## What it does
Applies every hand patch of `apps.<app>.patches` in kiln, to the objects and the compose
service it writes, before anything is written: a `kubernetes` patch whose target (kind
and name) matches no object kiln writes for the app in that environment, a JSON 6902
operation whose path is not in the object (or a `test` that fails), a patched object
whose field has the wrong type (`replicas: "two"`), a strategic-merge directive kiln
does not apply (`$patch`, `$setElementOrder`), a `compose` fragment for an app that has
no compose service, or a fragment in a form whose merge kiln does not know (a short
`ports` or `volumes` entry, a list of `environment` values) is an error at the patch.

## Why is this bad?
Kustomize refuses an overlay whose patch does not apply, so Flux stops reconciling the
whole app; a patch for an object that is not there is silently dropped by some tools and
fails others. Either way the hand fix never reaches the cluster.

## Example
```yaml
apps:
  web:
    patches:
      kubernetes:
        - target: {kind: Deployment, name: wbe}
          jsonPatch:
            - {op: replace, path: /spec/template/spec/dnsPolicy, value: None}
```

## How to fix
Name an object the message lists (`kind` and `name`; without a target the patch applies
to the app's workload), use `add` for a field the object lacks (`replace` and `remove`
need it to be there), give values of the field's type, and write compose entries in the
long syntax.
"#,
    };

    /// A warning: no tag is known for an app's image in an environment.
    IMAGE_TAG_UNKNOWN = Check {
        code: "W0101",
        name: "image-tag-unknown",
        kind: Kind::Warning,
        summary: "No tag is known for an app's image in an environment, so `unset` is written.",
        fix: "pin `image.tag`, or record the deployed tag with `kiln set-image APP TAG --env ENV`",
        doc: r#"## What it does
Warns when an app's image in an environment has no tag from the model (`image.tag`),
from Flux image automation (read back from the committed output) or from `kiln
set-image` (`environments/state/image-tags.yaml`). kiln writes the tag `unset`.

## Why is this bad?
An image tagged `unset` does not exist: the workload cannot start until automation
records a real tag.

## Example
```yaml
apps:
  web:
    image: {registry: harbor, repository: shop/web, automation: push}
    # no tag yet: the pipeline has not deployed
```

## How to fix
Let the pipeline deploy once (its deploy job runs `kiln set-image`), run `kiln set-image
web TAG --env dev` yourself, or pin `image.tag`.
"#,
    };

    /// A warning: a job's `timeZone` on a host, whose cron runs in its own local time.
    HOST_JOB_TIME_ZONE = Check {
        code: "W0115",
        name: "host-job-time-zone",
        kind: Kind::Warning,
        summary: "A job on a host has a `timeZone`, but the host's cron runs jobs in the host's local time.",
        fix: "drop `timeZone` on the host (or in that environment), or set the host's time zone to the one the schedule means",
        doc: r#"## What it does
Warns when an app on a host has a scheduled job with `timeZone`. On a host, a job is a
line in the deploying user's crontab, and cron reads the schedule in the host's local
time zone: the job runs at the given hours of that time zone, not of `timeZone`.

## Why is this bad?
A nightly job meant for 03:00 in `Europe/Berlin` runs at 03:00 UTC on a host kept in
UTC: an hour or two off, maybe inside the working day.

## Example
```yaml
apps:
  wiki:
    runsOn: vm
    jobs:
      export: {schedule: "0 3 * * *", timeZone: Europe/Berlin, command: [wiki, export]}
```

## How to fix
Set the host's time zone (`timedatectl set-timezone Europe/Berlin`) and drop
`timeZone` for the environments on the host, or write the schedule in the host's time.
"#,
    };

    /// A consumer of a database that has no network path to it.
    UNREACHABLE_DATABASE = Check {
        code: "E0027",
        name: "unreachable-database",
        kind: Kind::Error,
        summary: "An app takes a part of a database it cannot reach (another cluster, another host, another compose project).",
        fix: "run the app beside the database: on the same cluster, or on the same host in the same `group`",
        doc: r#"## What it does
Follows every connection value (`{database: APP, part: host | port | user | password |
name | url}`) to the app whose database it names, and reports a consumer that could not
open a connection to it: one on another cluster or host, one on the same host in another
group (each group is a compose project with a network of its own), or a stack (a compose
project of its own).

On a cluster, every namespace can reach it: kiln names a database of another namespace
by `<app>-db.<namespace>.svc` and admits each consumer in the database's
NetworkPolicy. The password secret must still be placed in the consumer's namespace (its
`usedBy` lists the consumer).

## Why is this bad?
The app would start with a host name that does not resolve, or resolves to nothing that
accepts its connection, and fail at its first query.

## Example
```yaml
apps:
  nextcloud:
    runsOn: vm
    group: cloud
    env:
      MYSQL_HOST: {database: mariadb-app, part: host}   # mariadb-app is in group `data`
```

## How to fix
Move the consumer (or the database's app) so that both run on the same cluster, or on
the same host in the same `group`.
"#,
    };

    /// An app without an image that is not a data service.
    NOT_A_DATA_SERVICE = Check {
        code: "E0028",
        name: "not-a-data-service",
        kind: Kind::Error,
        summary: "An app without an `image` that has no `database`, or sets something only a container has.",
        fix: "give it an `image`, or keep only `database` (and `description`, `enabled`, `group`, `runsOn`, `waive`)",
        doc: r#"## What it does
An app without an `image` is a data service: only its `database` runs (a StatefulSet on
a cluster, a compose service on a host, with its backups), for the apps that take its
parts with `{database: APP, part: ...}`. This check reports such an app that has no
`database` (nothing would run), and each field it sets that configures a container of
its own: a port, routes, variables, volumes, jobs, a build, health checks, resources,
security settings and the like.

## Why is this bad?
Nothing would run those settings: a route to a data service leads nowhere, its
variables reach no process. Silently dropping them would hide a mistake, most often a
forgotten `image`.

## Example
```yaml
apps:
  broker:
    group: paperless
    port: 6379
    database: {engine: redis, version: "7.4", storage: 1Gi, password: {secret: broker, key: password}}
```
Use instead:
```yaml
apps:
  broker:
    group: paperless
    database: {engine: redis, version: "7.4", storage: 1Gi, password: {secret: broker, key: password}}
  paperless:
    env:
      PAPERLESS_REDIS: {database: broker, part: url}
```

## How to fix
Remove the field (kiln gives the server its port, health check and resources), or
give the app an `image` if it is meant to run something of its own.
"#,
    };
}
