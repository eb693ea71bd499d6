#!/usr/bin/env python3
# Copied unchanged (but for this comment) from the kiln team's shared benchmark helpers
# (shared/bench/gen_kapitan.py, the helpers the performance issue names), so that a clone of
# kiln can run bench/run.sh on its own.
"""Generate a Kapitan project: N applications x 2 environments (dev, prod) = 2N targets.

Layout written under OUT:
  inventory/classes/common.yml        shared parameters + the compile spec (jinja2 input type)
  inventory/classes/env/dev.yml       env-specific parameters
  inventory/classes/env/prod.yml
  inventory/targets/<app>-<env>.yml   classes [common, env.<env>] + per-app parameters
  templates/app/*.yml                 7 Jinja2 templates -> 7 manifests per target:
      namespace, deployment (probes, securityContext, env from secretKeyRef, resources),
      service, httproute (gateway.networking.k8s.io/v1), postgres statefulset
      (volumeClaimTemplates) + headless service, backup cronjob.

Each target renders to compiled/<app>-<env>/manifests/*.yml (~200 lines of YAML).

Usage: gen_kapitan.py N OUT
"""
import os
import sys

COMMON = """\
parameters:
  kapitan:
    compile:
      - output_path: manifests
        input_type: jinja2
        input_paths:
          - templates/app
  org: acme
  image_registry: images.example.internal/acme
  gateway:
    name: public-gateway
    namespace: gateway-system
  defaults:
    port: 8080
    metrics_port: 9090
    liveness_path: /healthz
    readiness_path: /readyz
    run_as_user: 10001
  postgres:
    image: postgres:16.4-bookworm
    port: 5432
    storage_class: standard-rwo
  backup:
    image: images.example.internal/acme/pg-backup:2.3.1
    bucket_prefix: s3://acme-backups
"""

ENVS = {
    "dev": """\
parameters:
  env: dev
  domain: dev.example.com
  replicas: 1
  log_level: debug
  resources:
    requests: {cpu: 50m, memory: 64Mi}
    limits: {cpu: 500m, memory: 256Mi}
  db:
    storage: 5Gi
    resources:
      requests: {cpu: 100m, memory: 256Mi}
      limits: {cpu: "1", memory: 512Mi}
  backup_schedule: "0 4 * * *"
  backup_retention_days: 3
""",
    "prod": """\
parameters:
  env: prod
  domain: example.com
  replicas: 3
  log_level: info
  resources:
    requests: {cpu: 250m, memory: 256Mi}
    limits: {cpu: "2", memory: 1Gi}
  db:
    storage: 100Gi
    resources:
      requests: {cpu: 500m, memory: 1Gi}
      limits: {cpu: "4", memory: 4Gi}
  backup_schedule: "15 1 * * *"
  backup_retention_days: 30
""",
}

TARGET = """\
classes:
  - common
  - env.{env}
parameters:
  kapitan:
    vars:
      target: {app}-{env}
  app:
    name: {app}
    team: team-{team}
    image_tag: "1.{minor}.{patch}"
    port: {port}
    namespace: {app}-{env}
"""

T = {}

T["00-namespace.yml"] = """\
{% set p = inventory.parameters %}
apiVersion: v1
kind: Namespace
metadata:
  name: {{ p.app.namespace }}
  labels:
    app.kubernetes.io/part-of: {{ p.org }}
    acme.io/team: {{ p.app.team }}
    acme.io/env: {{ p.env }}
    pod-security.kubernetes.io/enforce: restricted
"""

T["10-deployment.yml"] = """\
{% set p = inventory.parameters %}
{% set a = p.app %}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ a.name }}
  namespace: {{ a.namespace }}
  labels:
    app.kubernetes.io/name: {{ a.name }}
    app.kubernetes.io/component: api
    app.kubernetes.io/part-of: {{ p.org }}
    app.kubernetes.io/version: "{{ a.image_tag }}"
    acme.io/env: {{ p.env }}
spec:
  replicas: {{ p.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ a.name }}
      app.kubernetes.io/component: api
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ a.name }}
        app.kubernetes.io/component: api
        acme.io/env: {{ p.env }}
    spec:
      serviceAccountName: {{ a.name }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ p.defaults.run_as_user }}
        runAsGroup: {{ p.defaults.run_as_user }}
        fsGroup: {{ p.defaults.run_as_user }}
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ a.name }}
          image: {{ p.image_registry }}/{{ a.name }}:{{ a.image_tag }}
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: {{ a.port }}
              protocol: TCP
          env:
            - name: APP_ENV
              value: {{ p.env }}
            - name: LOG_LEVEL
              value: {{ p.log_level }}
            - name: PORT
              value: "{{ a.port }}"
            - name: DATABASE_HOST
              value: {{ a.name }}-postgres.{{ a.namespace }}.svc.cluster.local
            - name: DATABASE_NAME
              value: {{ a.name | replace('-', '_') }}
            - name: DATABASE_USER
              valueFrom:
                secretKeyRef:
                  name: {{ a.name }}-db
                  key: username
            - name: DATABASE_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ a.name }}-db
                  key: password
          resources:
            requests:
              cpu: {{ p.resources.requests.cpu }}
              memory: {{ p.resources.requests.memory }}
            limits:
              cpu: "{{ p.resources.limits.cpu }}"
              memory: {{ p.resources.limits.memory }}
          livenessProbe:
            httpGet:
              path: {{ p.defaults.liveness_path }}
              port: http
            initialDelaySeconds: 10
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: {{ p.defaults.readiness_path }}
              port: http
            periodSeconds: 5
            failureThreshold: 3
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop:
                - ALL
"""

T["20-service.yml"] = """\
{% set p = inventory.parameters %}
{% set a = p.app %}
apiVersion: v1
kind: Service
metadata:
  name: {{ a.name }}
  namespace: {{ a.namespace }}
  labels:
    app.kubernetes.io/name: {{ a.name }}
    acme.io/env: {{ p.env }}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {{ a.name }}
    app.kubernetes.io/component: api
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
"""

T["30-httproute.yml"] = """\
{% set p = inventory.parameters %}
{% set a = p.app %}
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {{ a.name }}
  namespace: {{ a.namespace }}
  labels:
    app.kubernetes.io/name: {{ a.name }}
    acme.io/env: {{ p.env }}
spec:
  parentRefs:
    - name: {{ p.gateway.name }}
      namespace: {{ p.gateway.namespace }}
      sectionName: https
  hostnames:
    - {{ a.name }}.{{ p.domain }}
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: {{ a.name }}
          port: 80
"""

T["40-postgres-statefulset.yml"] = """\
{% set p = inventory.parameters %}
{% set a = p.app %}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ a.name }}-postgres
  namespace: {{ a.namespace }}
  labels:
    app.kubernetes.io/name: {{ a.name }}-postgres
    app.kubernetes.io/component: database
    acme.io/env: {{ p.env }}
spec:
  serviceName: {{ a.name }}-postgres
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ a.name }}-postgres
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ a.name }}-postgres
        app.kubernetes.io/component: database
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 999
        fsGroup: 999
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: postgres
          image: {{ p.postgres.image }}
          ports:
            - name: postgres
              containerPort: {{ p.postgres.port }}
          env:
            - name: POSTGRES_DB
              value: {{ a.name | replace('-', '_') }}
            - name: POSTGRES_USER
              valueFrom:
                secretKeyRef:
                  name: {{ a.name }}-db
                  key: username
            - name: POSTGRES_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ a.name }}-db
                  key: password
          resources:
            requests:
              cpu: {{ p.db.resources.requests.cpu }}
              memory: {{ p.db.resources.requests.memory }}
            limits:
              cpu: "{{ p.db.resources.limits.cpu }}"
              memory: {{ p.db.resources.limits.memory }}
          readinessProbe:
            exec:
              command: ["pg_isready", "-U", "postgres"]
            periodSeconds: 10
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop:
                - ALL
          volumeMounts:
            - name: data
              mountPath: /var/lib/postgresql/data
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes:
          - ReadWriteOnce
        storageClassName: {{ p.postgres.storage_class }}
        resources:
          requests:
            storage: {{ p.db.storage }}
"""

T["41-postgres-headless-service.yml"] = """\
{% set p = inventory.parameters %}
{% set a = p.app %}
apiVersion: v1
kind: Service
metadata:
  name: {{ a.name }}-postgres
  namespace: {{ a.namespace }}
  labels:
    app.kubernetes.io/name: {{ a.name }}-postgres
    acme.io/env: {{ p.env }}
spec:
  clusterIP: None
  selector:
    app.kubernetes.io/name: {{ a.name }}-postgres
  ports:
    - name: postgres
      port: {{ p.postgres.port }}
      targetPort: postgres
"""

T["50-backup-cronjob.yml"] = """\
{% set p = inventory.parameters %}
{% set a = p.app %}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ a.name }}-db-backup
  namespace: {{ a.namespace }}
  labels:
    app.kubernetes.io/name: {{ a.name }}-db-backup
    acme.io/env: {{ p.env }}
spec:
  schedule: "{{ p.backup_schedule }}"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: OnFailure
          securityContext:
            runAsNonRoot: true
            runAsUser: {{ p.defaults.run_as_user }}
          containers:
            - name: backup
              image: {{ p.backup.image }}
              args:
                - --host={{ a.name }}-postgres
                - --database={{ a.name | replace('-', '_') }}
                - --dest={{ p.backup.bucket_prefix }}/{{ p.env }}/{{ a.name }}
                - --retention-days={{ p.backup_retention_days }}
              env:
                - name: PGUSER
                  valueFrom:
                    secretKeyRef:
                      name: {{ a.name }}-db
                      key: username
                - name: PGPASSWORD
                  valueFrom:
                    secretKeyRef:
                      name: {{ a.name }}-db
                      key: password
              resources:
                requests:
                  cpu: 50m
                  memory: 64Mi
                limits:
                  cpu: 500m
                  memory: 256Mi
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    write(os.path.join(out, "inventory/classes/common.yml"), COMMON)
    for env, text in ENVS.items():
        write(os.path.join(out, f"inventory/classes/env/{env}.yml"), text)
    for name, text in T.items():
        write(os.path.join(out, "templates/app", name), text)
    for i in range(n):
        app = f"app{i:04d}"
        for env in ENVS:
            write(
                os.path.join(out, f"inventory/targets/{app}-{env}.yml"),
                TARGET.format(app=app, env=env, team=i % 17, minor=i % 10,
                              patch=i % 7, port=8080 + (i % 3)),
            )
    print(f"generated {n} apps x {len(ENVS)} envs = {n * len(ENVS)} targets in {out}")


if __name__ == "__main__":
    main()
