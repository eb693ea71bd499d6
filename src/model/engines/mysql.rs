//! MySQL (`mysql:<series>`) and MariaDB (`mariadb:<series>`), from their official
//! images. The two share the server's layout and SQL dumps; they differ in the
//! variables of the image, the client programs and the versions.

use super::{DbVersion, Engine, EngineName, PASSWORD_FILE, Scratch};

/// One of the two.
pub(super) struct Mysql {
    name: EngineName,
    /// The variables' prefix (`MYSQL` / `MARIADB`).
    prefix: &'static str,
    /// The dump program.
    dump: &'static str,
    /// The client.
    client: &'static str,
    /// Options of the dump besides the connection: a consistent snapshot of InnoDB
    /// tables without locking, with routines and triggers, binary columns as hex.
    options: &'static str,
    /// The server's socket folder and `/tmp`.
    scratch: &'static [Scratch],
}

/// MySQL. `--no-tablespaces` and `--set-gtid-purged=OFF`: an app's user has neither
/// the PROCESS privilege nor may it set GTIDs on restore.
pub(super) static MYSQL: Mysql = Mysql {
    name: EngineName::Mysql,
    prefix: "MYSQL",
    dump: "mysqldump",
    client: "mysql",
    options: "--single-transaction --routines --triggers --hex-blob --no-tablespaces --set-gtid-purged=OFF",
    scratch: &[("run", "/var/run/mysqld"), ("tmp", "/tmp")],
};

/// MariaDB. Its 11 images ship only the `mariadb*` names of the programs.
pub(super) static MARIADB: Mysql = Mysql {
    name: EngineName::Mariadb,
    prefix: "MARIADB",
    dump: "mariadb-dump",
    client: "mariadb",
    options: "--single-transaction --routines --triggers --hex-blob",
    scratch: &[("run", "/run/mysqld"), ("tmp", "/tmp")],
};

/// The first line of a dump's trailer: a dump without it was cut short.
const COMPLETED: &str = "-- Dump completed";

impl Engine for Mysql {
    fn name(&self) -> EngineName {
        self.name
    }

    fn title(&self) -> &'static str {
        match self.name {
            EngineName::Mysql => "MySQL",
            _ => "MariaDB",
        }
    }

    fn supported(&self) -> &'static str {
        match self.name {
            EngineName::Mysql => "a release series from 8.0 on, as a string (e.g. \"8.4\")",
            _ => "a release series from 10.5 on, as a string (e.g. \"11.4\")",
        }
    }

    fn supports(&self, v: &DbVersion) -> bool {
        let Some(minor) = v.minor else { return false };
        match self.name {
            EngineName::Mysql => v.major >= 8 && v.major < 100,
            _ => (v.major == 10 && minor >= 5) || (11..100).contains(&v.major),
        }
    }

    fn image(&self, v: &DbVersion) -> String {
        format!("{}:{v}", self.client)
    }

    fn data_path(&self, _: &DbVersion) -> &'static str {
        "/var/lib/mysql"
    }

    fn url_scheme(&self) -> &'static str {
        "mysql"
    }

    fn port(&self) -> u16 {
        3306
    }

    fn short(&self) -> &'static str {
        self.client
    }

    /// The `mysql` user of both images.
    fn uid_gid(&self) -> (u32, u32) {
        (999, 999)
    }

    fn scratch(&self) -> &'static [Scratch] {
        self.scratch
    }

    /// The app's user owns its database; root has the same password and may log in
    /// only from inside the container (`ROOT_HOST=localhost`). MariaDB upgrades the
    /// data of an older series on start (`MARIADB_AUTO_UPGRADE`), as a new image tag
    /// needs.
    fn server_env(
        &self,
        db: &str,
        user: &str,
        password_file: Option<&str>,
    ) -> Vec<(String, String)> {
        let p = self.prefix;
        let mut env = Vec::new();
        if self.name == EngineName::Mariadb {
            env.push((format!("{p}_AUTO_UPGRADE"), "1".to_owned()));
        }
        env.push((format!("{p}_DATABASE"), db.to_owned()));
        if let Some(file) = password_file {
            env.push((format!("{p}_PASSWORD_FILE"), file.to_owned()));
        }
        env.push((format!("{p}_ROOT_HOST"), "localhost".to_owned()));
        if let Some(file) = password_file {
            env.push((format!("{p}_ROOT_PASSWORD_FILE"), file.to_owned()));
        }
        env.push((format!("{p}_USER"), user.to_owned()));
        env
    }

    fn password_vars(&self) -> &'static [&'static str] {
        match self.name {
            EngineName::Mysql => &["MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"],
            _ => &["MARIADB_PASSWORD", "MARIADB_ROOT_PASSWORD"],
        }
    }

    /// MariaDB's images ship `healthcheck.sh` (its own user, made at first start);
    /// `mysqladmin ping` answers 0 while the server runs, even when access is denied.
    fn health(&self, _: &str, _: &str) -> Vec<String> {
        match self.name {
            EngineName::Mysql => ["mysqladmin", "ping", "--silent", "-h", "127.0.0.1"].as_slice(),
            _ => ["healthcheck.sh", "--connect", "--innodb_initialized"].as_slice(),
        }
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    fn client_password_var(&self) -> &'static str {
        "MYSQL_PWD"
    }

    fn dump_to(&self, host: &str, user: &str, db: &str, to: &str) -> String {
        format!(
            "{} {} -h {host} -u {user} --result-file={to} {db}",
            self.dump, self.options
        )
    }

    fn dump_ext(&self) -> &'static str {
        "sql"
    }

    fn dump_kind(&self) -> String {
        format!("{} --single-transaction, SQL", self.dump)
    }

    fn container_dump(&self) -> String {
        format!(
            "MYSQL_PWD=\"${}\" exec {} {} -h 127.0.0.1 -u \"$1\" \"$2\"",
            self.password_vars()[0],
            self.dump,
            self.options
        )
    }

    fn check_dump(&self) -> String {
        format!("tail -n 1 | grep -q '^{COMPLETED}'")
    }

    fn container_restore(&self) -> String {
        format!(
            "MYSQL_PWD=\"${}\" exec {} -h 127.0.0.1 -u \"$1\" \"$2\"",
            self.password_vars()[0],
            self.client
        )
    }

    fn local_dump(&self, user: &str, db: &str) -> String {
        format!(
            "sh -c 'MYSQL_PWD=\"$(cat {PASSWORD_FILE})\" exec {} {} -u \"$1\" \"$2\"' sh {user} {db}",
            self.dump, self.options
        )
    }

    /// The dump is kept in the pod's `/tmp` first: it is restored only when it ends
    /// with the trailer, since a restore that began would not be undone.
    fn local_restore(&self, user: &str, db: &str) -> String {
        format!(
            "sh -c 'f=\"$(mktemp)\" && cat > \"$f\" && if tail -n 1 \"$f\" | grep -q \"^{COMPLETED}\"; \
             then MYSQL_PWD=\"$(cat {PASSWORD_FILE})\" {} -u \"$1\" \"$2\" < \"$f\"; \
             else echo \"not a whole dump (it has no trailer): nothing changed\" >&2; false; fi; \
             s=$?; rm -f \"$f\"; exit $s' sh {user} {db}",
            self.client
        )
    }

    /// Root and the app's user keep the password they were created with; this asks
    /// for it (`-p`) and sets both to the new one.
    fn change_password(&self, user: &str) -> Option<(String, bool)> {
        Some((
            format!(
                "{} -u root -p -e \"ALTER USER '{user}'@'%' IDENTIFIED BY '...'; ALTER USER 'root'@'localhost' IDENTIFIED BY '...'\"",
                self.client
            ),
            true,
        ))
    }

    fn atomic_restore(&self) -> bool {
        false
    }

    fn crond_backup(&self, _: &str, _: &str, _: &str, _: u32, _: &str) -> Option<String> {
        None
    }
}
