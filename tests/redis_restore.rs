//! Database dumps restore, with a real Redis: every dump kiln schedules or documents
//! for a Redis or Valkey database (the Kubernetes backup CronJob, the runbook's "take
//! one first", the host stack's nightly backup service, `backup.sh`, `restore.sh`'s
//! own safety backup) is put back by the restore kiln documents for it (the runbook's
//! `kubectl exec -i` on a cluster, `restore.sh` on a host) into the live server, and
//! its data (keys of every type in two databases, binary values, a key with a time to
//! live) is then exactly what it was when dumped. A dump cut short is refused and
//! changes nothing; `restore.sh` leaves the stack's services running; after a
//! restore the live server is a master again, still asks for its password, and has
//! the restored data on disk: killed right after the restore, it comes back with it
//! (with the append-only file on, the restore waits for the file's rewrite from the
//! copy, which the test makes take seconds with Redis's `rdb-key-save-delay`).
//!
//! The commands are the generated ones, taken from the golden case
//! `tests/golden/databases` (app `worker` on Redis 7.4 on a cluster, app `indexer`
//! on Valkey 8.1 on host `box`). The live servers are started by the generated
//! start scripts themselves (the StatefulSet's `sh -c`, the compose service's
//! command), with `docker-entrypoint.sh` stubbed as `exec "$@"` (the image's drops
//! root and execs the same command). `backup.sh` and `restore.sh` run whole, with
//! `docker` and `kubectl` stubbed to run the in-container command on this machine;
//! the scripts of the CronJob and the `indexer-db-backup` service and the runbook's
//! commands run as written. Moved, with `moved()`, which checks each is there:
//! - container paths into a temporary directory: the password file
//!   (`/run/secrets/db`), `/tmp/server.conf`, the data directory (`--dir /data`,
//!   the restore's `/data/kiln-restore`) and `/backups`, and `backup.sh`'s
//!   manual-backups folder;
//! - the database's service name (`-h worker-db`, `-h indexer-db`, which this
//!   machine cannot resolve) to `127.0.0.1`;
//! - the ports: each live server gets a free port of 127.0.0.1 (`--port P --bind
//!   127.0.0.1` added after `--dir`), and the restore's temporary server a free port
//!   in place of 6380 (every `6380` of the restore: its `--port`, the clients' `-p`
//!   and the `replicaof`), so that the test neither needs nor disturbs 6379 and 6380
//!   on the machine running it. The generated clients name no port (in the pod, the
//!   server is on the default 6379): a `redis-cli` wrapper first on `PATH` passes
//!   `-p P` before the generated arguments, where a later `-p` (the temporary
//!   server's) wins as it does for redis-cli itself;
//! - the temporary server, daemonized, is given `--pidfile` in its own directory
//!   (else, as root, it would write `/var/run/redis.pid` on this machine).
//!
//! The server is Debian's `redis-server` package (7.0). Valkey is not packaged by
//! Debian: the host's commands run unmodified against wrappers named `valkey-server`,
//! `valkey-check-rdb` and `valkey-cli` that exec the Redis programs (Valkey 8 is a
//! fork of Redis 7.2 with the same options, protocol and RDB format), `valkey-cli`
//! handing the password of `VALKEYCLI_AUTH` (Valkey 8's variable, which the scripts
//! use) to redis-cli as `REDISCLI_AUTH` and nothing else: a script that gave the
//! password only in `REDISCLI_AUTH` would fail here. What the Valkey path shows is
//! that its commands fit together (dump, check, restore, paths and password), not
//! Valkey's own server. Likewise the Redis 7.4 image's commands run on Redis 7.0.
//! Without the binaries the test is skipped with a message, unless
//! `KILN_REQUIRE_VALIDATORS=1` (set by `tools/test.sh`, which CI runs and which
//! installs them), when it fails.

use crate::support::repo;
use crate::support::restore::{files, moved, ok, required, text, truncated};
use serde_json::Value;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The golden case whose output the test runs.
const OUT: &str = "tests/golden/databases/expected/out";

/// Debian's Redis programs.
struct Binaries {
    server: PathBuf,
    cli: PathBuf,
    check_rdb: PathBuf,
}

/// Where Debian puts them (`/usr/bin`), else the first directory on `PATH` holding
/// each.
fn redis_bin() -> Option<Binaries> {
    let mut dirs: Vec<PathBuf> = vec!["/usr/bin".into()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let find = |program: &str| dirs.iter().map(|d| d.join(program)).find(|p| p.is_file());
    Some(Binaries {
        server: find("redis-server")?,
        cli: find("redis-cli")?,
        check_rdb: find("redis-check-rdb")?,
    })
}

/// The password of the cluster app's server (its secret's file) and of the host
/// app's (the env file's `VALKEY_PASSWORD`).
const WORKER_PASSWORD: &str = "pw-worker";
const INDEXER_PASSWORD: &str = "pw-indexer";

/// `n` distinct free ports of 127.0.0.1.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// Whether nothing listens on `port` of 127.0.0.1.
fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The directory first on `PATH`: stub `docker compose` (only what backup.sh and
/// restore.sh use) and `kubectl exec`, whose `exec` runs the command here with the
/// container's environment, `stop` and `up` recording which services are stopped
/// (`$STATE/stopped-<service>`) and logged; the images' `docker-entrypoint.sh`; a
/// `redis-cli` that talks to the live server (`$LIVE_PORT`) unless given another
/// port; and the Valkey programs, as the Redis ones.
fn tools(dir: &Path, bin: &Binaries) {
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
	VALKEY_PASSWORD="$CONTAINER_PASSWORD" exec "$@"
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
    let entrypoint = "#!/bin/sh\nexec \"$@\"\n".to_owned();
    // redis-cli takes the last -p it is given.
    let cli = format!(
        "#!/bin/sh\nexec '{}' -p \"${{LIVE_PORT:?}}\" \"$@\"\n",
        bin.cli.display()
    );
    // Valkey 8's client reads VALKEYCLI_AUTH; redis-cli reads REDISCLI_AUTH.
    let valkey_cli = "#!/bin/sh\nunset REDISCLI_AUTH\n\
        if [ -n \"${VALKEYCLI_AUTH+set}\" ]; then REDISCLI_AUTH=\"$VALKEYCLI_AUTH\"; export REDISCLI_AUTH; fi\n\
        exec \"$(dirname \"$0\")/redis-cli\" \"$@\"\n"
        .to_owned();
    let exec = |program: &Path| format!("#!/bin/sh\nexec '{}' \"$@\"\n", program.display());
    for (name, body) in [
        ("docker", docker.to_owned()),
        ("kubectl", kubectl.to_owned()),
        ("docker-entrypoint.sh", entrypoint),
        ("redis-cli", cli),
        ("valkey-cli", valkey_cli),
        ("valkey-server", exec(&bin.server)),
        ("valkey-check-rdb", exec(&bin.check_rdb)),
    ] {
        fs::write(dir.join(name), body).unwrap();
        fs::set_permissions(dir.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `PATH` with the tools first.
fn path_with(tools: &Path) -> OsString {
    std::env::join_paths(
        std::iter::once(tools.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap()
}

/// A live server, started by its generated start script (moved); killed when
/// dropped.
struct Live {
    /// The real redis-cli, for the test's own questions.
    cli: PathBuf,
    port: u16,
    password: &'static str,
    /// The start script, its environment and `PATH`.
    script: String,
    env: Vec<(&'static str, &'static str)>,
    path: OsString,
    log: PathBuf,
    server: Option<Child>,
}

impl Live {
    fn start(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(&self.script)
            .env("PATH", &self.path)
            .envs(self.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let server = self.server.insert(c.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.try_wait().unwrap() {
                panic!(
                    "the server exited ({status}):\n{}",
                    fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            let ping = Command::new(&self.cli)
                .args(["-p", &self.port.to_string(), "ping"])
                .env("REDISCLI_AUTH", self.password)
                .output()
                .unwrap();
            if ping.stdout == b"PONG\n" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer within a minute:\n{}",
                fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (SIGKILL: the OOM killer, a lost node, the kubelet at the end
    /// of the grace period), so that it keeps only what is on disk, and waits for it.
    fn kill(&mut self) {
        let mut server = self.server.take().expect("the server runs");
        server.kill().unwrap();
        server.wait().unwrap();
    }

    /// redis-cli `args` against the server, with `password` (none if `None`).
    fn cli_as(&self, password: Option<&str>, args: &[&str]) -> Output {
        let mut c = Command::new(&self.cli);
        c.args(["-p", &self.port.to_string()]).args(args);
        c.env_remove("REDISCLI_AUTH");
        if let Some(p) = password {
            c.env("REDISCLI_AUTH", p);
        }
        c.output().unwrap()
    }

    /// The answer to `args`, with the password.
    fn query(&self, args: &[&str]) -> String {
        let out = ok(self.cli_as(Some(self.password), args), &format!("{args:?}"));
        let answer = String::from_utf8(out.stdout).unwrap();
        assert!(
            !answer.starts_with("ERR") && !answer.starts_with("NOAUTH"),
            "{args:?}: {answer}"
        );
        answer.trim().to_owned()
    }

    fn eval(&self, script: &str) -> String {
        self.query(&["EVAL", script, "0"])
    }

    /// After a restore: a master again, which refuses clients without its password
    /// or with another one, and the restore's temporary server is gone with its
    /// directory.
    fn assert_master_with_password(&self, restore_port: u16, data: &Path, what: &str) {
        let info = self.query(&["INFO", "replication"]);
        assert!(
            info.contains("role:master"),
            "after {what} the server is no master:\n{info}"
        );
        for password in [None, Some("not-the-password")] {
            let out = self.cli_as(password, &["GET", "string:2"]);
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                all.contains("NOAUTH") || all.contains("WRONGPASS"),
                "after {what} the server answers with password {password:?}: {all}"
            );
        }
        assert_eq!(self.query(&["PING"]), "PONG");
        assert!(
            port_is_free(restore_port),
            "after {what} the temporary server still listens on {restore_port}"
        );
        assert!(
            !data.join("kiln-restore").exists(),
            "after {what} the temporary server's directory is left"
        );
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// Keys of every type in database 0, with binary bytes in values, field names and
/// members, a large value, a counter, keys with a time to live of a day, a stream,
/// and one key in database 3: about 3100 keys, enough that a dump cut in half loses
/// data.
const DATA: &str = "
local bytes = {}
for b = 0, 255 do bytes[#bytes + 1] = string.char(b) end
bytes = table.concat(bytes)
for i = 1, 3000 do
  redis.call('SET', 'string:' .. i, 'value ' .. i .. ' ' .. string.sub(bytes, i % 256 + 1, i % 256 + 16))
  redis.call('HSET', 'hash:' .. (i % 40), 'field ' .. string.sub(bytes, i % 200 + 1, i % 200 + 3) .. i, string.sub(bytes, 1, i % 64) .. i)
  redis.call('RPUSH', 'list:' .. (i % 20), 'item ' .. i)
  redis.call('SADD', 'set:' .. (i % 30), 'member ' .. i .. string.char(i % 256))
  redis.call('SADD', 'intset', i * 7)
  redis.call('ZADD', 'zset:' .. (i % 10), i / 7, 'member ' .. i)
end
redis.call('SET', 'binary', bytes)
redis.call('SET', 'big', string.rep(bytes, 1024))
redis.call('SET', 'counter', 41)
redis.call('INCR', 'counter')
redis.call('SET', 'expiring', 'for a day', 'EX', 86400)
redis.call('HSET', 'expiring hash', 'a', '1')
redis.call('EXPIRE', 'expiring hash', 86400)
redis.call('XADD', 'stream', '1-1', 'event', 'created')
redis.call('XADD', 'stream', '2-0', 'event', 'paid', 'amount', '12.50')
redis.call('SELECT', 3)
redis.call('SET', 'in database 3', 'also dumped')
return 'ok'";

/// What the app did after the backup (the same from the data or from itself):
/// keys deleted, changed and added, a time to live removed, a database emptied.
const CHANGE: &str = "
for i = 1, 3000, 3 do redis.call('DEL', 'string:' .. i) end
redis.call('SET', 'string:2', 'changed')
redis.call('HSET', 'hash:1', 'new field', 'x')
redis.call('LSET', 'list:1', 0, 'changed')
redis.call('LSET', 'list:2', -1, 'changed')
redis.call('SREM', 'set:1', 'member 1' .. string.char(1))
redis.call('SADD', 'set:2', 'new')
redis.call('ZADD', 'zset:1', 1000, 'member 1')
redis.call('DEL', 'big')
redis.call('INCR', 'counter')
redis.call('SET', 'counter', 100)
redis.call('PERSIST', 'expiring')
redis.call('XDEL', 'stream', '1-1')
redis.call('SET', 'after', 'written after the backup')
redis.call('SELECT', 3)
redis.call('DEL', 'in database 3')
return 'ok'";

/// The data, as one line: the number of keys of each database, and a digest of
/// every key with its type, whether it expires (within the day `DATA` gives, or
/// never) and its value in a canonical order (sets and hashes sorted). Redis 7.0's
/// `DEBUG DIGEST` is off by default, and `DUMP` of a set or hash may differ after a
/// reload with the same members.
const CONTENTS: &str = "
local out = {}
local function put(s) s = tostring(s); out[#out + 1] = #s .. ':' .. s end
local counts = {}
for db = 0, 15 do
  redis.call('SELECT', db)
  local keys = redis.call('KEYS', '*')
  table.sort(keys)
  if #keys > 0 then counts[#counts + 1] = 'db' .. db .. '=' .. #keys end
  for _, k in ipairs(keys) do
    local t = redis.call('TYPE', k).ok
    local ttl = redis.call('PTTL', k)
    local expiry = 'ttl ' .. ttl
    if ttl == -1 then expiry = 'persistent' elseif ttl > 0 and ttl <= 86400000 then expiry = 'expires' end
    put(db); put(k); put(t); put(expiry)
    local v
    if t == 'string' then v = {redis.call('GET', k)}
    elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
    elseif t == 'set' then v = redis.call('SMEMBERS', k); table.sort(v)
    elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
    elseif t == 'hash' then
      local flat = redis.call('HGETALL', k)
      v = {}
      for i = 1, #flat, 2 do v[#v + 1] = #flat[i] .. ':' .. flat[i] .. flat[i + 1] end
      table.sort(v)
    elseif t == 'stream' then
      v = {}
      for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
        v[#v + 1] = e[1]
        for _, f in ipairs(e[2]) do v[#v + 1] = f end
      end
    else v = {'a type the test does not know'} end
    put(#v)
    for _, x in ipairs(v) do put(x) end
  end
end
return table.concat(counts, ' ') .. ' ' .. redis.sha1hex(table.concat(out))";

fn contents(live: &Live) -> String {
    live.eval(CONTENTS)
}

/// `program -c script` with the tools first on `PATH`, its `redis-cli` talking to
/// `live`, and the stubs' state.
fn shell(live: &Live, state: &Path, program: &str, script: &str) -> Command {
    let mut c = Command::new(program);
    c.arg("-c")
        .arg(script)
        .arg(program)
        .env("PATH", &live.path)
        .env("LIVE_PORT", live.port.to_string())
        .env("STATE", state)
        .env("SERVICES", "indexer indexer-db wiki wiki-db")
        .env("CONTAINER_PASSWORD", INDEXER_PASSWORD);
    for var in [
        "REDISCLI_AUTH",
        "VALKEYCLI_AUTH",
        "REDIS_PASSWORD",
        "VALKEY_PASSWORD",
    ] {
        c.env_remove(var);
    }
    c
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&fs::read_to_string(repo().join(OUT).join(path)).unwrap()).unwrap()
}

/// `dump` is an RDB file.
fn assert_rdb(dump: &Path) {
    let bytes = fs::read(dump).unwrap();
    assert!(
        bytes.starts_with(b"REDIS") && bytes.len() > 100_000,
        "{dump:?} is no RDB snapshot of the data ({} bytes)",
        bytes.len()
    );
}

/// A generated start script with its container paths moved into `dir` (the
/// password file into `dir/secrets`, the configuration file, the data directory
/// into `dir/data`) and its server on `port` of 127.0.0.1.
fn start_script(script: &str, dir: &Path, port: u16) -> String {
    let script = if script.contains("/run/secrets/db") {
        moved(
            script,
            "/run/secrets/db",
            &dir.join("secrets").display().to_string(),
        )
    } else {
        script.to_owned()
    };
    let script = moved(
        &script,
        "/tmp/server.conf",
        &dir.join("server.conf").display().to_string(),
    );
    moved(
        &script,
        "--dir /data ",
        &format!(
            "--dir {} --port {port} --bind 127.0.0.1 ",
            dir.join("data").display()
        ),
    )
}

/// A generated restore with its data directory moved into `data` and its
/// temporary server from 6380 to `port`, its pid file in its directory.
fn restore_moved(text: &str, data: &Path, port: u16) -> String {
    let t = moved(
        text,
        "d=/data/kiln-restore;",
        &format!("d={}/kiln-restore;", data.display()),
    );
    let t = moved(&t, "-p 6380 ", &format!("-p {port} "));
    let t = moved(&t, "--port 6380 ", &format!("--port {port} "));
    let t = moved(
        &t,
        "replicaof 127.0.0.1 6380 ",
        &format!("replicaof 127.0.0.1 {port} "),
    );
    moved(
        &t,
        "--daemonize yes ",
        "--daemonize yes --pidfile \"$d/server.pid\" ",
    )
}

#[test]
fn every_dump_kiln_writes_restores_into_the_live_server() {
    let Some(bin) = redis_bin() else {
        assert!(
            !required(),
            "KILN_REQUIRE_VALIDATORS=1 but Redis's redis-server, redis-cli and \
             redis-check-rdb are not installed (tools/validators/setup-validators.sh \
             installs Debian's redis-server and redis-tools)"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "SKIPPED every_dump_kiln_writes_restores_into_the_live_server: no Redis \
                 binaries (apt-get install redis-server redis-tools, or run tools/test.sh)"
            );
        }
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let tool_dir = tmp.path().join("tools");
    let state = tmp.path().join("state");
    fs::create_dir_all(&state).unwrap();
    tools(&tool_dir, &bin);
    let ports = free_ports(3);

    host_stack(&bin, tmp.path(), &tool_dir, &state, ports[0], ports[2]);
    kubernetes_app(&bin, tmp.path(), &tool_dir, &state, ports[1], ports[2]);
}

/// `indexer` on host `box` (Valkey 8.1, compose project `docs-dev`): its nightly
/// `indexer-db-backup` service and `backup.sh` dump, `restore.sh` restores.
fn host_stack(
    bin: &Binaries,
    tmp: &Path,
    tools: &Path,
    state: &Path,
    port: u16,
    restore_port: u16,
) {
    const MANUAL: &str = "/data/docs-dev/manual-backups/indexer-db";
    let compose = yaml("hosts/box/docs-dev/compose.yaml");

    // The server, started by its service's command (compose turns `$$` into `$`)
    // with the password of the env file.
    let service = &compose["services"]["indexer-db"];
    assert_eq!(service["command"][0].as_str(), Some("sh"));
    assert_eq!(service["command"][1].as_str(), Some("-c"));
    let command = service["command"][2]
        .as_str()
        .expect("the indexer-db service runs sh -c SCRIPT")
        .replace("$$", "$");
    assert!(
        command.contains("exec docker-entrypoint.sh valkey-server "),
        "{command}"
    );
    let dir = tmp.join("indexer-db");
    let data = dir.join("data");
    fs::create_dir_all(&data).unwrap();
    let mut live = Live {
        cli: bin.cli.clone(),
        port,
        password: INDEXER_PASSWORD,
        script: start_script(&command, &dir, port),
        env: vec![("VALKEY_PASSWORD", INDEXER_PASSWORD)],
        path: path_with(tools),
        log: dir.join("server.log"),
        server: None,
    };
    live.start();
    assert_eq!(live.eval(DATA), "ok");
    let original = contents(&live);
    assert!(original.starts_with("db0=3107 db3=1 "), "{original}");

    // backup.sh and restore.sh as generated, the manual-backups folder and the
    // restore's directory and port moved.
    let host = tmp.join("host");
    let manual = tmp.join("manual");
    fs::create_dir_all(&host).unwrap();
    for script in ["backup.sh", "restore.sh"] {
        let text = fs::read_to_string(repo().join(OUT).join("hosts/box").join(script)).unwrap();
        let text = if script == "backup.sh" {
            moved(&text, MANUAL, &manual.display().to_string())
        } else {
            restore_moved(&text, &data, restore_port)
        };
        fs::write(host.join(script), text).unwrap();
        fs::set_permissions(host.join(script), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |script: &str| {
        shell(&live, state, "bash", script)
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
        run(&format!(
            "./restore.sh --yes indexer '{}' dev",
            dump.display()
        ))
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

    let out = ok(run("./backup.sh indexer dev"), "backup.sh indexer dev");
    let manual_dump = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        manual_dump.starts_with(&manual) && manual_dump.is_file(),
        "backup.sh printed {manual_dump:?}"
    );
    assert_rdb(&manual_dump);

    // The nightly backup: the script of the indexer-db-backup service, which the
    // host's cron runs, with the password of the env file.
    let service = &compose["services"]["indexer-db-backup"];
    assert_eq!(service["entrypoint"][0].as_str(), Some("/bin/sh"));
    let command = service["command"][0]
        .as_str()
        .expect("the indexer-db-backup service has a command")
        .replace("$$", "$");
    let nightly_dir = tmp.join("nightly");
    fs::create_dir_all(&nightly_dir).unwrap();
    let nightly_script = moved(&command, "/backups", &nightly_dir.display().to_string());
    let nightly_script = moved(&nightly_script, "-h indexer-db ", "-h 127.0.0.1 ");
    let mut nightly_run = shell(&live, state, "sh", &nightly_script);
    nightly_run.env("VALKEY_PASSWORD", INDEXER_PASSWORD);
    ok(
        nightly_run.output().unwrap(),
        "the indexer-db-backup service's backup",
    );
    let nightly = files(&nightly_dir, "");
    assert_eq!(nightly.len(), 1, "the nightly backup wrote {nightly:?}");
    assert_rdb(&nightly[0]);

    // Each dump restores into the live server; the safety backup each restore takes
    // first puts back what it replaced.
    for dump in [&manual_dump, &nightly[0]] {
        assert_eq!(live.eval(CHANGE), "ok");
        let changed = contents(&live);
        assert_ne!(changed, original);
        let out = restore(dump);
        assert!(
            out.status.success(),
            "restore.sh of {dump:?} failed: {}",
            text(&out)
        );
        assert_eq!(
            contents(&live),
            original,
            "restore.sh of {dump:?} did not bring the data back"
        );
        assert!(log().contains("stop indexer wiki wiki-db\n"), "{}", log());
        assert!(
            stopped().is_empty(),
            "services left stopped: {:?}",
            stopped()
        );
        live.assert_master_with_password(restore_port, &data, "restore.sh");
        let safety = safety_backup(&out);
        assert_rdb(&safety);
        ok(restore(&safety), "restore.sh of its safety backup");
        assert_eq!(
            contents(&live),
            changed,
            "the safety backup of the restore of {dump:?} did not bring back what it replaced"
        );
    }

    // A dump cut in half, or no dump at all: refused before anything is stopped or
    // changed.
    let changed = contents(&live);
    let garbage = tmp.join("not-a-dump.rdb");
    fs::write(&garbage, "FLUSHALL\n").unwrap();
    let broken = [
        truncated(&nightly[0], "indexer_broken.rdb"),
        truncated(&manual_dump, "indexer_broken_manual.rdb"),
        garbage,
    ];
    let before = files(&manual, "").len();
    for broken in broken {
        let out = restore(&broken);
        assert!(
            !out.status.success(),
            "a broken dump restored: {}",
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
            "services stopped for a broken dump:\n{}",
            log()
        );
        assert_eq!(contents(&live), changed, "a refused dump changed the data");
        assert_eq!(
            files(&manual, "").len(),
            before,
            "a safety backup was taken"
        );
    }

    // The restored data is on disk when restore.sh is done: the server killed right
    // after it comes back with it (this server keeps snapshots only; a replica
    // writes the snapshot it loads to its own).
    ok(restore(&nightly[0]), "restore.sh of the nightly dump");
    live.kill();
    live.start();
    assert_eq!(
        contents(&live),
        original,
        "the restored data did not survive the server's restart"
    );
    live.assert_master_with_password(restore_port, &data, "a restart");
}

/// `worker` on a cluster (Redis 7.4): its backup CronJob and the runbook's "take
/// one first" dump, the runbook's restore restores.
fn kubernetes_app(
    bin: &Binaries,
    tmp: &Path,
    tools: &Path,
    state: &Path,
    port: u16,
    restore_port: u16,
) {
    // The password file mounted in the pods, moved here.
    let dir = tmp.join("worker-db");
    let data = dir.join("data");
    let secrets = dir.join("secrets");
    fs::create_dir_all(&data).unwrap();
    fs::create_dir_all(&secrets).unwrap();
    fs::write(secrets.join("password"), WORKER_PASSWORD).unwrap();
    let secrets = secrets.display().to_string();

    // The server, started by the StatefulSet's script (append-only file on).
    let statefulset = yaml("kubernetes/apps/worker/base/statefulset-worker-db.yaml");
    let args = &statefulset["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args[0].as_str(), Some("sh"));
    assert_eq!(args[1].as_str(), Some("-c"));
    let script = args[2].as_str().expect("the StatefulSet runs sh -c SCRIPT");
    assert!(
        script.contains("exec docker-entrypoint.sh redis-server ")
            && script.contains("--appendonly yes"),
        "{script}"
    );
    let mut live = Live {
        cli: bin.cli.clone(),
        port,
        password: WORKER_PASSWORD,
        script: start_script(script, &dir, port),
        env: Vec::new(),
        path: path_with(tools),
        log: dir.join("server.log"),
        server: None,
    };
    live.start();
    assert_eq!(live.eval(DATA), "ok");
    let original = contents(&live);

    // The CronJob's script, with the password file and /backups moved here.
    let cronjob = yaml("kubernetes/apps/worker/base/cronjob-worker-db-backup.yaml");
    let script =
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2]
            .as_str()
            .expect("the backup CronJob runs sh -c SCRIPT")
            .to_owned();
    let backups = tmp.join("k8s-backups");
    fs::create_dir_all(&backups).unwrap();
    let script = moved(&script, "/run/secrets/db", &secrets);
    let script = moved(&script, "/backups", &backups.display().to_string());
    let script = moved(&script, "-h worker-db ", "-h 127.0.0.1 ");
    ok(
        shell(&live, state, "sh", &script).output().unwrap(),
        "the backup CronJob's script",
    );
    let nightly = files(&backups, "");
    assert_eq!(nightly.len(), 1, "the CronJob wrote {nightly:?}");
    assert_rdb(&nightly[0]);

    // The runbook's commands for the app.
    let runbook = fs::read_to_string(repo().join(OUT).join("docs/dev.md")).unwrap();
    let section = &runbook[runbook.find("### `worker`").expect("a section for worker")..];
    let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
    // The dump writes `> BEFORE.rdb`, the restore reads `< BACKUP.rdb`.
    let command = |redirect: &str| {
        let cmd = section
            .split('`')
            .skip(1)
            .step_by(2)
            .find(|c| c.starts_with("kubectl ") && c.contains(redirect))
            .unwrap_or_else(|| panic!("the runbook has no kubectl exec ... {redirect}"));
        moved(cmd, "/run/secrets/db", &secrets)
    };
    let (dump_cmd, restore_cmd) = (command("> BEFORE."), command("< BACKUP."));
    assert!(dump_cmd.contains(" redis-cli --rdb "), "{dump_cmd}");
    assert!(restore_cmd.contains(" exec -i "), "{restore_cmd}");
    let restore_cmd = restore_moved(&restore_cmd, &data, restore_port);
    let work = tmp.join("operator");
    fs::create_dir_all(&work).unwrap();
    let run = |cmd: &str| {
        shell(&live, state, "bash", cmd)
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

    // Restore the nightly dump into the live server.
    assert_eq!(live.eval(CHANGE), "ok");
    ok(run(&dump_cmd), "the runbook's dump");
    let before = contents(&live);
    assert_ne!(before, original);
    assert_rdb(&work.join(&before_file));
    fs::copy(&nightly[0], work.join(&backup_file)).unwrap();
    ok(
        run(&restore_cmd),
        "the runbook's restore of the CronJob's dump",
    );
    assert_eq!(
        contents(&live),
        original,
        "the runbook's restore of the CronJob's dump did not bring the data back"
    );
    live.assert_master_with_password(restore_port, &data, "the runbook's restore");

    // The dump taken first restores too (undoing the restore).
    fs::copy(work.join(&before_file), work.join(&backup_file)).unwrap();
    ok(run(&restore_cmd), "the runbook's restore of its own dump");
    assert_eq!(contents(&live), before);
    live.assert_master_with_password(restore_port, &data, "the runbook's restore");

    // A truncated dump, or no dump at all, fails, non-zero, and changes nothing.
    let garbage = tmp.join("garbage.rdb");
    fs::write(&garbage, "FLUSHALL\n").unwrap();
    for broken in [truncated(&nightly[0], "broken.rdb"), garbage] {
        fs::copy(&broken, work.join(&backup_file)).unwrap();
        let out = run(&restore_cmd);
        assert!(
            !out.status.success()
                && String::from_utf8_lossy(&out.stderr).contains("nothing changed"),
            "a broken dump was not refused: {}",
            text(&out)
        );
        assert_eq!(contents(&live), before, "a refused dump changed the data");
        live.assert_master_with_password(restore_port, &data, "a refused restore");
    }

    // The restored data is on disk when the restore is done: the server killed right
    // after it comes back with it. With the append-only file on, a replica writes
    // the copy it loaded into a new append-only file after the sync, and until that
    // is done the old one (the data before the restore) is what a restart loads;
    // Redis's `rdb-key-save-delay` (1 ms a key) makes that take seconds here, as it
    // does for a large data set.
    fs::copy(&nightly[0], work.join(&backup_file)).unwrap();
    live.query(&["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    ok(
        run(&restore_cmd),
        "the runbook's restore of the CronJob's dump",
    );
    live.kill();
    live.start();
    assert_eq!(
        contents(&live),
        original,
        "the restored data did not survive the server's restart"
    );
    live.assert_master_with_password(restore_port, &data, "a restart");
}
