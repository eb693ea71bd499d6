//! The cluster side of an app that runs on a host: a Service the cluster's ingress can
//! route to (with an EndpointSlice when the host has an IP address, or an
//! ExternalName Service when it has a DNS name: kiln chooses), and the Job that
//! redeploys the app over SSH when Flux image automation commits a new tag.

use super::{AppCx, Object, pod};
use crate::model::{DeployFrom, Host};
use crate::render::templates::shell_quote;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, KeyToPath, PodSpec, PodTemplateSpec, SecretVolumeSource, Service,
    ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::net::IpAddr;

/// The image the deploy Job runs: git plus an OpenSSH client, multi-arch.
pub const DEPLOY_IMAGE: &str = "alpine/git:2.49.1";

/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Where the SSH secret is mounted in the deploy Job.
const SSH_DIR: &str = "/ssh";

/// The port the cluster reaches a host app on: its published port.
pub fn host_port_of(app: &crate::model::App) -> u16 {
    app.publish
        .as_ref()
        .and_then(|p| p.port)
        .unwrap_or(app.http_port())
}

/// The Service (and EndpointSlice) routes use to reach the app on `host`.
pub fn service(cx: &AppCx<'_>, host: &Host) -> Vec<Object> {
    let port = cx.service_port;
    let service_port = ServicePort {
        name: Some("http".to_owned()),
        port: i32::from(port),
        target_port: Some(IntOrString::Int(i32::from(port))),
        protocol: Some("TCP".to_owned()),
        ..Default::default()
    };
    match host.address.parse::<IpAddr>() {
        Ok(ip) => {
            let svc = Service {
                metadata: cx.meta(cx.name.as_str(), "external"),
                spec: Some(ServiceSpec {
                    type_: Some("ClusterIP".to_owned()),
                    ports: Some(vec![service_port]),
                    ..Default::default()
                }),
                ..Default::default()
            };
            // discovery.k8s.io/v1 EndpointSlice (v1 Endpoints is deprecated since
            // Kubernetes 1.33), tied to the Service by its `service-name` label.
            let mut metadata = cx.meta(cx.name.as_str(), "external");
            if let Some(labels) = metadata.labels.as_mut() {
                labels.insert(SERVICE_NAME_LABEL.to_owned(), cx.name.to_string());
            }
            let endpoints = EndpointSlice {
                metadata,
                address_type: if ip.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned(),
                endpoints: Some(vec![Endpoint {
                    addresses: vec![ip.to_string()],
                    ..Default::default()
                }]),
                ports: Some(vec![EndpointPort {
                    name: Some("http".to_owned()),
                    port: Some(i32::from(port)),
                    protocol: Some("TCP".to_owned()),
                    ..Default::default()
                }]),
            };
            vec![Object::from(&svc), Object::from(&endpoints)]
        }
        Err(_) => {
            let svc = Service {
                metadata: cx.meta(cx.name.as_str(), "external"),
                spec: Some(ServiceSpec {
                    type_: Some("ExternalName".to_owned()),
                    external_name: Some(host.address.clone()),
                    ports: Some(vec![service_port]),
                    ..Default::default()
                }),
                ..Default::default()
            };
            vec![Object::from(&svc)]
        }
    }
}

/// The name of an app's deploy Job.
pub fn deploy_job_name(app: &str) -> String {
    format!("{app}-deploy")
}

/// The script the deploy Job runs: copy the key where ssh accepts its mode, then run
/// the host's generated deploy script from an up-to-date checkout.
pub fn deploy_script(host_name: &str, host: &Host, from: &DeployFrom, app: &str) -> String {
    let remote = format!(
        "cd {} && git pull --ff-only && {} {}",
        shell_quote(&from.checkout),
        crate::layout::in_checkout(
            ".",
            &crate::layout::host_file(host_name, crate::layout::DEPLOY_SCRIPT)
        ),
        shell_quote(app)
    );
    format!(
        "set -eu\n\
         # Secret volumes are group-readable under fsGroup; ssh wants the key private.\n\
         install -m 600 {SSH_DIR}/ssh-privatekey /tmp/id\n\
         exec ssh -i /tmp/id -o BatchMode=yes -o StrictHostKeyChecking=yes \
         -o UserKnownHostsFile={SSH_DIR}/known_hosts {} {}\n",
        shell_quote(&format!("{}@{}", from.user, host.address)),
        shell_quote(&remote),
    )
}

/// The Job that redeploys the app on its host.
pub fn deploy_job(cx: &AppCx<'_>, host_name: &str, host: &Host, from: &DeployFrom) -> Object {
    let name = deploy_job_name(cx.name.as_str());
    let uid = 10001;
    let (scratch, scratch_mount) = pod::writable_paths(&["/tmp".to_owned()]);
    let container = Container {
        name: "deploy".to_owned(),
        image: Some(DEPLOY_IMAGE.to_owned()),
        image_pull_policy: Some("Always".to_owned()),
        command: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            deploy_script(host_name, host, from, cx.name.as_str()),
        ]),
        env: Some(vec![EnvVar {
            name: "HOME".to_owned(),
            value: Some("/tmp".to_owned()),
            value_from: None,
        }]),
        resources: Some(pod::helper_resources()),
        security_context: Some(pod::container_security(true)),
        volume_mounts: Some(
            [VolumeMount {
                name: "ssh".to_owned(),
                mount_path: SSH_DIR.to_owned(),
                read_only: Some(true),
                ..Default::default()
            }]
            .into_iter()
            .chain(scratch_mount)
            .collect(),
        ),
        ..Default::default()
    };
    let ssh = Volume {
        name: "ssh".to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(from.ssh_key.to_string()),
            default_mode: Some(0o400),
            items: Some(vec![
                KeyToPath {
                    key: "ssh-privatekey".to_owned(),
                    path: "ssh-privatekey".to_owned(),
                    ..Default::default()
                },
                KeyToPath {
                    key: "known_hosts".to_owned(),
                    path: "known_hosts".to_owned(),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }),
        ..Default::default()
    };
    Object::from(&Job {
        metadata: cx.job_meta(&name, "deploy"),
        spec: Some(JobSpec {
            backoff_limit: Some(1),
            active_deadline_seconds: Some(900),
            template: PodTemplateSpec {
                metadata: Some(cx.meta(&name, "deploy")),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    restart_policy: Some("Never".to_owned()),
                    security_context: Some(pod::pod_security(uid, uid)),
                    containers: vec![container],
                    volumes: Some([ssh].into_iter().chain(scratch).collect()),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_script_quotes_everything_it_passes_to_the_host() {
        let host = Host {
            address: "192.168.1.50".into(),
            arch: Default::default(),
            deploy_from: None,
            data_dir: "/srv/kiln".into(),
            caddy: None,
        };
        let from = DeployFrom {
            cluster: crate::model::Name::parse("pi").unwrap(),
            user: "deploy".into(),
            ssh_key: crate::model::Name::parse("vm-ssh-key").unwrap(),
            checkout: "/opt/my config".into(),
        };
        let script = deploy_script("vm", &host, &from, "backend");
        let last = script.lines().last().unwrap();
        let words = shlex::split(last).unwrap();
        assert_eq!(words[words.len() - 2], "deploy@192.168.1.50");
        assert_eq!(
            words[words.len() - 1],
            "cd '/opt/my config' && git pull --ff-only && ./out/hosts/vm/deploy.sh backend"
        );
    }
}
