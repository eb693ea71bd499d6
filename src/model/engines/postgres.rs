//! PostgreSQL, from the official `postgres:<major>-alpine` images.

use super::{DbVersion, Engine, EngineName, Scratch, backup_script};

/// PostgreSQL.
pub(super) struct Postgres;

/// `pg_dump`'s format of every dump kiln schedules or documents: the custom format,
/// restored by [`PG_RESTORE`]. A truncated file fails that restore (plain SQL cut at a
/// line boundary would replay as a smaller database).
const DUMP_FORMAT: &str = "--format=custom";

/// `pg_restore` (without connection options) of every restore kiln writes or
/// documents: drops what the dump contains and recreates it, in one transaction that
/// any error rolls back, so a failed restore leaves the database as it was.
const PG_RESTORE: &str = "pg_restore --clean --if-exists --single-transaction --exit-on-error";

impl Engine for Postgres {
    fn name(&self) -> EngineName {
        EngineName::Postgres
    }

    fn title(&self) -> &'static str {
        "PostgreSQL"
    }

    fn supported(&self) -> &'static str {
        "a major version from 12 on, as a number (e.g. 18)"
    }

    fn supports(&self, v: &DbVersion) -> bool {
        v.minor.is_none() && (12..=99).contains(&v.major)
    }

    fn image(&self, v: &DbVersion) -> String {
        format!("postgres:{}-alpine", v.major)
    }

    /// PostgreSQL 18 images keep their data in a versioned directory under
    /// `/var/lib/postgresql` and must get the parent; older images use
    /// `/var/lib/postgresql/data` itself.
    fn data_path(&self, v: &DbVersion) -> &'static str {
        if v.major >= 18 {
            "/var/lib/postgresql"
        } else {
            "/var/lib/postgresql/data"
        }
    }

    fn url_scheme(&self) -> &'static str {
        "postgresql"
    }

    fn port(&self) -> u16 {
        5432
    }

    fn short(&self) -> &'static str {
        "postgres"
    }

    /// The `postgres` user of the Alpine images.
    fn uid_gid(&self) -> (u32, u32) {
        (70, 70)
    }

    fn scratch(&self) -> &'static [Scratch] {
        &[("run", "/var/run/postgresql"), ("tmp", "/tmp")]
    }

    fn server_env(
        &self,
        db: &str,
        user: &str,
        password_file: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut env = vec![("POSTGRES_DB".to_owned(), db.to_owned())];
        if let Some(file) = password_file {
            // The official image reads the password from this file on first start.
            env.push(("POSTGRES_PASSWORD_FILE".to_owned(), file.to_owned()));
        }
        env.push(("POSTGRES_USER".to_owned(), user.to_owned()));
        env
    }

    fn password_vars(&self) -> &'static [&'static str] {
        &["POSTGRES_PASSWORD"]
    }

    fn health(&self, db: &str, user: &str) -> Vec<String> {
        ["pg_isready", "-U", user, "-d", db]
            .map(str::to_owned)
            .to_vec()
    }

    fn client_password_var(&self) -> &'static str {
        "PGPASSWORD"
    }

    fn dump_to(&self, host: &str, user: &str, db: &str, to: &str) -> String {
        format!("pg_dump {DUMP_FORMAT} -h {host} -U {user} -d {db} -f {to}")
    }

    fn dump_ext(&self) -> &'static str {
        "dump"
    }

    fn dump_kind(&self) -> String {
        format!("pg_dump {DUMP_FORMAT}")
    }

    fn container_dump(&self) -> String {
        format!(
            "PGPASSWORD=\"$POSTGRES_PASSWORD\" exec pg_dump {DUMP_FORMAT} -h 127.0.0.1 -U \"$1\" -d \"$2\""
        )
    }

    fn check_dump(&self) -> String {
        "pg_restore --list >/dev/null".to_owned()
    }

    fn container_restore(&self) -> String {
        format!(
            "PGPASSWORD=\"$POSTGRES_PASSWORD\" exec {PG_RESTORE} -h 127.0.0.1 -U \"$1\" -d \"$2\""
        )
    }

    fn local_dump(&self, user: &str, db: &str) -> String {
        format!("pg_dump {DUMP_FORMAT} -U {user} -d {db}")
    }

    fn local_restore(&self, user: &str, db: &str) -> String {
        format!("{PG_RESTORE} -U {user} -d {db}")
    }

    /// The pod's local connections need no password.
    fn change_password(&self, user: &str) -> Option<(String, bool)> {
        Some((
            format!("psql -U {user} -c \"ALTER USER {user} PASSWORD '...'\""),
            false,
        ))
    }

    fn atomic_restore(&self) -> bool {
        true
    }

    /// Cron jobs do not inherit the container's environment, so the password is
    /// handed over in `~/.pgpass`.
    fn crond_backup(
        &self,
        host: &str,
        user: &str,
        db: &str,
        retention_days: u32,
        schedule: &str,
    ) -> Option<String> {
        let dump = backup_script(self, host, user, db, "/backups", retention_days);
        Some(format!(
            "set -eu\n\
             umask 077\n\
             printf '%s:5432:%s:%s:%s\\n' {host} {db} {user} \"$(printf '%s' \"$POSTGRES_PASSWORD\" | sed 's/[\\\\:]/\\\\&/g')\" > /root/.pgpass\n\
             cat > /usr/local/bin/kiln-backup <<'EOF'\n\
             #!/bin/sh\n\
             {dump}\
             EOF\n\
             chmod 0700 /usr/local/bin/kiln-backup\n\
             echo '{schedule} /usr/local/bin/kiln-backup > /proc/1/fd/1 2>&1' > /etc/crontabs/root\n\
             exec crond -f -l 6\n",
        ))
    }
}
