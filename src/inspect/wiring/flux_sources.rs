//! Flux Kustomization → GitRepository: every Flux Kustomization reads a GitRepository
//! defined for the same cluster.

use super::{Points, Wire, flux_kustomizations, name, objects_of};
use crate::crd::flux::Kustomization;
use crate::inspect::lint::LintContext;
use std::collections::BTreeSet;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "Flux Kustomization → GitRepository",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    // (cluster, name) of every GitRepository, by the clusters its file is applied to.
    let repos: BTreeSet<(&str, &str)> = objects_of(cx, "GitRepository")
        .flat_map(|o| {
            o.provenance
                .clusters
                .iter()
                .map(|c| (c.as_str(), name(&o.value)))
        })
        .collect();
    for o in flux_kustomizations(cx) {
        let spec = Kustomization::of(&o.value)
            .map(|k| k.spec)
            .unwrap_or_default();
        let source = spec.source_ref.name.as_str();
        let defined = !o.provenance.clusters.is_empty()
            && o.provenance
                .clusters
                .iter()
                .all(|c| repos.contains(&(c.as_str(), source)));
        points.expect(cx, defined, &o.path, || {
            format!("reads GitRepository `{source}`, which this cluster's tree does not define")
        });
    }
}
