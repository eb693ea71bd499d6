//! Wiring checks: every reference that crosses objects or targets, followed in what a
//! build would write, so `kiln check` can end with `wiring: N/N points verified`.
//!
//! kiln derives both ends of each reference from one model, so in its own output every
//! point holds; the checks catch a template override or a renderer that drifts (they
//! read what the build renders, never the files on disk). Each broken point is an
//! error located at the model element the file comes from (its [`crate::layout::Provenance`]). The points, one file each,
//! listed once in [`WIRES`]: route → Service → port; every secret a pod reads → that
//! key in its namespace; network policy → exact namespace and port; wait-for-db → the
//! database Service and port; Flux Kustomization → existing path; Kustomization →
//! GitRepository; ImagePolicy → ImageRepository → the image an overlay or compose file
//! marks; CI tag format → ImagePolicy pattern; deploy steps → Role verbs;
//! Service+EndpointSlice → host address and port; Caddy route → published port; backup
//! job → database service.

mod backups;
mod built;
mod caddy_ports;
mod database_waits;
mod endpoints;
mod flux_paths;
mod flux_sources;
mod image_policies;
mod network_policies;
mod role_verbs;
mod routes;
mod secret_keys;
mod tag_formats;

use crate::diagnostic::{Diagnostic, Diagnostics, checks::BROKEN_WIRE};
use crate::inspect::lint::{LintContext, OutputObject, locate};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the checks found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Points that hold.
    pub verified: usize,
    /// Points checked.
    pub total: usize,
}

/// One kind of wiring point.
pub struct Wire {
    /// What it connects, e.g. "route → service → port".
    pub name: &'static str,
    /// Checks every point of this kind: `ok` for each that holds, `broken` for each
    /// that does not.
    pub check: fn(&LintContext<'_>, &mut Points<'_>),
}

/// Every kind of wiring point, in the order they are checked.
pub static WIRES: &[Wire] = &[
    routes::WIRE,
    secret_keys::WIRE,
    network_policies::WIRE,
    database_waits::WIRE,
    flux_paths::WIRE,
    flux_sources::WIRE,
    image_policies::WIRE,
    tag_formats::WIRE,
    role_verbs::WIRE,
    endpoints::WIRE,
    caddy_ports::WIRE,
    backups::WIRE,
];

/// Where wires report.
pub struct Points<'a> {
    wire: &'static str,
    report: &'a mut Report,
    diags: &'a mut Diagnostics,
}

impl Points<'_> {
    /// A point that holds.
    fn ok(&mut self) {
        self.report.verified += 1;
        self.report.total += 1;
    }

    /// A point that does not hold, in the file at `path` (located through the file's
    /// provenance).
    fn broken(&mut self, cx: &LintContext<'_>, path: &str, message: String) {
        self.report.total += 1;
        let (_, _, span) = locate(cx, path);
        self.diags.push(
            Diagnostic::error(BROKEN_WIRE, format!("{}: out/{path}: {message}", self.wire))
                .at(span)
                .help(cause(&cx.overrides)),
        );
    }

    /// A point in the file at `path` that holds when `holds` does.
    fn expect(
        &mut self,
        cx: &LintContext<'_>,
        holds: bool,
        path: &str,
        message: impl FnOnce() -> String,
    ) {
        if holds {
            self.ok()
        } else {
            self.broken(cx, path, message())
        }
    }
}

/// What a broken point comes from. The wires read what this build renders (never the
/// files on disk, so not a hand edit): a template the project overrides, or, with none,
/// kiln itself.
fn cause(overrides: &[String]) -> String {
    if overrides.is_empty() {
        "kiln wrote both ends from this model and the project overrides no template, so this is a defect in kiln: please report it with the model".to_owned()
    } else {
        format!(
            "kiln writes both ends from the model; the project overrides {}: fix the override that breaks this (or delete it to use kiln's default), otherwise report it with the model",
            overrides.join(", ")
        )
    }
}

/// Runs every wire over what a build would write.
pub fn run(cx: &LintContext<'_>, diags: &mut Diagnostics) -> Report {
    use rayon::prelude::*;
    // The objects every wire reads, prepared once; then the wires in parallel, each
    // into its own report, merged in `WIRES` order (the same as one after the other).
    cx.objects();
    let found: Vec<(Report, Diagnostics)> = WIRES
        .par_iter()
        .map(|wire| {
            let mut own = Diagnostics::default();
            let report = run_one(wire, cx, &mut own, Report::default());
            (report, own)
        })
        .collect();
    let mut total = Report::default();
    for (report, own) in found {
        total.verified += report.verified;
        total.total += report.total;
        diags.append(own);
    }
    total
}

/// Runs one wire, adding its points to `report`.
pub fn run_one(
    wire: &Wire,
    cx: &LintContext<'_>,
    diags: &mut Diagnostics,
    mut report: Report,
) -> Report {
    let mut points = Points {
        wire: wire.name,
        report: &mut report,
        diags,
    };
    (wire.check)(cx, &mut points);
    report
}

/// The objects of kind `kind`.
fn objects_of<'a>(
    cx: &'a LintContext<'_>,
    kind: &'a str,
) -> impl Iterator<Item = &'a OutputObject> {
    cx.objects().iter().filter(move |o| o.value["kind"] == kind)
}

/// An object's name.
fn name(v: &Value) -> &str {
    v["metadata"]["name"].as_str().unwrap_or_default()
}

/// The Services of app `app` (whatever target wrote them): name → ports.
fn services_of(cx: &LintContext<'_>, app: &str) -> BTreeMap<String, BTreeSet<i64>> {
    let mut out: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for o in cx
        .objects_of_app(app)
        .filter(|o| o.value["kind"] == "Service")
    {
        let ports = o.value["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["port"].as_i64());
        out.entry(name(&o.value).to_owned())
            .or_default()
            .extend(ports);
    }
    out
}

/// Every Flux Kustomization.
fn flux_kustomizations<'a>(cx: &'a LintContext<'_>) -> impl Iterator<Item = &'a OutputObject> {
    cx.objects().iter().filter(|o| {
        o.value["kind"] == "Kustomization"
            && o.value["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    })
}
