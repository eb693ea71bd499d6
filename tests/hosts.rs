//! Hosts: the tags Flux writes into compose files survive builds; the generated
//! Caddyfile really routes each hostname to its app (Caddy started on loopback in
//! front of upstreams this test serves); the TLS modes the validators cannot see in
//! `out/` are validated here; an upstream stack's override stacks onto its upstream
//! file with a filled-in `.env`.

use crate::support::{kiln, reference_project, repo, write_env};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn skipped() -> bool {
    std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1")
}

fn validator(name: &str) -> PathBuf {
    let prefix = std::env::var_os("VALIDATORS_PREFIX")
        .map_or_else(|| PathBuf::from("/tmp/validators"), PathBuf::from);
    let bin = prefix.join("bin").join(name);
    assert!(
        bin.is_file(),
        "{} is not installed (tools/validators/setup-validators.sh); set KILN_SKIP_VALIDATORS=1 to skip",
        bin.display()
    );
    bin
}

const COMPOSE: &str = "out/hosts/vm/storefront-prod/compose.yaml";

/// Flux image automation rewrites `image:` in the committed compose file; the next
/// build keeps that tag (and `check` is clean), until the model pins one.
/// A folder of stand-in commands (name, script) and a `PATH` that finds them first.
fn stub_commands(stubs: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().unwrap();
    for (name, body) in stubs {
        let file = bin.path().join(name);
        std::fs::write(&file, body).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (bin, path)
}

#[test]
fn a_tag_flux_wrote_into_a_compose_file_survives_builds_and_a_pin_wins() {
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let path = root.join(COMPOSE);
    let text = std::fs::read_to_string(&path).unwrap();
    let marker = r#"# {"$imagepolicy": "flux-system:backend-prod"}"#;
    let before = format!("harbor.home.arpa/storefront/backend:unset {marker}");
    assert!(text.contains(&before), "{text}");
    let flux = format!("harbor.home.arpa/storefront/backend:main-1a2b3c4-20260301120000 {marker}");
    std::fs::write(&path, text.replace(&before, &flux)).unwrap();

    let run = kiln(root, &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::read_to_string(&path).unwrap().contains(&flux),
        "the build reverted the tag Flux wrote"
    );
    let check = kiln(root, &["check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);

    let prod = root.join("environments/prod.yaml");
    let model = std::fs::read_to_string(&prod).unwrap();
    let pinned = model.replace(
        "  backend:\n    routes:",
        "  backend:\n    image:\n      tag: v1.2.3\n    routes:",
    );
    assert_ne!(model, pinned);
    std::fs::write(&prod, pinned).unwrap();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("image: harbor.home.arpa/storefront/backend:v1.2.3\n"),
        "the pinned tag must win, without a Flux marker:\n{text}"
    );
}

/// `via` may name the app's own host: the host's Caddy serves the route, exactly as
/// with no `via` (found by the bad-input corpus: the reference check took every
/// `via` for a cluster).
#[test]
fn a_route_via_its_own_host_is_the_same_as_no_via() {
    let plain = reference_project();
    assert_eq!(kiln(plain.path(), &["build"]).code, 0);
    let named = reference_project();
    let dev = named.path().join("environments/dev.yaml");
    let text = std::fs::read_to_string(&dev).unwrap();
    assert!(text.contains("        via: null\n"));
    std::fs::write(
        &dev,
        text.replace("        via: null\n", "        via: local\n"),
    )
    .unwrap();
    let run = kiln(named.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The runbook's diagram labels the route with its `via` (and the lock hashes the
    // runbook); every file that runs anything is the same.
    let runs = |p: &String, _: &mut Vec<u8>| !p.starts_with("docs/") && p != "kiln.lock";
    let mut a = crate::support::snapshot(&plain.path().join("out"));
    let mut b = crate::support::snapshot(&named.path().join("out"));
    a.retain(runs);
    b.retain(runs);
    assert!(a.keys().any(|p| p == "hosts/local/Caddyfile"));
    if let Some(report) = crate::support::compare_trees(&a, &b) {
        panic!("`via: local` changed the output:\n{report}");
    }
}

/// A model with one host, apps on loopback ports the test serves, and Caddy with
/// internal TLS on high loopback ports.
fn live_model(https: u16, http: u16, shop: u16, api: u16, tls: &str) -> String {
    format!(
        r#"registries:
  lan:
    host: registry.lan
hosts:
  box:
    address: 127.0.0.1
    dataDir: /srv/test
    caddy:
      bind: 127.0.0.1
      httpPort: {http}
      httpsPort: {https}
      tls: {tls}
apps:
  shop:
    runsOn: box
    image: {{registry: lan, repository: shop/web, tag: "1"}}
    port: 8080
    publish: {{port: {shop}}}
    routes:
      web: {{host: shop.localhost}}
      alias: {{host: www.shop.localhost}}
  api:
    runsOn: box
    image: {{registry: lan, repository: shop/api, tag: "1"}}
    port: 3001
    publish: {{port: {api}}}
    routes:
      api: {{host: shop.localhost, path: /api}}
"#
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Answers every request with `name` and the request line, until the process ends.
fn upstream(name: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream, name));
        }
    });
    port
}

fn answer(mut stream: TcpStream, name: &str) {
    let mut buf = [0u8; 4096];
    let mut request = Vec::new();
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = format!("{name} {line}\n");
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Kills the child when dropped, so a failing assertion does not leave Caddy running.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn curl(host: &str, https: u16, path: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--insecure", "--max-time", "5"])
        .args(["--resolve", &format!("{host}:{https}:127.0.0.1")])
        .args(["--dump-header", "-"])
        .arg(format!("https://{host}:{https}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_ascii_lowercase(), body.to_owned())
}

fn build_hosts(root: &Path, model: &str) -> PathBuf {
    write_env(root, "test.yaml", model);
    let run = kiln(root, &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    root.join("out/hosts/box")
}

fn caddy_env(cmd: &mut Command, dir: &Path) {
    cmd.env("HOME", dir.join("home"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
}

#[test]
fn the_generated_caddyfile_routes_every_hostname_to_its_app() {
    if skipped() {
        return;
    }
    let caddy = validator("caddy");
    let shop = upstream("shop");
    let api = upstream("api");
    let (https, http) = (free_port(), free_port());
    let project = tempfile::tempdir().unwrap();
    let dir = build_hosts(
        project.path(),
        &live_model(https, http, shop, api, "{mode: internal}"),
    );
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&caddy);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(dir.join("Caddyfile"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    caddy_env(&mut cmd, state.path());
    let mut child = Killed(cmd.spawn().expect("caddy starts"));

    let deadline = Instant::now() + Duration::from_secs(30);
    let (head, body) = loop {
        let got = curl("shop.localhost", https, "/");
        if got.1.starts_with("shop ") || Instant::now() > deadline {
            break got;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            let mut err = String::new();
            let _ = child.0.stderr.take().unwrap().read_to_string(&mut err);
            panic!("caddy exited with {status}:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(body.starts_with("shop GET / "), "{head}\n{body}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(
        !head.contains("strict-transport-security"),
        "no HSTS for internal certificates:\n{head}"
    );
    assert!(
        !head.contains("\nserver:"),
        "the Server header is dropped:\n{head}"
    );

    for (host, path, want) in [
        ("shop.localhost", "/api", "api GET /api "),
        (
            "shop.localhost",
            "/api/orders?id=1",
            "api GET /api/orders?id=1 ",
        ),
        ("shop.localhost", "/apiary", "shop GET /apiary "),
        ("shop.localhost", "/index.html", "shop GET /index.html "),
        ("www.shop.localhost", "/", "shop GET / "),
        ("www.shop.localhost", "/api/x", "shop GET /api/x "),
    ] {
        let (head, body) = curl(host, https, path);
        assert!(
            body.starts_with(want),
            "https://{host}{path} reached {body:?}, want {want:?}\n{head}"
        );
    }
}

fn caddy_validate(dir: &Path) -> Result<(), String> {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(validator("caddy"));
    cmd.args([
        "validate",
        "--adapter",
        "caddyfile",
        "--config",
        "Caddyfile",
    ])
    .current_dir(dir);
    caddy_env(&mut cmd, state.path());
    let out = cmd.output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Caddy validates a Cloudflare origin certificate only when the files exist; here
/// they do (a throwaway self-signed pair).
#[test]
fn cloudflare_origin_certificates_validate() {
    if skipped() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (
        certs.path().join("origin.pem"),
        certs.path().join("origin-key.pem"),
    );
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=shop.localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let project = tempfile::tempdir().unwrap();
    let tls = format!(
        "{{mode: cloudflare-origin, certificate: {}, key: {}}}",
        cert.display(),
        key.display()
    );
    let dir = build_hosts(project.path(), &live_model(8443, 8080, 1, 2, &tls));
    let caddyfile = std::fs::read_to_string(dir.join("Caddyfile")).unwrap();
    assert!(
        caddyfile.contains(&format!("tls {} {}", cert.display(), key.display())),
        "{caddyfile}"
    );
    assert!(
        caddyfile.contains("Strict-Transport-Security"),
        "{caddyfile}"
    );
    caddy_validate(&dir).unwrap();
    let compose = std::fs::read_to_string(dir.join("caddy/compose.yaml")).unwrap();
    assert!(
        compose.contains(&format!("source: {}", cert.display())),
        "the certificate is mounted into the container:\n{compose}"
    );
}

/// The DNS challenge needs Caddy built with the cloudflare plugin, which the stock
/// binary lacks: everything but the one plugin line is validated.
#[test]
fn cloudflare_dns_challenge_validates_apart_from_the_plugin_line() {
    if skipped() {
        return;
    }
    let project = tempfile::tempdir().unwrap();
    let mut model = live_model(
        8443,
        8080,
        1,
        2,
        "{mode: cloudflare-dns, email: ops@example.com, apiToken: {secret: cloudflare, key: api-token}}",
    );
    model.push_str(
        "secrets:\n  cloudflare:\n    keys:\n      api-token:\n        op: op://Homelab/Cloudflare/dns token\n",
    );
    let dir = build_hosts(project.path(), &model);
    let caddyfile = std::fs::read_to_string(dir.join("Caddyfile")).unwrap();
    let plugin = "\tacme_dns cloudflare {env.CLOUDFLARE_API_TOKEN}\n";
    assert!(caddyfile.contains(plugin), "{caddyfile}");
    std::fs::write(dir.join("Caddyfile"), caddyfile.replace(plugin, "")).unwrap();
    caddy_validate(&dir).unwrap();
    let env = std::fs::read_to_string(dir.join("caddy/caddy.env.template")).unwrap();
    assert!(env.contains("\nCLOUDFLARE_API_TOKEN=\n"), "{env}");
    assert!(env.contains("op://Homelab/Cloudflare/dns token"), "{env}");
}

/// What a deploy runs: the upstream file (a stand-in with the services the override
/// touches), kiln's override, and a filled-in `.env` from the template.
#[test]
fn the_supabase_override_stacks_onto_its_upstream_file() {
    if skipped() {
        return;
    }
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let dir = root.join("out/hosts/vm/supabase-prod");
    let template = std::fs::read_to_string(dir.join(".env.template")).unwrap();
    let filled: String = template
        .lines()
        .map(|l| {
            if l.ends_with('=') && !l.starts_with('#') {
                format!("{l}filled-in\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    let env_file = scratch.path().join(".env");
    std::fs::write(&env_file, filled).unwrap();
    let upstream = repo().join("tests/fixtures/upstream-compose.yml");
    let out = Command::new(validator("docker-compose"))
        .arg("--project-directory")
        .arg(scratch.path())
        .arg("--env-file")
        .arg(&env_file)
        .arg("-f")
        .arg(&upstream)
        .arg("-f")
        .arg(dir.join("compose.override.yaml"))
        .args(["config", "--format", "json"])
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("is not set"),
        "a variable is missing from the template: {stderr}"
    );
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let backup = &config["services"]["db-backup"];
    assert_eq!(backup["environment"]["POSTGRES_PASSWORD"], "filled-in");
    assert!(
        backup["command"][0]
            .as_str()
            .unwrap()
            .contains("echo '0 2 * * * /usr/local/bin/kiln-backup"),
        "{backup}"
    );
    assert_eq!(config["services"]["kong"]["ports"][0]["published"], "8000");
    let auth = &config["services"]["auth"];
    assert_eq!(
        auth["environment"]["GOTRUE_EXTERNAL_GOOGLE_CLIENT_ID"],
        "filled-in"
    );
    assert_eq!(
        auth["environment"]["GOTRUE_EXTERNAL_GOOGLE_ENABLED"],
        "true"
    );
    assert_eq!(
        auth["image"], "supabase/gotrue:v2.186.0",
        "the override adds to the upstream service, it does not replace it"
    );
}

/// `deploy.sh` (the contract with the cluster's deploy Job): unknown names are usage
/// errors, a missing or incomplete env file stops the deploy before Docker is
/// touched, and a complete one pulls, starts with `--wait` and waits for the health
/// endpoint. Docker is a stub that records its arguments.
#[test]
fn deploy_sh_refuses_incomplete_env_files_then_deploys_and_waits_for_health() {
    let health = upstream("healthy");
    let data = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let model = format!(
        r#"registries:
  lan:
    host: registry.lan
hosts:
  box:
    address: 127.0.0.1
    dataDir: {data}
apps:
  shop:
    runsOn: box
    image: {{registry: lan, repository: shop/web, tag: "1"}}
    port: 8080
    publish: {{port: {health}}}
    health: {{path: /healthz, tool: wget}}
    env:
      MODE: live
      API_KEY: {{secret: shop, key: api-key}}
secrets:
  shop:
    usedBy: [shop]
    keys:
      api-key: {{op: op://Vault/Shop/api key}}
"#,
        data = data.path().display()
    );
    let dir = build_hosts(project.path(), &model);
    let (bin, path) = stub_commands(&[("docker", "#!/bin/sh\necho \"$*\" >> \"$DOCKER_LOG\"\n")]);
    let log = bin.path().join("docker.log");
    let deploy = |args: &[&str]| {
        let out = Command::new(dir.join("deploy.sh"))
            .args(args)
            .env("PATH", &path)
            .env("DOCKER_LOG", &log)
            .env("DEPLOY_TIMEOUT", "10")
            .output()
            .expect("deploy.sh runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, err) = deploy(&["nothing"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("shop test  (compose project shop-test)"),
        "{err}"
    );

    let env_file = data.path().join("shop-test/shop.env");
    let (code, err) = deploy(&["shop"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("missing {}", env_file.display()))
            && err.contains("shop.env.template"),
        "{err}"
    );
    std::fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    std::fs::write(&env_file, "API_KEY=\n").unwrap();
    let (code, err) = deploy(&["shop", "test"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("API_KEY is missing or empty"), "{err}");
    assert!(
        !log.exists(),
        "docker must not run before the env file is complete"
    );

    std::fs::write(&env_file, "API_KEY=k\n").unwrap();
    let (code, err) = deploy(&["shop"]);
    assert_eq!(code, 0, "{err}");
    let calls = std::fs::read_to_string(&log).unwrap();
    let expected = [
        "config --quiet",
        "pull --quiet",
        "up --detach --remove-orphans --wait",
    ];
    for want in expected {
        assert!(
            calls.contains(&format!(
                "compose --project-name shop-test --file {}/shop-test/compose.yaml {want}",
                dir.display()
            )),
            "no `{want}` in:\n{calls}"
        );
    }
}

/// Every Caddyfile token kiln writes reads back as its value in Caddy's own parser
/// (`caddy adapt`): quotes, backslashes, `#`, `<<` and spaces, each written bare,
/// double-quoted or backtick-quoted by the lexer's rules.
#[test]
fn caddyfile_tokens_read_back_byte_for_byte() {
    use kiln::render::hosts::caddy_token::Token;
    if skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for value in [
        "plain@example.com",
        "two words",
        "say \"hi\"",
        r"C:\dir\x",
        r"ends\",
        r#"a\"b"#,
        "#not-a-comment",
        "<<EOF",
        "$HOME `tick` 'q'",
    ] {
        let token = Token::new(value).unwrap();
        let file = dir.path().join("Caddyfile");
        std::fs::write(
            &file,
            format!(":8080 {{\n\trespond {} 200\n}}\n", token.as_str()),
        )
        .unwrap();
        let mut cmd = Command::new(validator("caddy"));
        cmd.args(["adapt", "--adapter", "caddyfile", "--config"])
            .arg(&file);
        caddy_env(&mut cmd, dir.path());
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{value:?} as {}: {}",
            token.as_str(),
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let body = &json["apps"]["http"]["servers"]["srv0"]["routes"][0]["handle"][0]["body"];
        assert_eq!(body, value, "{value:?} was written as {}", token.as_str());
    }
}

/// A health path is one URL for the probe, never shell code: with `;`, `&&`, `$` and
/// quotes (all legal in a URL path), `docker compose config` accepts the file without
/// interpolating anything, and the health check (`CMD`, no shell) hands wget exactly
/// the URL.
#[test]
fn a_health_path_reaches_the_probe_byte_for_byte() {
    if skipped() {
        return;
    }
    let path = "/health;id&&echo$IFS$HOME'(x)";
    let project = tempfile::tempdir().unwrap();
    let model = format!(
        r#"registries:
  lan:
    host: registry.lan
hosts:
  box:
    address: 127.0.0.1
apps:
  shop:
    runsOn: box
    image: {{registry: lan, repository: shop/web, tag: "1"}}
    port: 8080
    health: {{path: "{path}", tool: wget}}
"#
    );
    let dir = build_hosts(project.path(), &model);
    let out = Command::new(validator("docker-compose"))
        .arg("--file")
        .arg(dir.join("shop-test/compose.yaml"))
        .args(["config", "--format", "json"])
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("variable is not set"), "{stderr}");
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let test = &config["services"]["shop"]["healthcheck"]["test"];
    // `config` prints `$` as `$$` again, so its output can be read back. No shell
    // runs the check (`CMD`): wget gets the URL as one argument.
    let words: Vec<String> = test
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().replace("$$", "$"))
        .collect();
    assert_eq!(
        words,
        [
            "CMD".to_owned(),
            "wget".to_owned(),
            "-q".to_owned(),
            "-O".to_owned(),
            "/dev/null".to_owned(),
            format!("http://127.0.0.1:8080{path}")
        ]
    );
}

/// A value as the env template says to write it: single-quoted with `'` as `\'`, or,
/// when it ends in `\` or holds `\'`, double-quoted with `\`, `"` and `$` escaped.
fn fill(value: &str) -> String {
    if value.ends_with('\\') || value.contains("\\'") {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$");
        format!("\"{escaped}\"")
    } else {
        format!("'{}'", value.replace('\'', "\\'"))
    }
}

/// Secret values with `$`, quotes, `#`, spaces and backslashes, written into the env
/// file as its template says, reach the container byte for byte (`docker compose
/// config` resolves the service's environment as compose would start it), and so do
/// kiln's own values (`dotenv_quote`). `deploy.sh` accepts that file, and refuses each
/// line compose would read differently from how it is written, naming the line and
/// variable but never the value.
#[test]
fn env_file_values_reach_the_container_byte_for_byte() {
    use kiln::render::hosts::env_file::dotenv_quote;
    if skipped() {
        return;
    }
    let values = [
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "it's \"quoted\" # not a comment",
        "  two  spaces  ",
        "${HOME} $(id) `tick` $$",
        r"a\b\\c",
        r"ends in \",
        r"holds \' there",
    ];
    let data = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let mut model = format!(
        r#"registries:
  lan:
    host: registry.lan
hosts:
  box:
    address: 127.0.0.1
    dataDir: {}
apps:
  shop:
    runsOn: box
    image: {{registry: lan, repository: shop/web, tag: "1"}}
    port: 8080
    env:
"#,
        data.path().display()
    );
    for i in 0..values.len() {
        model.push_str(&format!("      S{i}: {{secret: shop, key: k{i}}}\n"));
    }
    model.push_str("secrets:\n  shop:\n    usedBy: [shop]\n    keys:\n");
    for i in 0..values.len() {
        model.push_str(&format!("      k{i}: {{op: op://Vault/Shop/k{i}}}\n"));
    }
    let dir = build_hosts(project.path(), &model);
    let template = std::fs::read_to_string(dir.join("shop-test/shop.env.template")).unwrap();
    assert!(
        template.contains("Write each value in single quotes"),
        "{template}"
    );
    let mut filled = String::new();
    for line in template.lines() {
        match line.strip_prefix('S').and_then(|l| l.strip_suffix('=')) {
            Some(i) => {
                let i: usize = i.parse().unwrap();
                filled.push_str(&format!("S{i}={}\n", fill(values[i])));
            }
            None => filled.push_str(&format!("{line}\n")),
        }
    }
    // kiln's own quoting, for the values it writes into templates.
    let plain = [
        "two\nlines",
        "trailing \\",
        "it's $x",
        "a b $HOME",
        "",
        "https://a.example",
    ];
    for (i, v) in plain.iter().enumerate() {
        filled.push_str(&format!("P{i}={}\n", dotenv_quote(v)));
    }
    let env_file = data.path().join("shop-test/shop.env");
    std::fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    std::fs::write(&env_file, &filled).unwrap();

    let out = Command::new(validator("docker-compose"))
        .arg("--file")
        .arg(dir.join("shop-test/compose.yaml"))
        .args(["config", "--format", "json"])
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("variable is not set"), "{stderr}");
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let environment = &config["services"]["shop"]["environment"];
    // `config` prints `$` as `$$`, so that its output reads back.
    let got = |name: &str| environment[name].as_str().unwrap().replace("$$", "$");
    for (i, v) in values.iter().enumerate() {
        assert_eq!(got(&format!("S{i}")), *v, "S{i}={}", fill(v));
    }
    for (i, v) in plain.iter().enumerate() {
        assert_eq!(got(&format!("P{i}")), *v, "P{i}={}", dotenv_quote(v));
    }

    // deploy.sh, with a stand-in docker.
    let (_bin, path) = stub_commands(&[("docker", "#!/bin/sh\nexit 0\n")]);
    let deploy = || {
        let out = Command::new(dir.join("deploy.sh"))
            .arg("shop")
            .env("PATH", &path)
            .env("DEPLOY_TIMEOUT", "5")
            .output()
            .expect("deploy.sh runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = deploy();
    assert_eq!(code, 0, "{err}");

    let secret = values[0];
    for (bad, why) in [
        (format!("S0={secret}"), "would expand the $"),
        ("S0=abc # note".to_owned(), "would cut this value"),
        ("S0=abc \t".to_owned(), "would drop the spaces"),
        ("S0= abc".to_owned(), "the space after ="),
        (format!("S0=\"{secret}\""), "double-quoted value"),
        ("S0='abc".to_owned(), "never ends"),
        ("S0='abc'def".to_owned(), "text after the closing quote"),
        ("export S0=abc".to_owned(), "not NAME=value"),
        ("S0=''".to_owned(), "S0 is missing or empty"),
    ] {
        // The bad line last: an unterminated quote would take the lines after it.
        let mut lines: Vec<String> = filled
            .lines()
            .filter(|l| !l.starts_with("S0="))
            .map(str::to_owned)
            .collect();
        lines.push(bad.clone());
        std::fs::write(&env_file, lines.join("\n") + "\n").unwrap();
        let (code, err) = deploy();
        assert_eq!(code, 1, "{bad:?} was accepted:\n{err}");
        assert!(err.contains(why), "{bad:?}: {err}");
        assert!(!err.contains("argon2id"), "the value was printed: {err}");
    }
}

/// A secret file on a host: `deploy.sh` refuses to start the project while the file
/// is missing or readable by every user, then deploys; the value is nowhere in `out/`.
#[test]
fn deploy_sh_requires_a_secret_file_that_only_its_owner_and_group_read() {
    use std::os::unix::fs::PermissionsExt;
    let health = upstream("healthy");
    let data = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let model = format!(
        r#"registries:
  lan:
    host: registry.lan
hosts:
  box:
    address: 127.0.0.1
    dataDir: {data}
apps:
  shop:
    runsOn: box
    image: {{registry: lan, repository: shop/web, tag: "1"}}
    port: 8080
    publish: {{port: {health}}}
    health: {{path: /healthz, tool: wget}}
    files:
      /run/secrets/token: {{secret: {{secret: shop, key: token}}}}
      /etc/shop.conf: {{content: "listen 8080\n"}}
secrets:
  shop:
    usedBy: [shop]
    keys:
      token: {{op: op://Vault/Shop/token}}
"#,
        data = data.path().display()
    );
    let dir = build_hosts(project.path(), &model);
    let compose = std::fs::read_to_string(dir.join("shop-test/compose.yaml")).unwrap();
    assert!(compose.contains("kiln.files: "), "{compose}");
    assert_eq!(
        std::fs::read_to_string(dir.join("shop-test/files/shop/etc-shop.conf")).unwrap(),
        "listen 8080\n"
    );
    let (bin, path) = stub_commands(&[("docker", "#!/bin/sh\necho \"$*\" >> \"$DOCKER_LOG\"\n")]);
    let log = bin.path().join("docker.log");
    let deploy = || {
        let out = Command::new(dir.join("deploy.sh"))
            .arg("shop")
            .env("PATH", &path)
            .env("DOCKER_LOG", &log)
            .env("DEPLOY_TIMEOUT", "10")
            .output()
            .expect("deploy.sh runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let file = data.path().join("shop-test/secrets/shop/run-secrets-token");
    assert!(compose.contains(&file.display().to_string()), "{compose}");
    let (code, err) = deploy();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("missing the secret file {}", file.display()))
            && err.contains("key token of secret shop"),
        "{err}"
    );
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "s3cret-value\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, err) = deploy();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("readable by every user"), "{err}");
    assert!(
        !log.exists(),
        "docker must not run before the secret file is right"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o440)).unwrap();
    let (code, err) = deploy();
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("up --detach")
    );
}

/// kiln's merge of a compose patch (`patches.compose`) is compose's own: for a service
/// as kiln writes it and a fragment exercising every rule kiln implements (mappings,
/// replaced commands and health test, ports and volumes by key, other sequences
/// appended without repeats, a `null` that changes nothing), `docker compose config` of kiln's
/// merged file equals `docker compose config` of the two files stacked with `-f`.
#[test]
fn a_compose_patch_merges_as_docker_compose_merges() {
    if skipped() {
        return;
    }
    let service = serde_json::json!({
        "image": "registry.example.com/tools/resolver:2.1.0",
        "restart": "unless-stopped",
        "user": "10001:10001",
        "read_only": true,
        "command": ["resolver", "--serve"],
        "tmpfs": ["/tmp"],
        "cap_drop": ["ALL"],
        "cap_add": ["CHOWN"],
        "security_opt": ["no-new-privileges:true"],
        "ports": [{"target": 8053, "published": "8053", "host_ip": "127.0.0.1", "protocol": "tcp"}],
        "extra_hosts": ["host.docker.internal:host-gateway"],
        "environment": {"A": "1", "B": "2"},
        "volumes": [{"type": "bind", "source": "/data/dns/data", "target": "/data"}],
        "healthcheck": {"test": ["CMD", "resolver", "--check"], "interval": "10s",
            "timeout": "5s", "retries": 5, "start_period": "10s"},
        "labels": {"kiln.app": "dns", "kiln.env": "prod"},
        "mem_limit": "256m"
    });
    let over = serde_json::json!({
        "command": ["resolver", "--serve", "--verbose"],
        "tmpfs": ["/run"],
        "cap_add": ["CHOWN", "NET_BIND_SERVICE"],
        "dns": ["1.1.1.1"],
        "ports": [
            {"target": 8053, "published": "8053", "host_ip": "127.0.0.1", "protocol": "tcp", "mode": "host"},
            {"target": 53, "published": "53", "host_ip": "0.0.0.0", "protocol": "udp"}
        ],
        "environment": {"B": "3", "C": "4"},
        "volumes": [
            {"type": "bind", "source": "/data/dns/other", "target": "/data", "read_only": true},
            {"type": "bind", "source": "/srv/zones", "target": "/zones"}
        ],
        "healthcheck": {"test": ["CMD", "resolver", "--ping"], "retries": 6},
        "ulimits": {"nofile": {"soft": 4096, "hard": 8192}},
        "mem_limit": null
    });
    let mut merged = service.as_object().unwrap().clone();
    ::kiln::render::hosts::features::patches::merge(&mut merged, over.as_object().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, svc: serde_json::Value, with_name: bool| {
        let mut doc = serde_json::json!({"services": {"dns": svc}});
        if with_name {
            doc["name"] = "dns-prod".into();
        }
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        path
    };
    let base = file("base.json", service, true);
    let fragment = file("override.json", over, false);
    let merged = file("merged.json", merged.into(), true);
    let config = |files: &[&Path]| {
        let mut cmd = Command::new(validator("docker-compose"));
        cmd.arg("--project-directory").arg(dir.path());
        for f in files {
            cmd.arg("-f").arg(f);
        }
        let out = cmd
            .args(["config", "--format", "json"])
            .env_remove("COMPOSE_PROJECT_NAME")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(config(&[&merged]), config(&[&base, &fragment]));
}

/// A host project that only runs scheduled jobs (`kind: jobs`): `deploy.sh` pulls the
/// job's image, starts nothing (no `up`, which would find no service, and no `down`,
/// which would stop a run in progress) and writes the job's crontab line.
#[test]
fn deploy_sh_of_a_jobs_only_app_starts_nothing_and_schedules_its_job() {
    let data = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let model = format!(
        r#"registries:
  lan:
    host: registry.lan
hosts:
  box:
    address: 127.0.0.1
    dataDir: {data}
apps:
  mirror:
    runsOn: box
    kind: jobs
    image: {{registry: lan, repository: tools/rclone, tag: "1.68.2"}}
    volumes:
      data:
        path: /data
        persistent: {{size: 1Gi}}
    jobs:
      sync:
        schedule: "15 1 * * *"
        command: [rclone, sync, "remote:photos", /data/photos]
"#,
        data = data.path().display()
    );
    let dir = build_hosts(project.path(), &model);
    let compose = std::fs::read_to_string(dir.join("mirror-test/compose.yaml")).unwrap();
    assert!(
        compose.contains("  mirror-sync:") && !compose.contains("  mirror:\n"),
        "only the job's service:\n{compose}"
    );
    let (bin, path) = stub_commands(&[
        ("docker", "#!/bin/sh\necho \"docker $*\" >> \"$CALLS\"\n"),
        // `crontab -l` prints the table, `crontab -` replaces it.
        (
            "crontab",
            "#!/bin/sh\nif [ \"$1\" = -l ]; then cat \"$TAB\" 2>/dev/null; else cat > \"$TAB\"; fi\n",
        ),
        // The folder's owner is the app's user, so no chown is tried.
        ("stat", "#!/bin/sh\necho 10001:10001\n"),
    ]);
    let log = bin.path().join("calls.log");
    let tab = bin.path().join("crontab.txt");
    let out = Command::new(dir.join("deploy.sh"))
        .arg("mirror")
        .env("PATH", &path)
        .env("CALLS", &log)
        .env("TAB", &tab)
        .env("DEPLOY_TIMEOUT", "10")
        .output()
        .expect("deploy.sh runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{err}{stdout}");
    assert!(
        stdout.contains("the jobs of mirror-test are scheduled"),
        "{stdout}"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("--profile jobs pull --quiet"), "{calls}");
    assert!(
        !calls.contains(" up ") && !calls.contains(" down"),
        "nothing is started or stopped:\n{calls}"
    );
    let table = std::fs::read_to_string(&tab).unwrap();
    assert!(
        table.lines().any(|l| l.starts_with("15 1 * * *")
            && l.contains("run --rm")
            && l.contains("'mirror-sync'")),
        "{table}"
    );
}
