//! Hosts: apps and stacks on machines run with docker compose and Caddy.

use super::{Check, Kind};

family! {
    HOSTS;

    /// A route that a host's Caddy would serve, on a host without Caddy.
    ROUTE_WITHOUT_PROXY = Check {
        code: "E0501",
        name: "route-without-proxy",
        kind: Kind::Error,
        summary: "A route of an app on a host that runs no Caddy to serve it.",
        fix: "give the host a `caddy:` section, or route the app `via` a cluster",
        doc: r#"## What it does
Reports a route of an app (or stack) that runs on a host, when the host has no `caddy`
and the route does not go `via` a cluster.

## Why is this bad?
Nothing on the host listens for the route's hostname: the route is in the model and
the runbook, and every request to it fails.

## Example
```yaml
hosts:
  vm: {address: 192.168.1.50}        # no caddy
apps:
  api:
    runsOn: vm
    routes:
      public: {host: api.example.com}
```

## How to fix
Give the host a Caddy (`caddy: {tls: {mode: acme, email: ops@example.com}}`), or serve the route through a
cluster's ingress (`via: homelab`, with the app published on the host).
"#,
    };

    /// An app placed where its image has no build.
    PLATFORM_MISMATCH = Check {
        code: "E0502",
        name: "image-platform-mismatch",
        kind: Kind::Error,
        summary: "An app runs on a machine whose architecture its image is not built for.",
        fix: "add the machine's architecture to `image.platforms`, or run the app where its image runs",
        doc: r#"## What it does
Compares the architecture of the cluster or host an app runs on (`arch`) with the
platforms its image is built for (`image.platforms`).

## Why is this bad?
The container fails at start with `exec format error`, or runs slowly under emulation
where the runtime has one: a Raspberry Pi (arm64) cannot run an amd64-only image.

## Example
```yaml
clusters:
  pi: {arch: arm64}
apps:
  web:
    runsOn: pi
    image: {registry: hub, repository: team/web, platforms: [amd64]}
```

## How to fix
Build the image for the machine too (`platforms: [amd64, arm64]`; the pipeline builds
every listed platform), or run the app on a machine of the architecture it is built
for.
"#,
    };

    /// One host described differently by two environments that both use it.
    HOST_DIFFERS = Check {
        code: "E0503",
        name: "host-differs-between-environments",
        kind: Kind::Error,
        summary: "One host described differently by two environments that both use it.",
        fix: "describe the host once, in the shared base both environments extend",
        doc: r#"## What it does
Compares the description of a host (address, data directory, Caddy, deploy settings)
in every environment that places something on it.

## Why is this bad?
One machine has one address, one data directory and one Caddy: two descriptions mean
that one environment's deploy overwrites the other's Caddyfile or scripts.

## Example
```yaml
# dev.yaml
hosts:
  vm: {address: 192.168.1.50}
# prod.yaml
hosts:
  vm: {address: 192.168.1.51}
```

## How to fix
Describe the host once in the shared base (`common.yaml`), or give the two machines
different names if they are different machines.
"#,
    };
}
