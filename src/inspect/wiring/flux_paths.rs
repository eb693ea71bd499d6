//! Flux Kustomization → path: every Flux Kustomization's `path` is a folder kiln
//! writes a `kustomization.yaml` to.

use super::{Points, Wire, flux_kustomizations};
use crate::crd::flux::Kustomization;
use crate::inspect::lint::LintContext;
use crate::layout;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "Flux Kustomization → path",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    for o in flux_kustomizations(cx) {
        let spec = Kustomization::of(&o.value)
            .map(|k| k.spec)
            .unwrap_or_default();
        let path = spec.path.as_str();
        let written = layout::from_repository(path)
            .is_some_and(|dir| cx.output.get(&layout::kustomization(dir)).is_some());
        points.expect(cx, written, &o.path, || {
            format!("path `{path}` is not a folder kiln writes a kustomization.yaml to")
        });
    }
}
