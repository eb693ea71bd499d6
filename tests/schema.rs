//! `schema/` is generated from the model types; this test keeps it equal to them.
//! `UPDATE_SCHEMA=1 cargo test` rewrites it.

use crate::support::repo;

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

#[test]
fn committed_schemas_match_the_model_types() {
    let files = [
        (
            "schema/kiln.schema.json",
            pretty(&kiln::model::schema::model_schema()),
        ),
        (
            "schema/environment-file.schema.json",
            pretty(&kiln::model::schema::file_schema()),
        ),
    ];
    let update = std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (path, want) in &files {
        let full = repo().join(path);
        if update {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, want).unwrap();
        } else if std::fs::read_to_string(&full).ok().as_deref() != Some(want.as_str()) {
            stale.push(*path);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from the model types; run `UPDATE_SCHEMA=1 cargo test schema` and review the diff"
    );
}

#[test]
fn every_environment_file_names_the_schema_for_editors() {
    for entry in std::fs::read_dir(repo().join("environments"))
        .unwrap()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with(
                    "# yaml-language-server: $schema=../schema/environment-file.schema.json\n"
                ),
                "{} does not start with the schema line",
                path.display()
            );
        }
    }
}
