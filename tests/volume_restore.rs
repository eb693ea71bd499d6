//! Volume backups restore: the archive `backup.sh` writes (and the one the scheduled
//! backup writes on either target) is put back by `restore.sh`'s own function, and
//! the folder is then what it was when archived; a restore that cannot finish leaves
//! the folder as it was. The functions are taken from the scripts kiln generated for
//! the `backups` golden case, so the test runs exactly what a host runs.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const OUT: &str = "tests/golden/backups/expected/out/hosts/box";

/// The shell function `name` as written in the generated script `file`.
fn function(file: &str, name: &str) -> String {
    let text = fs::read_to_string(Path::new(OUT).join(file)).unwrap();
    let start = text
        .find(&format!("\n{name}() {{\n"))
        .unwrap_or_else(|| panic!("{file} has no function {name}"));
    let end = start + text[start..].find("\n}\n").unwrap() + 3;
    text[start..end].to_owned()
}

/// Every file and folder under `dir`: relative path → contents (folders: empty) and mode.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&p).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                out.insert(rel, (Vec::new(), mode));
                stack.push(p);
            } else {
                out.insert(rel, (fs::read(&p).unwrap(), mode));
            }
        }
    }
    out
}

fn owner() -> String {
    let id = |flag: &str| {
        String::from_utf8(Command::new("id").arg(flag).output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned()
    };
    format!("{}:{}", id("-u"), id("-g"))
}

/// A volume with nested folders, a dotfile, odd names, binary content and modes.
fn fill(dir: &Path) {
    fs::create_dir_all(dir.join("db/wal")).unwrap();
    fs::create_dir_all(dir.join("empty")).unwrap();
    fs::write(
        dir.join("db.sqlite3"),
        (0..=255u8).cycle().take(70_000).collect::<Vec<_>>(),
    )
    .unwrap();
    fs::write(dir.join("db/wal/000001"), b"wal").unwrap();
    fs::write(dir.join(".hidden"), b"dot").unwrap();
    fs::write(dir.join("name with spaces $x 'q'"), b"odd").unwrap();
    fs::write(dir.join("rsa_key.pem"), b"secret").unwrap();
    fs::set_permissions(dir.join("rsa_key.pem"), fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn an_archive_of_a_volume_restores_it_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("vault-data");
    let archives = tmp.path().join("backups");
    fs::create_dir_all(&archives).unwrap();
    fill(&data);
    let before = snapshot(&data);
    let archive = archives.join("vault-data_20261203T000000Z.tar.gz");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -eu\n{}\narchive_volume \"$1\" \"$2\"",
            function("backup.sh", "archive_volume")
        ))
        .arg("_")
        .arg(&data)
        .arg(&archive)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        archive.exists()
            && !archives
                .join("vault-data_20261203T000000Z.tar.gz.partial")
                .exists()
    );

    // What the app did after the backup: lost a file, changed one, wrote another.
    fs::remove_file(data.join("db/wal/000001")).unwrap();
    fs::write(data.join("db.sqlite3"), b"corrupted").unwrap();
    fs::write(data.join("new-file"), b"after").unwrap();
    assert_ne!(snapshot(&data), before);

    let restore = |archive: &Path| {
        Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -u\n{}\nrestore_volume \"$1\" \"$2\" \"$3\"",
                function("restore.sh", "restore_volume")
            ))
            .arg("_")
            .arg(&data)
            .arg(archive)
            .arg(owner())
            .output()
            .unwrap()
    };
    let out = restore(&archive);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        snapshot(&data),
        before,
        "the restored volume differs from the archived one"
    );
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("vault-data."))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left: {leftovers:?}");

    // A restore from a broken archive fails and leaves the folder as it was.
    fs::write(data.join("new-file"), b"after").unwrap();
    let now = snapshot(&data);
    let broken = archives.join("vault-data_20261204T000000Z.tar.gz");
    let bytes = fs::read(&archive).unwrap();
    fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let out = restore(&broken);
    assert!(!out.status.success(), "a truncated archive restored");
    assert_eq!(snapshot(&data), now, "a failed restore changed the folder");
}
