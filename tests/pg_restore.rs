//! Database dumps restore, with a real PostgreSQL: every dump kiln schedules or
//! documents (the Kubernetes backup CronJob, the host stack's nightly `db-backup`
//! service, `backup.sh`, the runbook's "take one first") is put back by the restore
//! kiln documents for it (`restore.sh` on a host, the runbook's `pg_restore` on a
//! cluster) into the live database, which still has its tables, and the data is then
//! what it was when dumped. A broken dump changes nothing, and `restore.sh` leaves
//! the stack's services running.
//!
//! The commands are the generated ones, taken from the committed reference `out/`:
//! `backup.sh` and `restore.sh` run whole, with `docker` and `kubectl` stubbed to
//! run the in-container command on this machine; the scripts of the CronJob and the
//! `db-backup` service run as written, with only their container paths (`/backups`,
//! the password file) moved into a temporary directory. The server is Debian's
//! `postgresql` package, started by the test on a free port in a temporary
//! directory. Without its binaries the test is skipped with a message, unless
//! `KILN_REQUIRE_VALIDATORS=1` (set by `tools/test.sh`, which CI runs and which
//! installs them), when it fails.

use crate::support::repo;
use crate::support::restore::{files, ok, required, text, truncated};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding `initdb`, `pg_ctl`, `psql`, `pg_dump` and `pg_restore` of
/// one version: Debian's newest `/usr/lib/postgresql/<major>/bin`, else where
/// `initdb` on `PATH` really lives.
fn postgres_bin() -> Option<PathBuf> {
    let has_all = |d: &Path| {
        ["initdb", "pg_ctl", "psql", "pg_dump", "pg_restore"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, d)| has_all(d))
        .collect();
    debian.sort();
    if let Some((_, d)) = debian.pop() {
        return Some(d);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter_map(|d| fs::canonicalize(d.join("initdb")).ok())
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .find(|d| has_all(d))
}

/// The superuser's password, and that of the Kubernetes app's database user.
const SUPERUSER_PASSWORD: &str = "pw-postgres";
const APP_PASSWORD: &str = "pw-invoicetron";

/// A PostgreSQL server of its own, on a free port of 127.0.0.1, password
/// authentication only; stopped when dropped.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// As root, the server runs as Debian's `postgres` user (initdb refuses root).
    as_user: Option<String>,
    _dir: tempfile::TempDir,
}

impl Postgres {
    fn server_command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match &self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    fn start(bin: PathBuf) -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        let as_user = root.then(|| "postgres".to_owned());
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pwfile");
        fs::write(&pwfile, SUPERUSER_PASSWORD).unwrap();
        fs::set_permissions(&pwfile, fs::Permissions::from_mode(0o644)).unwrap();
        if root {
            fs::create_dir(&data).unwrap();
            ok(
                Command::new("chown")
                    .arg("postgres:")
                    .arg(&data)
                    .output()
                    .unwrap(),
                "chown postgres: the data directory (running as root needs Debian's postgres user)",
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            bin,
            data: data.clone(),
            port,
            as_user,
            _dir: dir,
        };
        ok(
            pg.server_command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ])
                .arg(format!("--pwfile={}", pwfile.display()))
                .output()
                .unwrap(),
            "initdb",
        );
        ok(
            pg.server_command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(data.join("server.log"))
                .arg("-o")
                .arg(format!(
                    "-c listen_addresses=127.0.0.1 -p {port} -k {}",
                    data.display()
                ))
                .args(["-w", "start"])
                .output()
                .unwrap(),
            "pg_ctl start",
        );
        pg
    }

    /// Runs `sql` as the superuser in `db`; its rows, `|`-separated.
    fn sql(&self, db: &str, sql: &str) -> String {
        let out = ok(
            Command::new(self.bin.join("psql"))
                .args([
                    "-X",
                    "-q",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                ])
                .arg("-p")
                .arg(self.port.to_string())
                .args(["-U", "postgres", "-d", db, "-c", sql])
                .env("PGPASSWORD", SUPERUSER_PASSWORD)
                .output()
                .unwrap(),
            &format!("psql {sql}"),
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// Tables with a foreign key, an index, a sequence and enough rows that a dump cut
/// in half loses data, not only its table of contents.
const SCHEMA: &str = "CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL);
    CREATE TABLE lines (order_id int NOT NULL REFERENCES orders(id), qty int NOT NULL);
    CREATE INDEX lines_order ON lines (order_id);
    INSERT INTO orders (item) SELECT 'item ' || i FROM generate_series(1, 3000) i;
    INSERT INTO lines SELECT id, id % 7 FROM orders;";

/// What the app did after the backup.
const CHANGE: &str = "DELETE FROM lines WHERE order_id > 10; DELETE FROM orders WHERE id > 10;
    UPDATE orders SET item = 'changed'; INSERT INTO orders (item) VALUES ('after');";

/// The data, as one line.
fn contents(pg: &Postgres, db: &str) -> String {
    pg.sql(
        db,
        "SELECT count(*) || ' ' || md5(string_agg(id || ':' || item, ',' ORDER BY id)) \
         || ' ' || (SELECT count(*) || ':' || sum(qty) FROM lines) \
         || ' ' || (SELECT last_value FROM orders_id_seq) FROM orders",
    )
}

/// A stub `docker compose` (only what backup.sh and restore.sh use) and `kubectl exec`:
/// `exec` runs the command here with the container's environment; `stop` and `up`
/// record which services are stopped (`$STATE/stopped-<service>`) and are logged.
fn stubs(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let docker = r#"#!/usr/bin/env bash
set -eu
[ "$1" = compose ] || { echo "stub docker: $*" >&2; exit 99; }
shift
while [ "$#" -gt 0 ]; do
	case "$1" in
	--project-name | --project-directory | --env-file | --file) shift 2 ;;
	*) break ;;
	esac
done
cmd="$1"
shift
echo "$cmd $*" >>"$STATE/log"
case "$cmd" in
config) [ "$1" = --services ] && printf '%s\n' $SERVICES ;;
stop) for s in "$@"; do touch "$STATE/stopped-$s"; done ;;
up) rm -f "$STATE"/stopped-* ;;
exec)
	[ "$1" = -T ] && shift
	shift
	POSTGRES_PASSWORD="$CONTAINER_PASSWORD" exec "$@"
	;;
*) echo "stub docker: unexpected compose $cmd" >&2; exit 99 ;;
esac
"#;
    // In the pod, PostgreSQL trusts local connections; here the stub gives the password.
    let kubectl = r#"#!/usr/bin/env bash
set -eu
[ "$1" = -n ] && [ "$3" = exec ] || { echo "stub kubectl: $*" >&2; exit 99; }
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do shift; done
shift
PGHOST=127.0.0.1 PGPASSWORD="$POD_PASSWORD" exec "$@"
"#;
    for (name, body) in [("docker", docker), ("kubectl", kubectl)] {
        fs::write(dir.join(name), body).unwrap();
        fs::set_permissions(dir.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A shell with the stubs and the server's binaries first on `PATH`, connecting to
/// the test's server by port (and by address for any host name).
fn shell(pg: &Postgres, stubs: &Path, state: &Path, script: &str) -> Command {
    let path = std::env::join_paths(
        [stubs.to_path_buf(), pg.bin.clone()]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(script)
        .arg("bash")
        .env("PATH", path)
        .env("PGPORT", pg.port.to_string())
        .env("PGHOSTADDR", "127.0.0.1")
        .env("STATE", state)
        .env("SERVICES", "db auth rest storage db-backup")
        .env("CONTAINER_PASSWORD", SUPERUSER_PASSWORD)
        .env("POD_PASSWORD", APP_PASSWORD)
        .env_remove("PGPASSWORD")
        .env_remove("PGUSER")
        .env_remove("PGDATABASE");
    c
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&fs::read_to_string(repo().join(path)).unwrap()).unwrap()
}

#[test]
fn every_dump_kiln_writes_restores_into_the_live_database() {
    let Some(bin) = postgres_bin() else {
        assert!(
            !required(),
            "KILN_REQUIRE_VALIDATORS=1 but PostgreSQL's initdb, pg_ctl, psql, pg_dump and \
             pg_restore are not installed (tools/validators/setup-validators.sh installs \
             Debian's postgresql)"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "SKIPPED every_dump_kiln_writes_restores_into_the_live_database: no PostgreSQL \
                 binaries (apt-get install postgresql, or run tools/test.sh)"
            );
        }
        return;
    };
    let pg = Postgres::start(bin);
    let tmp = tempfile::tempdir().unwrap();
    let stub_dir = tmp.path().join("stubs");
    let state = tmp.path().join("state");
    fs::create_dir_all(&state).unwrap();
    stubs(&stub_dir);

    host_stack(&pg, tmp.path(), &stub_dir, &state);
    kubernetes_app(&pg, tmp.path(), &stub_dir, &state);
}

/// The `supabase` stack on host `vm`: its nightly `db-backup` service and
/// `backup.sh` dump, `restore.sh` restores.
fn host_stack(pg: &Postgres, tmp: &Path, stubs: &Path, state: &Path) {
    const MANUAL: &str = "/opt/kiln/supabase-prod/manual-backups/db";
    pg.sql("postgres", SCHEMA);
    let original = contents(pg, "postgres");

    // backup.sh and restore.sh as generated, their manual-backups folder moved here.
    let host = tmp.join("host");
    let manual = tmp.join("manual");
    fs::create_dir_all(&host).unwrap();
    for script in ["backup.sh", "restore.sh"] {
        let text = fs::read_to_string(repo().join("out/hosts/vm").join(script)).unwrap();
        assert!(
            script == "restore.sh" || text.contains(MANUAL),
            "{script} no longer writes to {MANUAL}"
        );
        fs::write(
            host.join(script),
            text.replace(MANUAL, &manual.display().to_string()),
        )
        .unwrap();
        fs::set_permissions(host.join(script), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |script: &str| {
        shell(pg, stubs, state, script)
            .current_dir(&host)
            .output()
            .unwrap()
    };
    let stopped = || {
        fs::read_dir(state)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("stopped-"))
            .collect::<Vec<_>>()
    };
    let log = || fs::read_to_string(state.join("log")).unwrap_or_default();

    let out = ok(run("./backup.sh supabase prod"), "backup.sh supabase prod");
    let manual_dump = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        manual_dump.starts_with(&manual) && manual_dump.is_file(),
        "backup.sh printed {manual_dump:?}"
    );

    // The nightly backup: the script the db-backup service writes and crond runs
    // (compose turns `$$` into `$`). crond hands it the password in ~/.pgpass, which
    // names host `db` and port 5432; here it comes in PGPASSWORD.
    let override_file = yaml("out/hosts/vm/supabase-prod/compose.override.yaml");
    let command = override_file["services"]["db-backup"]["command"][0]
        .as_str()
        .expect("the db-backup service has a command")
        .replace("$$", "$");
    let start = command
        .find("<<'EOF'\n")
        .expect("the command writes kiln-backup")
        + 8;
    let end = start + command[start..].find("\nEOF\n").unwrap();
    let nightly_dir = tmp.join("nightly");
    fs::create_dir_all(&nightly_dir).unwrap();
    let nightly_script =
        command[start..end].replace("/backups", &nightly_dir.display().to_string());
    ok(
        shell(pg, stubs, state, &nightly_script)
            .env("PGPASSWORD", SUPERUSER_PASSWORD)
            .output()
            .unwrap(),
        "the db-backup service's backup",
    );
    let nightly = files(&nightly_dir, "");
    assert_eq!(nightly.len(), 1, "the nightly backup wrote {nightly:?}");

    // Each dump restores into the live database, which still has every table.
    for dump in [&manual_dump, &nightly[0]] {
        pg.sql("postgres", CHANGE);
        assert_ne!(contents(pg, "postgres"), original);
        fs::remove_file(state.join("log")).ok();
        let out = run(&format!(
            "./restore.sh --yes supabase '{}' prod",
            dump.display()
        ));
        assert!(
            out.status.success(),
            "restore.sh of {dump:?} failed: {}",
            text(&out)
        );
        assert_eq!(
            contents(pg, "postgres"),
            original,
            "restore.sh of {dump:?} did not bring the data back"
        );
        assert!(
            log().contains("stop auth rest storage db-backup"),
            "{}",
            log()
        );
        assert!(
            stopped().is_empty(),
            "services left stopped: {:?}",
            stopped()
        );
    }

    // A dump cut in half: the restore fails after it has begun (its table of contents
    // is whole), is rolled back, and the services run again.
    pg.sql("postgres", CHANGE);
    let changed = contents(pg, "postgres");
    let broken = truncated(&nightly[0], "postgres_broken.dump");
    fs::remove_file(state.join("log")).ok();
    let out = run(&format!(
        "./restore.sh --yes supabase '{}' prod",
        broken.display()
    ));
    assert!(
        !out.status.success(),
        "a truncated dump restored: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed and was rolled back") && stderr.contains("started again"),
        "{stderr}"
    );
    assert_eq!(
        contents(pg, "postgres"),
        changed,
        "a failed restore changed the database"
    );
    let log_text = log();
    let stop = log_text
        .find("stop ")
        .expect("restore.sh stopped the services");
    assert!(
        log_text[stop..].contains("up --detach --wait"),
        "the services were not started again:\n{log_text}"
    );
    assert!(
        stopped().is_empty(),
        "services left stopped: {:?}",
        stopped()
    );

    // Not a dump at all: refused before anything is stopped.
    let garbage = tmp.join("not-a-dump.sql");
    fs::write(&garbage, "DROP TABLE orders;\n").unwrap();
    fs::remove_file(state.join("log")).ok();
    let out = run(&format!(
        "./restore.sh --yes supabase '{}' prod",
        garbage.display()
    ));
    assert!(!out.status.success(), "a file that is no dump restored");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing changed"),
        "{}",
        text(&out)
    );
    assert!(
        !log().contains("stop"),
        "services stopped for a file that is no dump"
    );
    assert_eq!(contents(pg, "postgres"), changed);
}

/// `invoicetron` on a cluster: its backup CronJob and the runbook's "take one first"
/// dump, the runbook's restore restores.
fn kubernetes_app(pg: &Postgres, tmp: &Path, stubs: &Path, state: &Path) {
    // The database and user the official image creates from POSTGRES_USER.
    pg.sql(
        "postgres",
        &format!("CREATE ROLE invoicetron LOGIN SUPERUSER PASSWORD '{APP_PASSWORD}'"),
    );
    pg.sql("postgres", "CREATE DATABASE invoicetron OWNER invoicetron");
    pg.sql("invoicetron", &format!("SET ROLE invoicetron; {SCHEMA}"));
    let original = contents(pg, "invoicetron");

    // The CronJob's script, with the password file and /backups moved here.
    let cronjob =
        yaml("out/kubernetes/apps/invoicetron/overlays/prod/cronjob-invoicetron-db-backup.yaml");
    let script =
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2]
            .as_str()
            .expect("the backup CronJob runs sh -c SCRIPT")
            .to_owned();
    let secrets = tmp.join("secrets");
    let backups = tmp.join("k8s-backups");
    fs::create_dir_all(&secrets).unwrap();
    fs::create_dir_all(&backups).unwrap();
    fs::write(secrets.join("password"), APP_PASSWORD).unwrap();
    assert!(script.contains("/run/secrets/db/password") && script.contains("/backups/"));
    let script = script
        .replace("/run/secrets/db", &secrets.display().to_string())
        .replace("/backups", &backups.display().to_string());
    ok(
        shell(pg, stubs, state, &script).output().unwrap(),
        "the backup CronJob's script",
    );
    let nightly = files(&backups, "");
    assert_eq!(nightly.len(), 1, "the CronJob wrote {nightly:?}");

    // The runbook's commands for the app.
    let runbook = fs::read_to_string(repo().join("out/docs/prod.md")).unwrap();
    let section = &runbook[runbook
        .find("### `invoicetron`")
        .expect("a section for invoicetron")..];
    let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
    let command = |program: &str| {
        section
            .split('`')
            .skip(1)
            .step_by(2)
            .find(|c| c.contains(&format!(" -- {program} ")))
            .unwrap_or_else(|| panic!("the runbook has no kubectl exec ... -- {program}"))
            .to_owned()
    };
    let (dump_cmd, restore_cmd) = (command("pg_dump"), command("pg_restore"));
    let work = tmp.join("operator");
    fs::create_dir_all(&work).unwrap();
    let run = |cmd: &str| {
        shell(pg, stubs, state, cmd)
            .current_dir(&work)
            .output()
            .unwrap()
    };
    let backup_file = |cmd: &str| {
        cmd.rsplit_once("< ")
            .expect("the restore reads the dump from stdin")
            .1
            .to_owned()
    };
    let before_file = dump_cmd
        .rsplit_once("> ")
        .expect("the dump writes to stdout")
        .1
        .to_owned();

    // Restore the nightly dump into the live database.
    pg.sql("invoicetron", CHANGE);
    ok(run(&dump_cmd), "the runbook's pg_dump");
    let before = contents(pg, "invoicetron");
    assert!(work.join(&before_file).is_file());
    fs::copy(&nightly[0], work.join(backup_file(&restore_cmd))).unwrap();
    ok(
        run(&restore_cmd),
        "the runbook's restore of the CronJob's dump",
    );
    assert_eq!(
        contents(pg, "invoicetron"),
        original,
        "the runbook's restore of the CronJob's dump did not bring the data back"
    );

    // The dump taken first restores too (undoing the restore).
    fs::copy(
        work.join(&before_file),
        work.join(backup_file(&restore_cmd)),
    )
    .unwrap();
    ok(run(&restore_cmd), "the runbook's restore of its own dump");
    assert_eq!(contents(pg, "invoicetron"), before);

    // A truncated dump fails, non-zero, and changes nothing.
    let broken = truncated(&nightly[0], "broken.dump");
    fs::copy(&broken, work.join(backup_file(&restore_cmd))).unwrap();
    let out = run(&restore_cmd);
    assert!(
        !out.status.success(),
        "a truncated dump restored: {}",
        text(&out)
    );
    assert_eq!(
        contents(pg, "invoicetron"),
        before,
        "a failed restore changed the database"
    );
}
