//! Where the tools the tests bring with them (the test broker, PyFlink) are kept, and the
//! lock that lets one test process install a tool while the others wait for it.

use std::os::fd::AsRawFd as _;
use std::path::PathBuf;

/// `$INSTORE_TOOLS`, else `$XDG_CACHE_HOME/instore-tools`, else `~/.cache/instore-tools`:
/// outside any clone, so a fresh clone reuses what an earlier one installed.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("INSTORE_TOOLS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("instore-tools")
}

/// Runs `install` holding an exclusive lock named `name` in [`tools_dir`]: test binaries run
/// in parallel, and one of them installs while the others wait and then find it installed.
pub fn with_install_lock(name: &str, install: impl FnOnce()) {
    let tools = tools_dir();
    std::fs::create_dir_all(&tools).expect("create the test tools folder");
    let lock = std::fs::File::create(tools.join(format!("{name}.lock"))).expect("lock file");
    // SAFETY: flock on a file descriptor this function owns; released when `lock` closes.
    let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(locked, 0, "cannot lock {}", tools.display());
    install();
}
