//! Redis (`redis:<series>`) and Valkey (`valkey/valkey:<series>`), from their official
//! images: key-value servers, an app's cache or broker. They have no users or
//! databases of their own: the app connects as the `default` user with the password
//! (`requirepass`), to database 0.
//!
//! The password never reaches the server's command line: the container's shell writes
//! it into a configuration file under `/tmp` (mode 600), then hands over to the
//! image's entrypoint, which drops root on a host as it does for the image's own
//! command. Persistence is `aof` (the append-only file, fsync'd each second, with
//! the default snapshots), `rdb` (snapshots only) or `none` (a pure cache).
//!
//! A dump is an RDB snapshot fetched from the live server (`redis-cli --rdb`, the
//! replication protocol: a consistent point in time, written to a file because
//! Redis 7.0's client adds its own end marker when writing to standard output). A
//! restore loads the snapshot into a second server inside the same container, on
//! loopback, and makes the live server its replica until the copy is complete: the
//! live server keeps its configuration (and rewrites its append-only file from
//! the copy, which the restore waits for), so nothing has to be stopped or its
//! files swapped under it.

use super::{DbVersion, Engine, EngineName, PASSWORD_FILE, Persistence, Scratch};

/// One of the two.
pub(super) struct KeyValue {
    name: EngineName,
    /// The image's repository.
    repository: &'static str,
    /// The program prefix (`redis` / `valkey`): `-server`, `-cli`, `-check-rdb`.
    program: &'static str,
    /// The variable the client reads the password from.
    cli_auth: &'static str,
    /// The variable of a host's env file holding the password.
    password_var: &'static [&'static str],
}

/// Redis.
pub(super) static REDIS: KeyValue = KeyValue {
    name: EngineName::Redis,
    repository: "redis",
    program: "redis",
    cli_auth: "REDISCLI_AUTH",
    password_var: &["REDIS_PASSWORD"],
};

/// Valkey. Its 8 client reads `VALKEYCLI_AUTH`.
pub(super) static VALKEY: KeyValue = KeyValue {
    name: EngineName::Valkey,
    repository: "valkey/valkey",
    program: "valkey",
    cli_auth: "VALKEYCLI_AUTH",
    password_var: &["VALKEY_PASSWORD"],
};

/// The port of the restore's temporary server, on the container's loopback.
const RESTORE_PORT: u16 = 6380;

/// Where the live server keeps its data.
const DATA: &str = "/data";

impl KeyValue {
    fn cli(&self) -> String {
        format!("{}-cli", self.program)
    }

    /// Shell text that sets the password to `from` (shell text) for the client.
    fn auth(&self, from: &str) -> String {
        format!("{}={from}", self.cli_auth)
    }

    /// The password of the container: its variable on a host, else the mounted file.
    fn password_expr(&self) -> String {
        format!(
            "\"${{{}:-$(cat {PASSWORD_FILE} 2>/dev/null)}}\"",
            self.password_var[0]
        )
    }

    /// A snapshot of the live server to standard output, with the password from
    /// `from`.
    fn dump_script(&self, from: &str) -> String {
        format!(
            "f=\"$(mktemp)\" && {auth} {cli} --rdb \"$f\" >&2 && cat \"$f\"; s=$?; rm -f \"$f\"; exit $s",
            auth = self.auth(from),
            cli = self.cli(),
        )
    }

    /// Replaces the live server's data with the snapshot on standard input: checks
    /// it, serves it from a temporary server on loopback and replicates it, then
    /// waits until the copy is on disk. A replica with the append-only file on
    /// rewrites that file from the copy after the sync; until the rewrite is done, a
    /// restart (even a kill) loads the old file, the data from before the restore.
    fn restore_script(&self, from: &str) -> String {
        let (cli, program) = (self.cli(), self.program);
        let auth = self.auth(from);
        let tmp = format!("{} {cli} -p {RESTORE_PORT}", self.auth("\"\""));
        format!(
            "set -eu; d={DATA}/kiln-restore; rm -rf \"$d\"; mkdir -p \"$d\"; \
             trap '{tmp} shutdown nosave >/dev/null 2>&1 || true; rm -rf \"$d\"' EXIT; \
             cat > \"$d/dump.rdb\"; \
             if ! {program}-check-rdb \"$d/dump.rdb\" >/dev/null; then echo \"not a whole RDB snapshot: nothing changed\" >&2; exit 1; fi; \
             {program}-server --port {RESTORE_PORT} --bind 127.0.0.1 --dir \"$d\" --appendonly no --save \"\" --repl-diskless-sync-delay 0 --daemonize yes --logfile \"$d/server.log\"; \
             i=0; until {tmp} ping 2>/dev/null | grep -q PONG; do i=$((i+1)); if [ \"$i\" -ge 100 ]; then echo \"the temporary server did not start: nothing changed\" >&2; exit 1; fi; sleep 0.1; done; \
             export {auth}; {cli} replicaof 127.0.0.1 {RESTORE_PORT} >/dev/null; \
             i=0; until {cli} info replication | grep -q '^master_link_status:up'; do i=$((i+1)); if [ \"$i\" -ge 6000 ]; then {cli} replicaof no one >/dev/null; exit 1; fi; sleep 0.1; done; \
             {cli} replicaof no one >/dev/null; \
             i=0; until [ \"$({cli} info persistence | grep -Ec '^aof_rewrite_(in_progress|scheduled):0')\" = 2 ]; do i=$((i+1)); if [ \"$i\" -ge 6000 ]; then echo \"restored, but the append-only file is still being rewritten from the copy: a restart before INFO persistence shows aof_rewrite_in_progress:0 loads the old data\" >&2; exit 1; fi; sleep 0.1; done"
        )
    }
}

impl Engine for KeyValue {
    fn name(&self) -> EngineName {
        self.name
    }

    fn title(&self) -> &'static str {
        match self.name {
            EngineName::Redis => "Redis",
            _ => "Valkey",
        }
    }

    fn supported(&self) -> &'static str {
        match self.name {
            EngineName::Redis => "a release series from 6.2 on, as a string (e.g. \"7.4\")",
            _ => "a release series from 8.0 on, as a string (e.g. \"8.1\")",
        }
    }

    fn supports(&self, v: &DbVersion) -> bool {
        let Some(minor) = v.minor else { return false };
        match self.name {
            EngineName::Redis => (v.major == 6 && minor >= 2) || (7..100).contains(&v.major),
            _ => (8..100).contains(&v.major),
        }
    }

    fn image(&self, v: &DbVersion) -> String {
        format!("{}:{v}", self.repository)
    }

    fn data_path(&self, _: &DbVersion) -> &'static str {
        DATA
    }

    fn port(&self) -> u16 {
        6379
    }

    fn url_scheme(&self) -> &'static str {
        "redis"
    }

    /// `requirepass` is the password of the `default` user (Redis 6 and later).
    fn user(&self, _: &str) -> String {
        "default".to_owned()
    }

    fn url_path(&self, _: &str) -> String {
        "0".to_owned()
    }

    fn named_databases(&self) -> bool {
        false
    }

    fn has_persistence(&self) -> bool {
        true
    }

    fn server_args(
        &self,
        persistence: Persistence,
        password_file: Option<&str>,
    ) -> Option<Vec<String>> {
        let password = match password_file {
            Some(file) => format!("\"$(cat {file})\""),
            None => format!("\"${}\"", self.password_var[0]),
        };
        let keep = match persistence {
            Persistence::Aof => "--appendonly yes --appendfsync everysec",
            Persistence::Rdb => "--appendonly no",
            Persistence::None => "--appendonly no --save \"\"",
        };
        let (uid, gid) = self.uid_gid();
        Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "umask 077 && printf 'requirepass %s\\n' {password} > /tmp/server.conf && \
                 if [ \"$(id -u)\" = 0 ]; then chown {uid}:{gid} /tmp/server.conf; fi && \
                 exec docker-entrypoint.sh {}-server /tmp/server.conf --dir {DATA} {keep}",
                self.program
            ),
        ])
    }

    fn short(&self) -> &'static str {
        self.program
    }

    /// The `redis` / `valkey` user of both Debian-based images.
    fn uid_gid(&self) -> (u32, u32) {
        (999, 999)
    }

    fn scratch(&self) -> &'static [Scratch] {
        &[("tmp", "/tmp")]
    }

    /// Nothing: the password is in the configuration file [`Engine::server_args`]
    /// writes.
    fn server_env(&self, _: &str, _: &str, _: Option<&str>) -> Vec<(String, String)> {
        Vec::new()
    }

    fn password_vars(&self) -> &'static [&'static str] {
        self.password_var
    }

    /// An authenticated `PING` that answers `PONG` (a server still loading its data
    /// answers `LOADING`).
    fn health(&self, _: &str, _: &str) -> Vec<String> {
        vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "{} {} ping | grep -q PONG",
                self.auth(&self.password_expr()),
                self.cli()
            ),
        ]
    }

    fn client_password_var(&self) -> &'static str {
        self.cli_auth
    }

    fn dump_to(&self, host: &str, _: &str, _: &str, to: &str) -> String {
        format!("{} -h {host} --rdb {to} >&2", self.cli())
    }

    fn dump_ext(&self) -> &'static str {
        "rdb"
    }

    fn dump_kind(&self) -> String {
        format!("{} (an RDB snapshot, {} --rdb)", self.title(), self.cli())
    }

    fn container_dump(&self) -> String {
        self.dump_script(&format!("\"${}\"", self.password_var[0]))
    }

    fn check_dump(&self) -> String {
        format!(
            "f=\"$(mktemp)\" && cat > \"$f\" && {}-check-rdb \"$f\" >/dev/null; s=$?; rm -f \"$f\"; exit $s",
            self.program
        )
    }

    fn container_restore(&self) -> String {
        self.restore_script(&format!("\"${}\"", self.password_var[0]))
    }

    fn local_dump(&self, _: &str, _: &str) -> String {
        format!(
            "sh -c '{}'",
            self.dump_script(&format!("\"$(cat {PASSWORD_FILE})\""))
        )
    }

    fn local_restore(&self, _: &str, _: &str) -> String {
        format!(
            "sh -c '{}'",
            self.restore_script(&format!("\"$(cat {PASSWORD_FILE})\""))
                .replace('\'', "'\\''")
        )
    }

    /// The server reads the password from its secret at every start.
    fn change_password(&self, _: &str) -> Option<(String, bool)> {
        None
    }

    fn atomic_restore(&self) -> bool {
        false
    }

    fn crond_backup(&self, _: &str, _: &str, _: &str, _: u32, _: &str) -> Option<String> {
        None
    }
}
