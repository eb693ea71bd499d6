#!/usr/bin/env python3
"""Generate a kiln project of N applications x 2 environments (dev, prod).

Each application is shaped like Invoicetron (seed 004) and like the apps of
bench/gen_kapitan.py, so the two tools compile comparable work: a Deployment with
probes, securityContext, env from secretKeyRef and resources; a Service; an HTTPRoute;
a PostgreSQL StatefulSet with its volume claim and headless Service; a daily backup
CronJob with its volume; a Namespace per app and environment. On top of that, what
kiln adds on its own for such an app: a migration Job, the deploy ServiceAccount and
Role, the Flux Kustomization per app and environment, the SealedSecrets of the
secrets it references, the Kustomize base/overlay layout, a GitLab pipeline
(validate -> test -> build -> deploy -> verify) and the runbooks.

Usage: gen_kiln.py N DIR [--warn]   (writes DIR/environments/{common,dev,prod}.yaml)

--warn records no deployed tag for dev, so that every app gives one warning
(`image-tag-unknown` in dev, located in common.yaml): N warnings over one file, for
timing how diagnostics render.

The secrets are not sealed by this script: `bench/run.sh` seals them once with
`kiln seal` and the throwaway test certificate (src/secrets/test_data/cert2048.pem),
so that builds embed SealedSecrets as a real fleet's would.
"""
import os
import sys

HEADER = "# yaml-language-server: $schema=../schema/environment-file.schema.json\n"

COMMON = HEADER + """abstract: true
repository:
  url: ssh://git@git.example.internal/acme/fleet.git
  ci:
    provider: gitlab
    image: images.example.internal/acme/kiln-ci:0.1.0
environment:
  runsOn: lab
registries:
  internal:
    host: images.example.internal
    private: true
    pullSecret: registry-pull
clusters:
  lab:
    ingress:
      kind: gateway
      gateway: {name: public-gateway, namespace: gateway-system, listener: https}
    storageClass: standard-rwo
    flux: {}
"""

APP = """  {app}:
    group: {app}
    image:
      registry: internal
      repository: acme/{app}
      tagFormat: "${{env}}-{{sha}}-{{timestamp}}"
    port: {port}
    health:
      path: /healthz
      initialDelaySeconds: 10
    resources:
      requests: {{cpu: 50m, memory: 64Mi}}
      limits: {{cpu: 500m, memory: 256Mi}}
    env:
      LOG_LEVEL: info
      TEAM: team-{team}
      DATABASE_URL: {{secret: {app}, key: database-url}}
    routes:
      main:
        host: {app}.${{domain}}
    database:
      version: 16
      storage: 5Gi
      password: {{secret: {app}, key: db-password}}
      backup: {{schedule: "0 4 * * *", retentionDays: 3, storage: 5Gi}}
    migrations:
      command: [./migrate, up]
    deploy:
      serviceAccount: deploy
    build:
      repository: https://git.example.internal/acme/{app}
      ci: gitlab
      tests:
        lint: {{stage: validate, image: "node:22-slim", run: [npm ci, npm run lint]}}
        unit: {{image: "node:22-slim", run: [npm ci, npm test]}}
      args:
        PUBLIC_URL: https://{app}.${{domain}}
"""

SECRET = """  {app}:
    usedBy: [{app}]
    keys:
      db-password: {{generate: {{}}}}
      database-url:
        template: "postgresql://{db}:{{db-password}}@{app}-db:5432/{db}"
"""

REGISTRY_SECRET = """  registry-pull:
    type: docker-registry
    keys:
      username: {manual: "registry robot account"}
      password: {op: "op://Fleet/registry/password"}
"""

DEV_APP = """  {app}:
    build: {{branch: develop}}
"""

PROD_APP = """  {app}:
    replicas: 3
    resources:
      requests: {{cpu: 250m, memory: 256Mi}}
      limits: {{cpu: "2", memory: 1Gi}}
    database:
      storage: 100Gi
      backup: {{schedule: "15 1 * * *", retentionDays: 30, storage: 20Gi}}
    build: {{branch: main}}
"""


def app_names(n):
    return [f"app-{i:04d}" for i in range(n)]


def main():
    args = [a for a in sys.argv[1:] if a != "--warn"]
    warn = len(args) != len(sys.argv) - 1
    if len(args) != 2:
        sys.exit(__doc__)
    n, out = int(args[0]), args[1]
    env_dir = os.path.join(out, "environments")
    os.makedirs(env_dir, exist_ok=True)
    apps = app_names(n)
    common = [COMMON, "apps:\n"]
    for i, app in enumerate(apps):
        common.append(APP.format(app=app, port=8000 + i % 1000, team=i % 12))
    common.append("secrets:\n")
    for app in apps:
        common.append(SECRET.format(app=app, db=app.replace("-", "_")))
    common.append(REGISTRY_SECRET)
    with open(os.path.join(env_dir, "common.yaml"), "w") as fh:
        fh.write("".join(common))
    with open(os.path.join(env_dir, "dev.yaml"), "w") as fh:
        fh.write(HEADER + "extends: common\nenvironment:\n  domain: dev.example.com\napps:\n")
        fh.write("".join(DEV_APP.format(app=app) for app in apps))
    with open(os.path.join(env_dir, "prod.yaml"), "w") as fh:
        fh.write(HEADER + "extends: common\nenvironment:\n  domain: example.com\n  production: true\napps:\n")
        fh.write("".join(PROD_APP.format(app=app) for app in apps))
    # The tags the apps' pipelines deployed, as `kiln set-image` records them.
    os.makedirs(os.path.join(env_dir, "state"), exist_ok=True)
    with open(os.path.join(env_dir, "state", "image-tags.yaml"), "w") as fh:
        fh.write("# Written by `kiln set-image`.\n")
        for env in ("prod",) if warn else ("dev", "prod"):
            fh.write(f"{env}:\n")
            for i, app in enumerate(apps):
                fh.write(f"  {app}: {env}-{i % 4096:03x}c1e0-2026112{i % 10}093000\n")
    print(f"wrote {n} apps x 2 environments to {env_dir}")


if __name__ == "__main__":
    main()
