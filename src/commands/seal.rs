//! `kiln seal`: obtain secret values from their sources, seal them with the
//! controller's certificate, and write `environments/sealed/<env>.yaml`.

use super::{Outcome, Printer, selected_envs};
use crate::cli::{GlobalArgs, SealArgs};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Project;
use crate::secrets::cert::Certificate;
use crate::secrets::seal::OsRandomness;
use crate::secrets::sealed_file;
use crate::secrets::sealer::{self, Request};
use crate::secrets::values::System;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn run(g: &GlobalArgs, args: &SealArgs, out: &Printer) -> crate::Result<Outcome> {
    let _lock = super::lock_project(g, true, out)?;
    let (mut project, mut diags) = crate::model::load(&g.root);
    crate::validate::model(&project, &mut diags);
    let (sealed, sealed_diags) = sealed_file::load(&g.root, &mut project);
    diags.extend(sealed_diags.into_sorted(&project.sources));
    let errors: Vec<Diagnostic> = diags
        .into_sorted(&project.sources)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        out.diagnostics(&errors, &project.sources);
        out.summary("nothing was sealed: fix the errors above first");
        return Ok(Outcome::Error);
    }
    let envs = selected_envs(g, &project)?;
    let known: BTreeSet<&str> = envs
        .iter()
        .flat_map(|e| e.model.secrets.keys().map(|s| s.as_str()))
        .collect();
    for s in &args.secrets {
        if !known.contains(s.as_str()) {
            return Err(crate::Error::Usage(format!(
                "no secret is named `{s}`{} (secrets: {})",
                crate::suggest::hint(s, known.iter().copied()),
                known.iter().copied().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let certs = certificates(&project, &args.cert)?;
    let mut obtain = System::default();
    let mut problems = Diagnostics::default();
    let mut results = Vec::new();
    for env in &envs {
        let request = Request {
            only: &args.secrets,
            rotate: args.rotate,
            certs: &certs,
        };
        let existing = sealed.env(env.name.as_str());
        match sealer::seal_env(env, existing, &request, &mut obtain, &mut OsRandomness) {
            Ok(outcome) => results.push((env.name.to_string(), existing.clone(), outcome)),
            Err(d) => problems.extend(d),
        }
    }
    if problems.has_errors() {
        out.diagnostics(&problems.into_sorted(&project.sources), &project.sources);
        out.summary(
            "nothing was sealed or written: fix the errors above and run `kiln seal` again",
        );
        return Ok(Outcome::Error);
    }
    let mut lines = Vec::new();
    for (env, before, outcome) in &results {
        if outcome.file != *before {
            crate::output::atomic_write(
                &g.root,
                &format!("environments/sealed/{env}.yaml"),
                outcome.file.to_text(env).as_bytes(),
                false,
            )?;
        }
        for s in &outcome.sealed {
            let (cluster, namespace, secret, key) = &s.at;
            lines.push(format!(
                "  {env}: sealed {secret}/{key} in {namespace} on {cluster} ({})",
                s.why.as_str()
            ));
        }
        for (cluster, c) in &before.clusters {
            let values = |c: &crate::secrets::sealed_file::SealedCluster| -> Vec<String> {
                c.namespaces
                    .values()
                    .flat_map(|secrets| secrets.values())
                    .flat_map(|keys| keys.values().map(|v| v.value.clone()))
                    .collect()
            };
            let old = values(c);
            let kept_old = outcome
                .file
                .clusters
                .get(cluster)
                .is_some_and(|now| values(now).iter().any(|v| old.contains(v)));
            if let Some(cert) = certs.get(cluster)
                && cert.fingerprint() != c.certificate
                && kept_old
            {
                lines.push(format!(
                    "  {env}: warning: values kept for cluster {cluster} were sealed for certificate {}, not {}; they open only while the controller still has that key (if it lost it: --rotate)",
                    c.certificate,
                    cert.fingerprint()
                ));
            }
        }
        for key in &outcome.regenerated {
            lines.push(format!(
                "  {env}: warning: {key} was generated anew; wherever its old value is in use (a database password is read only at first start), change it there too"
            ));
        }
        lines.push(format!(
            "  {env}: {} sealed, {} kept, {} removed",
            outcome.sealed.len(),
            outcome.kept,
            outcome.removed
        ));
    }
    let changed = results.iter().any(|(_, before, o)| o.file != *before);
    out.summary(&format!(
        "kiln seal:\n{}\n{}",
        lines.join("\n"),
        if changed {
            "now run `kiln build` and commit environments/sealed/ with out/"
        } else {
            "nothing to seal: every value is current (`--rotate` seals again)"
        }
    ));
    Ok(Outcome::Clean)
}

/// Reads `--cert [CLUSTER=]PATH` arguments into one certificate per cluster.
fn certificates(
    project: &Project,
    args: &[String],
) -> crate::Result<BTreeMap<String, Certificate>> {
    let clusters: BTreeSet<String> = project
        .environments
        .iter()
        .flat_map(|e| e.model.clusters.keys().map(ToString::to_string))
        .collect();
    let now = std::time::SystemTime::now();
    let read = |path: &str| -> crate::Result<Certificate> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::Error::io("cannot read the certificate", path, e))?;
        Certificate::parse(&text, now)
            .map_err(|e| crate::Error::Usage(format!("--cert {path}: {e}")))
    };
    let mut default = None;
    let mut map = BTreeMap::new();
    for arg in args {
        match arg.split_once('=') {
            Some((cluster, path)) if clusters.contains(cluster) => {
                map.insert(cluster.to_owned(), read(path)?);
            }
            _ => {
                if default.is_some() {
                    return Err(crate::Error::Usage(
                        "--cert PATH is given twice; use --cert CLUSTER=PATH for each cluster"
                            .to_owned(),
                    ));
                }
                default = Some(read(arg)?);
            }
        }
    }
    if let Some(cert) = default {
        for cluster in clusters {
            map.entry(cluster).or_insert_with(|| cert.clone());
        }
    }
    Ok(map)
}
