//! A real Flink for the SQL export's tests: PyFlink (`apache-flink` from PyPI, Apache-2.0),
//! whose local MiniCluster runs a script's jobs in one JVM. It comes with the tests: the first
//! test that needs it on a machine installs it into a virtualenv under the tools folder
//! (see [`python`]); it needs Python 3 with venv and a Java 17 runtime (Debian's
//! `python3-venv` and `openjdk-17-jre-headless`, which the README names).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::tools::{tools_dir, with_install_lock};

/// The PyFlink release the tests run against.
pub const PYFLINK_VERSION: &str = "2.3.0";

/// A Python with PyFlink: `$INSTORE_PYFLINK_PYTHON`, or the virtualenv kept in the tools
/// folder, installed there now on a machine's first run.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("INSTORE_PYFLINK_PYTHON") {
                return PathBuf::from(p);
            }
            install()
        })
        .clone()
}

fn install() -> PathBuf {
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        java.is_ok_and(|s| s.success()),
        "Flink needs a Java runtime: install Debian's openjdk-17-jre-headless (the README's \
         packages)"
    );
    let venv = tools_dir().join(format!("pyflink-{PYFLINK_VERSION}"));
    let python = venv.join("bin/python");
    let ready = venv.join("installed");
    with_install_lock("pyflink", || {
        if ready.is_file() {
            return;
        }
        let _ = writeln!(
            std::io::stderr(),
            "instore tests: installing Flink once (pip install apache-flink=={PYFLINK_VERSION}, \
             Apache-2.0, about 900 MB, a minute or two) into {}",
            venv.display()
        );
        let _ = std::fs::remove_dir_all(&venv);
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("run python3 -m venv (Debian: python3-venv)");
        assert!(status.success(), "python3 -m venv failed ({status})");
        let status = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("apache-flink=={PYFLINK_VERSION}"))
            .stdout(Stdio::null())
            .status()
            .expect("run pip");
        assert!(
            status.success(),
            "installing PyFlink failed ({status}): the Flink tests need PyPI once, or set \
             INSTORE_PYFLINK_PYTHON to a Python with apache-flink {PYFLINK_VERSION}"
        );
        std::fs::write(&ready, PYFLINK_VERSION).expect("mark PyFlink installed");
        let _ = writeln!(std::io::stderr(), "instore tests: Flink ready");
    });
    python
}

/// Runs SQL scripts on one Flink MiniCluster (`tools/flink_sql.py`), in order; panics with
/// Flink's output if one fails.
pub fn run_scripts(scripts: &[&Path]) {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/flink_sql.py");
    let out = Command::new(python())
        .arg(runner)
        .args(scripts)
        .output()
        .expect("run PyFlink");
    assert!(
        out.status.success(),
        "Flink failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
