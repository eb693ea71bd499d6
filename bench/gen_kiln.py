#!/usr/bin/env python3
"""Generate a kiln project of N applications x 2 environments (dev, prod).

Each application is shaped like Invoicetron (seed 004) and like the apps of
shared/bench/gen_kapitan.py, so the two tools compile comparable work: a Deployment
with probes, securityContext, env from secretKeyRef and resources; a Service; an
HTTPRoute; a PostgreSQL StatefulSet with volumeClaimTemplates and its headless
Service; a daily backup CronJob (prod); a Namespace per app and environment; plus what
kiln adds on its own: a migration Job, the Flux Kustomization per app and environment,
secrets references and the Kustomize base/overlay layout.

Usage: gen_kiln.py N DIR   (writes DIR/environments/{common,dev,prod}.yaml)
"""
import os
import sys

HEADER = "# yaml-language-server: $schema=../schema/environment-file.schema.json\n"

COMMON = HEADER + """abstract: true
repository:
  url: ssh://git@git.example.internal/acme/fleet.git
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
secrets:
  registry-pull:
    type: docker-registry
    keys:
      username: {manual: "registry robot account"}
      password: {op: "op://Fleet/registry/password"}
"""

APP = """  {app}:
    group: {app}
    image:
      registry: internal
      repository: acme/{app}
      tag: "1.{minor}.{patch}"
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
    migrations:
      command: [./migrate, up]
"""

SECRET = """  {app}:
    usedBy: [{app}]
    keys:
      db-password: {{generate: {{}}}}
      database-url:
        template: "postgresql://{db}:{{db-password}}@{app}-db:5432/{db}"
"""

PROD_APP = """  {app}:
    replicas: 3
    resources:
      requests: {{cpu: 250m, memory: 256Mi}}
      limits: {{cpu: "2", memory: 1Gi}}
    database:
      storage: 100Gi
      backup: {{schedule: "15 1 * * *", retentionDays: 30, storage: 20Gi}}
"""


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    env_dir = os.path.join(out, "environments")
    os.makedirs(env_dir, exist_ok=True)
    apps = [f"app-{i:04d}" for i in range(n)]
    common = [COMMON, "apps:\n"]
    secrets = []
    for i, app in enumerate(apps):
        common.append(APP.format(app=app, minor=i % 20, patch=i % 7, port=8000 + i % 1000, team=i % 12))
        secrets.append(SECRET.format(app=app, db=app.replace("-", "_")))
    common.append("\n".join([]))
    text = "".join(common).replace("secrets:\n  registry-pull:", "secrets:\n" + "".join(secrets) + "  registry-pull:")
    with open(os.path.join(env_dir, "common.yaml"), "w") as fh:
        fh.write(text)
    with open(os.path.join(env_dir, "dev.yaml"), "w") as fh:
        fh.write(HEADER + "extends: common\nenvironment:\n  domain: dev.example.com\n")
    with open(os.path.join(env_dir, "prod.yaml"), "w") as fh:
        fh.write(HEADER + "extends: common\nenvironment:\n  domain: example.com\n  production: true\napps:\n")
        for app in apps:
            fh.write(PROD_APP.format(app=app))
    print(f"wrote {n} apps x 2 environments to {env_dir}")


if __name__ == "__main__":
    main()
