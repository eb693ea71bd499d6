//! Database engines: what kiln knows of each server it runs for an app (`database.engine`):
//! its official image and where that version keeps its data, port, user, health
//! check, how the password reaches it, and the dump and restore commands every backup,
//! script and runbook of kiln uses. One file per engine, listed in [`ENGINES`]; the
//! renderers and checks ask the engine, never spell a server's command themselves.

mod mysql;
mod postgres;
mod redis;

use super::Persistence;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The database server an app's `database` runs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum EngineName {
    /// PostgreSQL (the default).
    #[default]
    Postgres,
    /// MySQL (Oracle's official image).
    Mysql,
    /// MariaDB (the MariaDB Foundation's official image).
    Mariadb,
    /// Redis (the official image), a key-value server: a cache or a broker.
    Redis,
    /// Valkey (the Linux Foundation's fork of Redis, its official image).
    Valkey,
}

impl EngineName {
    /// Whether this is the default engine (left out when a model is written back).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// What kiln knows of the engine.
    pub fn engine(self) -> &'static dyn Engine {
        ENGINES
            .iter()
            .copied()
            .find(|e| e.name() == self)
            .expect("every engine is in ENGINES")
    }

    /// The name as the model spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Mariadb => "mariadb",
            Self::Redis => "redis",
            Self::Valkey => "valkey",
        }
    }
}

/// Every engine kiln runs.
pub static ENGINES: &[&dyn Engine] = &[
    &postgres::Postgres,
    &mysql::MYSQL,
    &mysql::MARIADB,
    &redis::REDIS,
    &redis::VALKEY,
];

/// A server version: a major (`18`) or a release series (`"11.4"`), as the engine's
/// image tags name them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DbVersion {
    /// The major version.
    pub major: u32,
    /// The minor version of a release series.
    pub minor: Option<u32>,
}

impl DbVersion {
    /// A major version alone.
    pub const fn major(major: u32) -> Self {
        Self { major, minor: None }
    }
}

impl fmt::Display for DbVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor {
            Some(minor) => write!(f, "{}.{minor}", self.major),
            None => write!(f, "{}", self.major),
        }
    }
}

impl Serialize for DbVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.minor {
            None => s.serialize_u32(self.major),
            Some(_) => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for DbVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Major(u32),
            Series(String),
        }
        match Raw::deserialize(d)? {
            Raw::Major(major) => Ok(Self::major(major)),
            Raw::Series(s) => {
                let parsed = s.split_once('.').and_then(|(a, b)| {
                    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
                    (digits(a) && digits(b)).then(|| Some((a.parse().ok()?, b.parse().ok()?)))?
                });
                parsed
                    .map(|(major, minor)| Self {
                        major,
                        minor: Some(minor),
                    })
                    .ok_or_else(|| {
                        serde::de::Error::custom(format!(
                            "`{s}` is not a version: write a major as a number (18) or a release series as a string (\"11.4\")"
                        ))
                    })
            }
        }
    }
}

impl JsonSchema for DbVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DbVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The server version: a major as a number (PostgreSQL: `18`), or a release series as a string (MariaDB: `\"11.4\"`, MySQL: `\"8.4\"`).",
            "type": ["integer", "string"],
            "minimum": 1,
            "pattern": "^[0-9]+\\.[0-9]+$"
        })
    }
}

/// A volume a database container writes besides its data: (volume name, path).
pub type Scratch = (&'static str, &'static str);

/// What kiln knows of one database server.
///
/// Commands are shell text. `user` and `db` arguments are shell words already (a
/// quoted name, or `"$1"`), so the same command serves a script and a runbook line.
pub trait Engine: Sync {
    /// The engine's model name.
    fn name(&self) -> EngineName;
    /// Its display name, e.g. `PostgreSQL`.
    fn title(&self) -> &'static str;
    /// The versions kiln runs, for an error message, e.g. `12 or later`.
    fn supported(&self) -> &'static str;
    /// Whether kiln runs this version.
    fn supports(&self, version: &DbVersion) -> bool;
    /// The official image of a version.
    fn image(&self, version: &DbVersion) -> String;
    /// Where that version's image keeps its data (the data volume's mount).
    fn data_path(&self, version: &DbVersion) -> &'static str;
    /// The server's TCP port.
    fn port(&self) -> u16;
    /// The scheme of its connection URLs, e.g. `postgresql`.
    fn url_scheme(&self) -> &'static str;
    /// The user an app connects as, for the database named `name` (the name itself
    /// for the SQL engines).
    fn user(&self, name: &str) -> String {
        name.to_owned()
    }
    /// The path of a connection URL (after the port's `/`) for the database `name`.
    fn url_path(&self, name: &str) -> String {
        name.to_owned()
    }
    /// Whether its databases have names an app connects to (`part: name`).
    fn named_databases(&self) -> bool {
        true
    }
    /// Whether `persistence` applies (a key-value server).
    fn has_persistence(&self) -> bool {
        false
    }
    /// The server container's arguments (after the image's entrypoint), when the
    /// image needs more than its variables: the password from `password_file` on a
    /// cluster, or from the container's first [`Engine::password_vars`] on a host
    /// (`None`).
    fn server_args(
        &self,
        _persistence: Persistence,
        _password_file: Option<&str>,
    ) -> Option<Vec<String>> {
        None
    }
    /// The name of its container and port, e.g. `postgres`.
    fn short(&self) -> &'static str;
    /// The uid and gid the image's server runs as.
    fn uid_gid(&self) -> (u32, u32);
    /// The folders besides the data the server writes (on a read-only root
    /// filesystem, each an `emptyDir`).
    fn scratch(&self) -> &'static [Scratch];
    /// The server container's environment that creates the database `db` and its
    /// user `user` on first start: on a cluster with the password in the file
    /// `password_file`; on a host (`None`) the password variables come from the env
    /// file ([`Engine::password_vars`]).
    fn server_env(
        &self,
        db: &str,
        user: &str,
        password_file: Option<&str>,
    ) -> Vec<(String, String)>;
    /// The variables of the server's env file on a host, each set to the password.
    fn password_vars(&self) -> &'static [&'static str];
    /// The health check run in the server's container (an exec probe).
    fn health(&self, db: &str, user: &str) -> Vec<String>;
    /// The client's password variable (`PGPASSWORD`).
    fn client_password_var(&self) -> &'static str;
    /// The dump command: database `db` as `user` on `host`, into the file `to`.
    fn dump_to(&self, host: &str, user: &str, db: &str, to: &str) -> String;
    /// The file extension of a dump.
    fn dump_ext(&self) -> &'static str;
    /// What a dump is, for a comment or message (`pg_dump --format=custom`).
    fn dump_kind(&self) -> String;
    /// The dump `backup.sh` takes, run by `sh -c` in the server's container with the
    /// user as `$1` and the database as `$2`, to standard output; the password is the
    /// container's own (its first [`Engine::password_vars`]).
    fn container_dump(&self) -> String;
    /// A command run in the server's container that reads a dump on standard input
    /// and fails unless it is whole.
    fn check_dump(&self) -> String;
    /// The restore `restore.sh` runs like [`Engine::container_dump`], reading the dump
    /// on standard input.
    fn container_restore(&self) -> String;
    /// The runbook's dump on a cluster, `kubectl exec`'d in the server's pod, to
    /// standard output (`user` and `db` are shell words).
    fn local_dump(&self, user: &str, db: &str) -> String;
    /// The runbook's restore on a cluster, `kubectl exec -i`'d like [`Engine::local_dump`].
    fn local_restore(&self, user: &str, db: &str) -> String;
    /// The runbook's command that sets `user`'s password to a new value (`'...'`), run
    /// in the server's pod, and whether it asks for the old one (a terminal); `None`
    /// when the server reads the password from its secret at every start.
    fn change_password(&self, user: &str) -> Option<(String, bool)>;
    /// Whether a failed restore leaves the database as it was (one transaction).
    fn atomic_restore(&self) -> bool;
    /// On a host, the command of a backup service that schedules [`backup_script`]
    /// into `/backups` itself, with busybox `crond` of the engine's image (the
    /// password in the container's first [`Engine::password_vars`]); `None` when the
    /// image has no `crond`, and the host's cron runs the backup.
    fn crond_backup(
        &self,
        host: &str,
        user: &str,
        db: &str,
        retention_days: u32,
        schedule: &str,
    ) -> Option<String>;
}

/// Where a database's password file is mounted in its pods: a file, not an
/// environment variable, so the value never shows in `kubectl describe` or the
/// process environment.
pub const PASSWORD_DIR: &str = "/run/secrets/db";

/// The password file in [`PASSWORD_DIR`].
pub const PASSWORD_FILE: &str = "/run/secrets/db/password";

/// The script a cluster's backup CronJob runs: the client's password from the
/// mounted file, then [`backup_script`] into `/backups`.
pub fn backup_job(
    engine: &dyn Engine,
    host: &str,
    user: &str,
    db: &str,
    retention_days: u32,
) -> String {
    let var = engine.client_password_var();
    format!(
        "{var}=\"$(cat {PASSWORD_FILE})\"\nexport {var}\n{}",
        backup_script(engine, host, user, db, "/backups", retention_days)
    )
}

/// The script a scheduled backup runs: dump (to a partial file first, so a failed run
/// leaves nothing that looks whole), prune old dumps, report. Dumps are
/// `<dir>/<db>_<time>.<ext>`.
pub fn backup_script(
    engine: &dyn Engine,
    host: &str,
    user: &str,
    db: &str,
    dir: &str,
    retention_days: u32,
) -> String {
    let ext = engine.dump_ext();
    format!(
        "set -eu\n\
         file=\"{dir}/{db}_$(date +%Y%m%d_%H%M%S).{ext}\"\n\
         if ! {dump}; then\n\
         \x20 rm -f \"$file.partial\"\n\
         \x20 exit 1\n\
         fi\n\
         mv \"$file.partial\" \"$file\"\n\
         find {dir} -name '{db}_*.{ext}' -type f -mmin +{minutes} -delete\n\
         echo \"Backup completed: $file\"\n",
        dump = engine.dump_to(host, user, db, "\"$file.partial\""),
        minutes = u64::from(retention_days) * 24 * 60,
    )
}
