use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, locate};

/// An ExternalName Service that points at an IP address.
pub(crate) struct ExternalNameIp;

impl Rule for ExternalNameIp {
    fn code(&self) -> &'static str {
        "K012"
    }

    fn name(&self) -> &'static str {
        "external-name-ip"
    }

    fn severity(&self) -> Severity {
        Severity::Error
    }

    fn doc(&self) -> &'static str {
        r#"## What it does
Flags a Service of type `ExternalName` whose `externalName` is an IP address.

## Why is this bad?
`ExternalName` is a DNS CNAME: cluster DNS answers with the name, and an IP address is
not a name, so lookups fail. A host with a static IP and no DNS name (the seed's Proxmox
VM) is reached through a selector-less Service plus an Endpoints object, which kiln
writes whenever a host's `address` is an IP.

## Example
```yaml
kind: Service
spec: {type: ExternalName, externalName: 192.168.1.50}
```
Use instead (kiln does this for hosts with an IP address): a Service without selector
and an Endpoints object listing `192.168.1.50`.
"#
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for object in cx.objects() {
            let v = &object.value;
            if v["kind"] != "Service" || v["spec"]["type"] != "ExternalName" {
                continue;
            }
            let Some(target) = v["spec"]["externalName"].as_str() else {
                continue;
            };
            if target.parse::<std::net::IpAddr>().is_ok() {
                let (env, subject, span) = locate(cx, &object.path);
                let Some(env) = env else { continue };
                let d = sink
                    .diagnostic(format!("out/{}: ExternalName Service points at the IP address {target}", object.path))
                    .at(span)
                    .help("use a Service without selector and an Endpoints object (give the host its IP as `address`)");
                sink.report(env, subject, d);
            }
        }
    }
}
