use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, locate};

/// An ExternalName Service that points at an IP address.
pub(crate) struct ExternalNameIp;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K012",
    name: "external-name-ip",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A Service of type `ExternalName` that points at an IP address.",
    fix: "use a Service without selector and an EndpointSlice (give the host its IP as `address`)",
    doc: r#"## What it does
Flags a Service of type `ExternalName` whose `externalName` is an IP address.

## Why is this bad?
`ExternalName` is a DNS CNAME: cluster DNS answers with the name, and an IP address is
not a name, so lookups fail. A host with a static IP and no DNS name (the seed's Proxmox
VM) is reached through a selector-less Service plus an EndpointSlice, which kiln
writes whenever a host's `address` is an IP.

## Example
```yaml
kind: Service
spec: {type: ExternalName, externalName: 192.168.1.50}
```
Use instead (kiln does this for hosts with an IP address): a Service without selector
and an EndpointSlice listing `192.168.1.50`.

## How to fix
Give the host its IP as `address`: kiln then writes a Service without selector and an
EndpointSlice. If the file comes from a template override, change the override.
"#,
};

impl Rule for ExternalNameIp {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
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
                    .help("use a Service without selector and an EndpointSlice (give the host its IP as `address`)");
                sink.report(env, subject, d);
            }
        }
    }
}
