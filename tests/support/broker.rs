//! A real Kafka-protocol broker for tests: Tansu (Apache-2.0, Kafka-compatible, in Rust) on a
//! free port of 127.0.0.1 with in-memory storage. It comes with the tests: the first test
//! that needs it on a machine builds it into a cache outside the clone (see [`tansu_binary`]).

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::tools::{tools_dir, with_install_lock};

pub struct Broker {
    child: Child,
    pub bootstrap: String,
    _dir: tempfile::TempDir,
}

/// The Tansu release the tests run against.
const TANSU_VERSION: &str = "0.6.0";

/// The broker binary: `$INSTORE_TANSU`, one on `PATH`, the one kept in [`tools_dir`], or
/// (first run on a machine) built there now with `cargo install`, once for all test
/// binaries running at the same time.
fn tansu_binary() -> PathBuf {
    static TANSU: OnceLock<PathBuf> = OnceLock::new();
    TANSU
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("INSTORE_TANSU") {
                return PathBuf::from(p);
            }
            let on_path = std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join("tansu"))
                    .find(|p| p.is_file())
            });
            on_path.unwrap_or_else(install_tansu)
        })
        .clone()
}

/// Builds Tansu into [`tools_dir`] unless it is there, once for all test processes.
fn install_tansu() -> PathBuf {
    let tools = tools_dir();
    let binary = tools.join("bin/tansu");
    with_install_lock("tansu", || {
        if binary.is_file() {
            return;
        }
        // Straight to the terminal: the test harness captures what tests print, and a
        // newcomer waiting minutes should know why.
        let _ = writeln!(
            std::io::stderr(),
            "instore tests: building the test broker once (cargo install tansu {TANSU_VERSION}, \
             Apache-2.0, about 8 minutes on 2 cores) into {}",
            tools.display()
        );
        let cargo = std::env::var_os("CARGO")
            .or_else(|| option_env!("CARGO").map(Into::into))
            .unwrap_or_else(|| "cargo".into());
        let build_dir = tools.join("build");
        let status = Command::new(cargo)
            .args(["install", "tansu", "--version", TANSU_VERSION])
            .args(["--features", "dynostore", "--quiet", "--root"])
            .arg(&tools)
            .env("CARGO_TARGET_DIR", &build_dir)
            .stdout(Stdio::null())
            .status()
            .expect("run cargo install");
        let _ = std::fs::remove_dir_all(&build_dir);
        assert!(
            status.success() && binary.is_file(),
            "building the test broker failed ({status}): the Kafka tests need crates.io once, \
             or set INSTORE_TANSU to a tansu {TANSU_VERSION} binary"
        );
        let _ = writeln!(std::io::stderr(), "instore tests: test broker ready");
    });
    binary
}

/// Makes sure the broker binary is there (building it on a machine's first run), for tests
/// whose clock starts before their first broker does.
pub fn install() {
    let _ = tansu_binary();
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Broker {
    pub fn start() -> Broker {
        Broker::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Broker {
        let url = format!("tcp://127.0.0.1:{port}");
        // Tansu reads a `.env` from its working directory: give it an empty one.
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("tansu.log")).expect("log file");
        let child = Command::new(tansu_binary())
            .current_dir(dir.path())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start tansu");
        let broker = Broker {
            child,
            bootstrap: format!("127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        broker
    }

    /// Freezes the broker process (SIGSTOP): an outage without losing its state.
    pub fn freeze(&self) {
        // SAFETY: kill only sends a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGSTOP) };
    }

    /// Lets a frozen broker run again (SIGCONT).
    pub fn thaw(&self) {
        // SAFETY: as in `freeze`.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGCONT) };
    }

    /// What the broker logged (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("tansu.log")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.thaw();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
