//! Database dumps restore, with a real MariaDB: every dump kiln schedules or
//! documents for a MariaDB or MySQL database (the host stack's nightly backup
//! service, `backup.sh`, `restore.sh`'s own safety backup, the Kubernetes backup
//! CronJob, the runbook's "take one first") is put back by the restore kiln documents
//! for it (`restore.sh` on a host, the runbook's `mysql` on a cluster) into the live
//! database, which still has its tables, and the data is then what it was when
//! dumped. A dump cut short is refused and changes nothing; one that fails part way
//! (these restores are not atomic) is undone by the dump taken before it; and
//! `restore.sh` leaves the stack's services running.
//!
//! The commands are the generated ones, taken from the golden case
//! `tests/golden/databases` (app `wiki` on MariaDB 11.4 on host `box`, app `blog` on
//! MySQL 8.0 on a cluster): `backup.sh` and `restore.sh` run whole, with `docker` and
//! `kubectl` stubbed to run the in-container command on this machine; the scripts of
//! the CronJob and the `wiki-db-backup` service run as written, with only their
//! container paths (`/backups`, the password file) moved into a temporary directory
//! and the database's service name (`-h wiki-db`, `-h blog-db`, which this machine
//! cannot resolve) replaced by `127.0.0.1`. The clients find the test's server by the
//! `~/.my.cnf` of a temporary `HOME` (its port for TCP, its socket for `localhost`),
//! as in the containers they find theirs by the image's defaults.
//!
//! The server is Debian's `mariadb-server` package (10.11), started by the test on a
//! free port in a temporary directory. MySQL proper is not installable here (Debian
//! ships only MariaDB), so the MySQL cluster's commands run against MariaDB, whose
//! `mysql` and `mysqldump` are the same programs under their old names, with the one
//! option only MySQL's `mysqldump` knows, `--set-gtid-purged=OFF`, removed (the test
//! checks it is there first): what the MySQL path shows here is that its commands fit
//! together (dump, check, restore, paths and password), not MySQL's own dump format.
//! Without the binaries the test is skipped with a message, unless
//! `KILN_REQUIRE_VALIDATORS=1` (set by `tools/test.sh`, which CI runs and which
//! installs them), when it fails.

use crate::support::repo;
use crate::support::restore::{files, moved, ok, required, text, truncated};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The golden case whose output the test runs.
const OUT: &str = "tests/golden/databases/expected/out";

/// The server, `mariadb-install-db`, and the directory holding the clients
/// (`mariadb`, `mariadb-dump`, `mariadb-admin`, and `mysql` and `mysqldump`, the
/// names the MySQL image's commands use).
struct Binaries {
    server: PathBuf,
    install_db: PathBuf,
    clients: PathBuf,
}

/// Where Debian puts them (`/usr/sbin/mariadbd`, the rest in `/usr/bin`), else the
/// first directory on `PATH` holding each.
fn mariadb_bin() -> Option<Binaries> {
    let mut dirs: Vec<PathBuf> = vec!["/usr/sbin".into(), "/usr/bin".into()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let find = |program: &str| dirs.iter().map(|d| d.join(program)).find(|p| p.is_file());
    let clients = dirs.iter().find(|d| {
        [
            "mariadb",
            "mariadb-dump",
            "mariadb-admin",
            "mysql",
            "mysqldump",
        ]
        .iter()
        .all(|b| d.join(b).is_file())
    })?;
    Some(Binaries {
        server: find("mariadbd")?,
        install_db: find("mariadb-install-db")?,
        clients: clients.clone(),
    })
}

/// The passwords of the host app's database user (the image's `MARIADB_PASSWORD`)
/// and of the Kubernetes app's (its password file).
const WIKI_PASSWORD: &str = "pw-wiki";
const BLOG_PASSWORD: &str = "pw-blog";

/// A MariaDB server of its own, on a free port of 127.0.0.1 and a socket in its
/// directory; killed when dropped.
struct Mariadb {
    clients: PathBuf,
    socket: PathBuf,
    port: u16,
    log: PathBuf,
    server: Child,
    _dir: tempfile::TempDir,
}

impl Mariadb {
    fn start(bin: Binaries) -> Mariadb {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        fs::create_dir(&data).unwrap();
        // As root, the server runs as Debian's `mysql` user (it refuses root).
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        let as_user: &[&str] = if root { &["--user=mysql"] } else { &[] };
        if root {
            ok(
                Command::new("chown")
                    .arg("mysql:")
                    .arg(&data)
                    .output()
                    .unwrap(),
                "chown mysql: the data directory (running as root needs Debian's mysql user)",
            );
        }
        ok(
            Command::new(&bin.install_db)
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .args(as_user)
                .args([
                    "--skip-test-db",
                    "--skip-name-resolve",
                    "--auth-root-authentication-method=normal",
                ])
                .output()
                .unwrap(),
            "mariadb-install-db",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let socket = data.join("mysqld.sock");
        let log = data.join("server.log");
        let server = Command::new(&bin.server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(as_user)
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--pid-file={}", data.join("server.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            // As the images: UTF-8 by default, no binary log.
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut db = Mariadb {
            clients: bin.clients,
            socket,
            port,
            log,
            server,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = db.server.try_wait().unwrap() {
                panic!(
                    "mariadbd exited ({status}):\n{}",
                    fs::read_to_string(&db.log).unwrap_or_default()
                );
            }
            let ping = Command::new(db.clients.join("mariadb-admin"))
                .arg("--no-defaults")
                .arg(format!("--socket={}", db.socket.display()))
                .args(["-u", "root", "ping"])
                .output()
                .unwrap();
            if ping.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd did not answer within a minute:\n{}",
                fs::read_to_string(&db.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        db
    }

    /// Runs `sql` in `db` as `user` (over the socket); its rows, tab-separated.
    fn sql_as(&self, user: &str, password: &str, db: &str, sql: &str) -> String {
        let out = ok(
            Command::new(self.clients.join("mariadb"))
                .arg("--no-defaults")
                .arg(format!("--socket={}", self.socket.display()))
                .args(["-u", user, "-N", "-B", "-e", sql, db])
                .env("MYSQL_PWD", password)
                .output()
                .unwrap(),
            &format!("mariadb {sql}"),
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Runs `sql` in `db` as root.
    fn sql(&self, db: &str, sql: &str) -> String {
        self.sql_as("root", "", db, sql)
    }

    /// The database `name` and its user, with all privileges on it, as the images
    /// make them from `MARIADB_DATABASE`/`MYSQL_DATABASE` and the user variables.
    fn create_database(&self, name: &str, password: &str) {
        self.sql(
            "mysql",
            &format!(
                "CREATE DATABASE `{name}`; CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'; \
                 GRANT ALL ON `{name}`.* TO '{name}'@'%'"
            ),
        );
    }
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Tables with a foreign key, an index, an auto-increment counter, text beyond ASCII,
/// bytes that need escaping, a view, a trigger and a function (the dumps take
/// `--routines --triggers`), and enough rows that a dump cut in half loses data.
/// Run as the app's user, who is then the definer of the view, trigger and function.
const SCHEMA: &str = "SET SESSION max_recursive_iterations = 10000;
    CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, \
        item varchar(100) NOT NULL, data blob NOT NULL) ENGINE=InnoDB;
    CREATE TABLE order_lines (order_id int NOT NULL, qty int NOT NULL, \
        FOREIGN KEY (order_id) REFERENCES orders (id)) ENGINE=InnoDB;
    CREATE INDEX order_lines_qty ON order_lines (qty);
    INSERT INTO orders (item, data) WITH RECURSIVE s (i) AS \
        (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) \
        SELECT CONCAT('item ', i, ' ', CONVERT(x'C3A9E29C93F09F9A80' USING utf8mb4)), \
        UNHEX(MD5(i)) FROM s;
    UPDATE orders SET data = x'00275C0A0D1A22' WHERE id = 1;
    INSERT INTO order_lines SELECT id, id % 7 FROM orders;
    CREATE VIEW big_lines AS SELECT order_id FROM order_lines WHERE qty > 5;
    CREATE TRIGGER order_lines_not_negative BEFORE INSERT ON order_lines \
        FOR EACH ROW SET NEW.qty = GREATEST(NEW.qty, 0);
    CREATE FUNCTION order_total (o int) RETURNS int READS SQL DATA \
        RETURN (SELECT COALESCE(SUM(qty), 0) FROM order_lines WHERE order_id = o)";

/// What the app did after the backup: its rows, and the view, trigger and function
/// redefined (a restore replaces what its dump contains and keeps what it does not).
const CHANGE: &str = "DELETE FROM order_lines WHERE order_id > 10;
    DELETE FROM orders WHERE id > 10;
    UPDATE orders SET item = 'changed', data = x'00';
    INSERT INTO orders (item, data) VALUES ('after', x'01');
    CREATE OR REPLACE VIEW big_lines AS SELECT order_id FROM order_lines WHERE qty > 1;
    DROP TRIGGER order_lines_not_negative;
    CREATE TRIGGER order_lines_not_negative BEFORE INSERT ON order_lines \
        FOR EACH ROW SET NEW.qty = ABS(NEW.qty);
    DROP FUNCTION order_total;
    CREATE FUNCTION order_total (o int) RETURNS int READS SQL DATA RETURN 0";

/// The data, as one line: the orders (their ids, text and bytes), the lines, the next
/// id, and the definitions of the view, trigger and function.
fn contents(db: &Mariadb, name: &str) -> String {
    db.sql(
        name,
        "SET SESSION group_concat_max_len = 1 << 24;
         SELECT CONCAT_WS(' ',
           (SELECT COUNT(*) FROM orders),
           (SELECT MD5(GROUP_CONCAT(id, ':', HEX(item), ':', HEX(data) ORDER BY id)) FROM orders),
           (SELECT CONCAT(COUNT(*), ':', SUM(qty)) FROM order_lines),
           (SELECT AUTO_INCREMENT FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders'),
           (SELECT CONCAT('views:', GROUP_CONCAT(TABLE_NAME, '=', VIEW_DEFINITION))
             FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()),
           (SELECT CONCAT('triggers:', GROUP_CONCAT(TRIGGER_NAME, '=', ACTION_STATEMENT))
             FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()),
           (SELECT CONCAT('functions:', GROUP_CONCAT(ROUTINE_NAME, '=', ROUTINE_DEFINITION))
             FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()))",
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
	MARIADB_PASSWORD="$CONTAINER_PASSWORD" exec "$@"
	;;
*) echo "stub docker: unexpected compose $cmd" >&2; exit 99 ;;
esac
"#;
    // The pod's password is in its file, which the commands read themselves.
    let kubectl = r#"#!/usr/bin/env bash
set -eu
[ "$1" = -n ] && [ "$3" = exec ] || { echo "stub kubectl: $*" >&2; exit 99; }
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do shift; done
shift
exec "$@"
"#;
    for (name, body) in [("docker", docker), ("kubectl", kubectl)] {
        fs::write(dir.join(name), body).unwrap();
        fs::set_permissions(dir.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `program -c script` with the stubs and the server's clients first on `PATH`, and a
/// `HOME` whose `.my.cnf` connects the clients to the test's server: by port for
/// `-h 127.0.0.1`, by socket for `localhost` (no `-h`).
fn shell(db: &Mariadb, stubs: &Path, state: &Path, program: &str, script: &str) -> Command {
    let path = std::env::join_paths(
        [stubs.to_path_buf(), db.clients.clone()]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let home = state.join("home");
    fs::create_dir_all(&home).unwrap();
    fs::write(
        home.join(".my.cnf"),
        format!(
            "[client]\nport = {}\nsocket = {}\n",
            db.port,
            db.socket.display()
        ),
    )
    .unwrap();
    let mut c = Command::new(program);
    c.arg("-c")
        .arg(script)
        .arg(program)
        .env("PATH", path)
        .env("HOME", home)
        .env("STATE", state)
        .env("SERVICES", "wiki-db indexer wiki")
        .env("CONTAINER_PASSWORD", WIKI_PASSWORD);
    for var in [
        "MYSQL_PWD",
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
        "MYSQL_HOME",
        "MARIADB_HOME",
    ] {
        c.env_remove(var);
    }
    c
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&fs::read_to_string(repo().join(OUT).join(path)).unwrap()).unwrap()
}

/// `dump` cut at its last line break before the middle, then a statement that fails and
/// the trailer of a whole dump: it passes the check, and its restore fails part way,
/// after it has replaced some tables.
fn failing_part_way(dump: &Path, name: &str) -> PathBuf {
    let text = fs::read_to_string(dump).unwrap();
    let cut = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    let broken = dump.with_file_name(name);
    fs::write(
        &broken,
        format!(
            "{}\nTHIS IS NOT SQL;\n-- Dump completed on 2000-01-01  0:00:00\n",
            &text[..cut]
        ),
    )
    .unwrap();
    broken
}

#[test]
fn every_dump_kiln_writes_restores_into_the_live_database() {
    let Some(bin) = mariadb_bin() else {
        assert!(
            !required(),
            "KILN_REQUIRE_VALIDATORS=1 but MariaDB's mariadbd, mariadb-install-db, mariadb, \
             mariadb-dump, mariadb-admin, mysql and mysqldump are not installed \
             (tools/validators/setup-validators.sh installs Debian's mariadb-server and \
             mariadb-client)"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "SKIPPED every_dump_kiln_writes_restores_into_the_live_database: no MariaDB \
                 binaries (apt-get install mariadb-server mariadb-client, or run tools/test.sh)"
            );
        }
        return;
    };
    let db = Mariadb::start(bin);
    let tmp = tempfile::tempdir().unwrap();
    let stub_dir = tmp.path().join("stubs");
    let state = tmp.path().join("state");
    fs::create_dir_all(&state).unwrap();
    stubs(&stub_dir);

    host_stack(&db, tmp.path(), &stub_dir, &state);
    kubernetes_app(&db, tmp.path(), &stub_dir, &state);
}

/// `wiki` on host `box` (MariaDB 11.4, compose project `docs-dev`): its nightly
/// `wiki-db-backup` service and `backup.sh` dump, `restore.sh` restores.
fn host_stack(db: &Mariadb, tmp: &Path, stubs: &Path, state: &Path) {
    const MANUAL: &str = "/data/docs-dev/manual-backups/wiki-db";
    db.create_database("wiki", WIKI_PASSWORD);
    db.sql_as("wiki", WIKI_PASSWORD, "wiki", SCHEMA);
    let original = contents(db, "wiki");

    // backup.sh and restore.sh as generated, their manual-backups folder moved here.
    let host = tmp.join("host");
    let manual = tmp.join("manual");
    fs::create_dir_all(&host).unwrap();
    for script in ["backup.sh", "restore.sh"] {
        let text = fs::read_to_string(repo().join(OUT).join("hosts/box").join(script)).unwrap();
        let text = if script == "backup.sh" {
            moved(&text, MANUAL, &manual.display().to_string())
        } else {
            text
        };
        fs::write(host.join(script), text).unwrap();
        fs::set_permissions(host.join(script), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |script: &str| {
        shell(db, stubs, state, "bash", script)
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
    let restore = |dump: &Path| {
        fs::remove_file(state.join("log")).ok();
        run(&format!("./restore.sh --yes wiki '{}' dev", dump.display()))
    };
    // The safety backup a restore took: the one dump backup.sh printed.
    let safety_backup = |out: &Output| {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let dumps: Vec<_> = stdout
            .lines()
            .filter(|l| l.starts_with(&*manual.to_string_lossy()))
            .collect();
        assert_eq!(dumps.len(), 1, "{}", text(out));
        PathBuf::from(dumps[0])
    };

    let out = ok(run("./backup.sh wiki dev"), "backup.sh wiki dev");
    let manual_dump = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        manual_dump.starts_with(&manual) && manual_dump.is_file(),
        "backup.sh printed {manual_dump:?}"
    );

    // The nightly backup: the script of the wiki-db-backup service, which the host's
    // cron runs (compose turns `$$` into `$`), with the password of the env file.
    let compose = yaml("hosts/box/docs-dev/compose.yaml");
    let service = &compose["services"]["wiki-db-backup"];
    assert_eq!(service["entrypoint"][0].as_str(), Some("/bin/sh"));
    let command = service["command"][0]
        .as_str()
        .expect("the wiki-db-backup service has a command")
        .replace("$$", "$");
    let nightly_dir = tmp.join("nightly");
    fs::create_dir_all(&nightly_dir).unwrap();
    let nightly_script = moved(&command, "/backups", &nightly_dir.display().to_string());
    let nightly_script = moved(&nightly_script, "-h wiki-db ", "-h 127.0.0.1 ");
    ok(
        shell(db, stubs, state, "sh", &nightly_script)
            .env("MARIADB_PASSWORD", WIKI_PASSWORD)
            .output()
            .unwrap(),
        "the wiki-db-backup service's backup",
    );
    let nightly = files(&nightly_dir, "");
    assert_eq!(nightly.len(), 1, "the nightly backup wrote {nightly:?}");

    // Each dump restores into the live database, which still has every table; the
    // safety backup each restore takes first puts back what it replaced.
    for dump in [&manual_dump, &nightly[0]] {
        db.sql_as("wiki", WIKI_PASSWORD, "wiki", CHANGE);
        let changed = contents(db, "wiki");
        assert_ne!(changed, original);
        let out = restore(dump);
        assert!(
            out.status.success(),
            "restore.sh of {dump:?} failed: {}",
            text(&out)
        );
        assert_eq!(
            contents(db, "wiki"),
            original,
            "restore.sh of {dump:?} did not bring the data back"
        );
        assert!(log().contains("stop indexer wiki\n"), "{}", log());
        assert!(
            stopped().is_empty(),
            "services left stopped: {:?}",
            stopped()
        );
        let safety = safety_backup(&out);
        ok(restore(&safety), "restore.sh of its safety backup");
        assert_eq!(
            contents(db, "wiki"),
            changed,
            "the safety backup of the restore of {dump:?} did not bring back what it replaced"
        );
    }

    // A dump cut in half (no trailer): refused before anything is stopped or changed.
    db.sql_as("wiki", WIKI_PASSWORD, "wiki", CHANGE);
    let changed = contents(db, "wiki");
    let broken = [
        truncated(&nightly[0], "wiki_broken.sql"),
        truncated(&manual_dump, "wiki_broken_manual.sql"),
    ];
    let before = files(&manual, "").len();
    for broken in broken {
        let out = restore(&broken);
        assert!(
            !out.status.success(),
            "a truncated dump restored: {}",
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not a whole dump")
                && String::from_utf8_lossy(&out.stderr).contains("nothing changed"),
            "{}",
            text(&out)
        );
        assert!(
            !log().contains("stop"),
            "services stopped for a truncated dump:\n{}",
            log()
        );
        assert_eq!(
            contents(db, "wiki"),
            changed,
            "a refused dump changed the database"
        );
        assert_eq!(
            files(&manual, "").len(),
            before,
            "a safety backup was taken"
        );
    }

    // A whole-looking dump whose restore fails part way: it says so, the services run
    // again, and the safety backup it names puts the database back.
    let broken = failing_part_way(&nightly[0], "wiki_fails.sql");
    let out = restore(&broken);
    assert!(
        !out.status.success(),
        "a failing dump restored: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed part way: restore the safety backup above")
            && stderr.contains("started again"),
        "{stderr}"
    );
    assert_ne!(
        contents(db, "wiki"),
        changed,
        "the failing dump was refused before it began (test no longer tests a failure part way)"
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
    let safety = safety_backup(&out);
    ok(restore(&safety), "restore.sh of the safety backup");
    assert_eq!(
        contents(db, "wiki"),
        changed,
        "the safety backup did not put the database back"
    );

    // Not a dump at all: refused before anything is stopped.
    let garbage = tmp.join("not-a-dump.sql");
    fs::write(&garbage, "DROP TABLE order_lines;\n").unwrap();
    let out = restore(&garbage);
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
    assert_eq!(contents(db, "wiki"), changed);
}

/// `blog` on a cluster (MySQL 8.0, run against MariaDB): its backup CronJob and the
/// runbook's "take one first" dump, the runbook's restore restores.
fn kubernetes_app(db: &Mariadb, tmp: &Path, stubs: &Path, state: &Path) {
    const MYSQL_ONLY: &str = " --set-gtid-purged=OFF";
    db.create_database("blog", BLOG_PASSWORD);
    db.sql_as("blog", BLOG_PASSWORD, "blog", SCHEMA);
    let original = contents(db, "blog");

    // The password file mounted in the pods, moved here.
    let secrets = tmp.join("secrets");
    fs::create_dir_all(&secrets).unwrap();
    fs::write(secrets.join("password"), BLOG_PASSWORD).unwrap();
    let secrets = secrets.display().to_string();

    // The CronJob's script, with the password file and /backups moved here.
    let cronjob = yaml("kubernetes/apps/blog/base/cronjob-blog-db-backup.yaml");
    let script =
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2]
            .as_str()
            .expect("the backup CronJob runs sh -c SCRIPT")
            .to_owned();
    let backups = tmp.join("k8s-backups");
    fs::create_dir_all(&backups).unwrap();
    let script = moved(&script, "/run/secrets/db", &secrets);
    let script = moved(&script, "/backups", &backups.display().to_string());
    let script = moved(&script, "-h blog-db ", "-h 127.0.0.1 ");
    let script = moved(&script, MYSQL_ONLY, "");
    ok(
        shell(db, stubs, state, "sh", &script).output().unwrap(),
        "the backup CronJob's script",
    );
    let nightly = files(&backups, "");
    assert_eq!(nightly.len(), 1, "the CronJob wrote {nightly:?}");

    // The runbook's commands for the app.
    let runbook = fs::read_to_string(repo().join(OUT).join("docs/dev.md")).unwrap();
    let section = &runbook[runbook.find("### `blog`").expect("a section for blog")..];
    let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
    // The dump writes `> BEFORE.sql`, the restore reads `< BACKUP.sql`.
    let command = |redirect: &str| {
        let cmd = section
            .split('`')
            .skip(1)
            .step_by(2)
            .find(|c| c.starts_with("kubectl ") && c.contains(redirect))
            .unwrap_or_else(|| panic!("the runbook has no kubectl exec ... {redirect}"));
        let cmd = moved(cmd, "/run/secrets/db", &secrets);
        if redirect.starts_with('>') {
            moved(&cmd, MYSQL_ONLY, "")
        } else {
            cmd
        }
    };
    let (dump_cmd, restore_cmd) = (command("> BEFORE."), command("< BACKUP."));
    assert!(dump_cmd.contains(" exec mysqldump "), "{dump_cmd}");
    assert!(restore_cmd.contains(" mysql -u "), "{restore_cmd}");
    let work = tmp.join("operator");
    fs::create_dir_all(&work).unwrap();
    let run = |cmd: &str| {
        shell(db, stubs, state, "bash", cmd)
            .current_dir(&work)
            .output()
            .unwrap()
    };
    let backup_file = restore_cmd
        .rsplit_once("< ")
        .expect("the restore reads the dump from stdin")
        .1
        .to_owned();
    let before_file = dump_cmd
        .rsplit_once("> ")
        .expect("the dump writes to stdout")
        .1
        .to_owned();

    // Restore the nightly dump into the live database.
    db.sql_as("blog", BLOG_PASSWORD, "blog", CHANGE);
    ok(run(&dump_cmd), "the runbook's mysqldump");
    let before = contents(db, "blog");
    assert!(work.join(&before_file).is_file());
    fs::copy(&nightly[0], work.join(&backup_file)).unwrap();
    ok(
        run(&restore_cmd),
        "the runbook's restore of the CronJob's dump",
    );
    assert_eq!(
        contents(db, "blog"),
        original,
        "the runbook's restore of the CronJob's dump did not bring the data back"
    );

    // The dump taken first restores too (undoing the restore).
    fs::copy(work.join(&before_file), work.join(&backup_file)).unwrap();
    ok(run(&restore_cmd), "the runbook's restore of its own dump");
    assert_eq!(contents(db, "blog"), before);

    // A truncated dump fails, non-zero, and changes nothing.
    let broken = truncated(&nightly[0], "broken.sql");
    fs::copy(&broken, work.join(&backup_file)).unwrap();
    let out = run(&restore_cmd);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("nothing changed"),
        "a truncated dump was not refused: {}",
        text(&out)
    );
    assert_eq!(
        contents(db, "blog"),
        before,
        "a refused dump changed the database"
    );
}
