//! Typed compose files: the subset of the Compose Specification kiln writes, in the
//! order people read it. Serialized with [`crate::render::yaml`], never templated.

use serde::Serialize;
use std::collections::BTreeMap;

/// A compose file.
#[derive(Serialize)]
pub struct ComposeFile {
    /// The project name (`<group>-<env>`, `<stack>-<env>`, `caddy`); absent in
    /// overrides, which take the upstream file's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Services by name (each with its hand override merged, see [`Service::hand`]).
    #[serde(serialize_with = "services")]
    pub services: BTreeMap<String, Service>,
    /// Named volumes, each bound to a directory under the host's data directory.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
}

/// An image reference, with Flux's setter marker when image automation owns it.
#[derive(Clone, Serialize)]
#[serde(untagged)]
pub enum ImageRef {
    /// `name:tag`.
    Plain(String),
    /// `name:tag # {"$imagepolicy": "flux-system:<app>-<env>"}`.
    Marked(serde_saphyr::Commented<String>),
}

/// One service.
#[derive(Clone, Serialize)]
pub struct Service {
    /// The image.
    pub image: ImageRef,
    /// Replaces the image's entrypoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Restart policy.
    pub restart: &'static str,
    /// Profiles that start the service; none: `docker compose up` starts it
    /// (a job's service is in `jobs`, started only by its crontab entry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// `host` for Caddy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// `uid:gid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Read-only root filesystem.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Writable in-memory paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// Dropped capabilities.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// Added capabilities.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Supplementary groups of the container (the model's `fsGroup`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// Device files of the host in the container (`HOST:CONTAINER`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// What the container reserves of the host: a GPU through its driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    /// Security options.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// Published ports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Extra `/etc/hosts` entries: `host.docker.internal` names the host (what
    /// Docker Desktop provides, spelled out for Linux), so an app can reach a stack
    /// the host publishes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    /// Plain environment values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Files with the secret values, on the host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<EnvFile>,
    /// Mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Mount>,
    /// Services that must be healthy (or started) first.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: BTreeMap<String, DependsOn>,
    /// How Docker decides the service is healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// CPU limit, in CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    /// Memory limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<String>,
    /// Labels; `kiln.app` and `kiln.env` say which app and environment the service is.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The app's hand compose override (`patches.compose`), merged into the service
    /// when the compose file is written ([`super::features::patches::merge`]): the
    /// file holds the merged service, its attributes after `image` in name order.
    #[serde(skip)]
    pub hand: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A service with its hand override merged, as written.
#[derive(Serialize)]
struct MergedService<'a> {
    /// kiln's image (with its setter marker), unless the override replaces it.
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a ImageRef>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// Writes each service, merged with its hand override when it has one.
fn services<S: serde::Serializer>(
    services: &BTreeMap<String, Service>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error, SerializeMap};
    let mut map = serializer.serialize_map(Some(services.len()))?;
    for (name, service) in services {
        let Some(hand) = &service.hand else {
            map.serialize_entry(name, service)?;
            continue;
        };
        let serde_json::Value::Object(mut rest) =
            serde_json::to_value(service).map_err(S::Error::custom)?
        else {
            return Err(S::Error::custom("a service is a mapping"));
        };
        rest.remove("image");
        super::features::patches::merge(&mut rest, hand);
        let image = (!rest.contains_key("image")).then_some(&service.image);
        map.serialize_entry(name, &MergedService { image, rest })?;
    }
    map.end()
}

impl Service {
    /// A service running `image`, restarted unless stopped, with nothing else set.
    pub fn new(image: ImageRef) -> Self {
        Service {
            image,
            entrypoint: None,
            command: None,
            restart: "unless-stopped",
            profiles: Vec::new(),
            network_mode: None,
            user: None,
            read_only: false,
            tmpfs: Vec::new(),
            cap_drop: Vec::new(),
            cap_add: Vec::new(),
            group_add: Vec::new(),
            devices: Vec::new(),
            deploy: None,
            security_opt: Vec::new(),
            ports: Vec::new(),
            extra_hosts: Vec::new(),
            environment: BTreeMap::new(),
            env_file: Vec::new(),
            volumes: Vec::new(),
            depends_on: BTreeMap::new(),
            healthcheck: None,
            cpus: None,
            mem_limit: None,
            labels: BTreeMap::new(),
            hand: None,
        }
    }
}

/// A service's `deploy`: only the device reservations kiln writes.
#[derive(Clone, Serialize)]
pub struct Deploy {
    /// Resources of the host.
    pub resources: DeployResources,
}

/// `deploy.resources`.
#[derive(Clone, Serialize)]
pub struct DeployResources {
    /// What the container is given when it starts.
    pub reservations: Reservations,
}

/// `deploy.resources.reservations`.
#[derive(Clone, Serialize)]
pub struct Reservations {
    /// Devices requested from a driver.
    pub devices: Vec<DeviceRequest>,
}

/// A device request: `{driver: nvidia, count: 1, capabilities: [gpu]}`.
#[derive(Clone, Serialize)]
pub struct DeviceRequest {
    /// The device driver (`nvidia`, the NVIDIA Container Toolkit).
    pub driver: &'static str,
    /// How many devices.
    pub count: u32,
    /// What the devices are used for (`gpu`).
    pub capabilities: Vec<&'static str>,
}

/// A published port (long syntax).
#[derive(Clone, Serialize)]
pub struct Port {
    /// The container port.
    pub target: u16,
    /// The host port.
    pub published: String,
    /// The host address.
    pub host_ip: String,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
}

/// An env file (long syntax). `required: false` lets `docker compose config` validate
/// the project where the file does not exist (CI, this repository); `deploy.sh`
/// refuses to deploy without it.
#[derive(Clone, Serialize)]
pub struct EnvFile {
    /// Path on the host.
    pub path: String,
    /// Always false; see the type's docs.
    pub required: bool,
}

/// A mount (long syntax).
#[derive(Clone, Serialize)]
pub struct Mount {
    /// `volume` or `bind`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Volume name or host path.
    pub source: String,
    /// Path in the container.
    pub target: String,
    /// Mounted read-only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// A dependency.
#[derive(Clone, Serialize)]
pub struct DependsOn {
    /// `service_healthy` or `service_started`.
    pub condition: &'static str,
}

/// A health check.
#[derive(Clone, Serialize)]
pub struct Healthcheck {
    /// The command.
    pub test: Vec<String>,
    /// Between checks.
    pub interval: String,
    /// Per check.
    pub timeout: String,
    /// Failures before unhealthy.
    pub retries: u32,
    /// Grace period after start.
    pub start_period: String,
}

/// A named volume bound to a directory on the host (which `deploy.sh` creates).
#[derive(Serialize)]
pub struct Volume {
    /// Always `local`.
    pub driver: &'static str,
    /// `type: none`, `o: bind`, `device: <dir>` (or `type: nfs`, `o: addr=...`).
    pub driver_opts: BTreeMap<&'static str, String>,
}

impl Mount {
    /// A bind mount of host folder `source` at `target`.
    pub fn bind(source: String, target: String, read_only: bool) -> Self {
        Mount {
            kind: "bind",
            source,
            target,
            read_only,
        }
    }

    /// A mount of compose volume `source` at `target`.
    pub fn volume(source: String, target: String, read_only: bool) -> Self {
        Mount {
            kind: "volume",
            source,
            target,
            read_only,
        }
    }
}

impl Volume {
    /// An NFS export, mounted by the local driver.
    pub fn nfs(server: &str, path: &str) -> Self {
        Volume {
            driver: "local",
            driver_opts: BTreeMap::from([
                ("type", "nfs".to_owned()),
                ("o", format!("addr={server},nfsvers=4,rw")),
                ("device", format!(":{path}")),
            ]),
        }
    }

    /// A volume bound to `dir`.
    pub fn bind(dir: &str) -> Self {
        Volume {
            driver: "local",
            driver_opts: BTreeMap::from([
                ("type", "none".to_owned()),
                ("o", "bind".to_owned()),
                ("device", dir.to_owned()),
            ]),
        }
    }
}

/// Compose reads `$` in strings as interpolation; `$$` is a literal `$`.
pub fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

/// A Kubernetes CPU quantity (`250m`, `1`, `0.5`) as compose CPUs (`0.25`).
pub fn cpus(quantity: &str) -> String {
    match quantity.strip_suffix('m') {
        Some(milli) => {
            let m: u64 = milli.parse().unwrap_or(0);
            let whole = m / 1000;
            let frac = m % 1000;
            if frac == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{}", format!("{frac:03}").trim_end_matches('0'))
            }
        }
        None => quantity.to_owned(),
    }
}

/// A Kubernetes memory quantity as a compose byte value: binary suffixes map to
/// compose's (`128Mi` → `128m`), decimal ones are spelled out in bytes.
pub fn memory(quantity: &str) -> String {
    for (suffix, unit) in [("Ki", "k"), ("Mi", "m"), ("Gi", "g")] {
        if let Some(n) = quantity.strip_suffix(suffix) {
            return format!("{n}{unit}");
        }
    }
    if let Some(n) = quantity.strip_suffix("Ti") {
        return format!("{}g", n.parse::<u64>().unwrap_or(0) * 1024);
    }
    for (suffix, factor) in [
        ("k", 1_000u64),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ] {
        if let Some(n) = quantity.strip_suffix(suffix)
            && let Ok(n) = n.parse::<u64>()
        {
            return (n * factor).to_string();
        }
    }
    quantity.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_quantities_become_compose_limits() {
        assert_eq!(cpus("250m"), "0.25");
        assert_eq!(cpus("1000m"), "1");
        assert_eq!(cpus("1500m"), "1.5");
        assert_eq!(cpus("2"), "2");
        assert_eq!(memory("128Mi"), "128m");
        assert_eq!(memory("1Gi"), "1g");
        assert_eq!(memory("500M"), "500000000");
    }

    #[test]
    fn dollars_are_literal_for_compose() {
        assert_eq!(escape_dollars("a $HOME $(date)"), "a $$HOME $$(date)");
    }
}
