//! Where instore keeps its files: the XDG base directories (`$XDG_DATA_HOME`,
//! `$XDG_CONFIG_HOME`, `$XDG_CACHE_HOME`, unset or empty falling back under `$HOME`), each
//! with an `instore` folder. One place, so the outbox, campaigns, recordings, profiles, the
//! pseudonym key and the tile cache agree on it.

use std::path::PathBuf;

fn folder(variable: &str, under_home: &str) -> Option<PathBuf> {
    let base = std::env::var_os(variable)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(under_home)))?;
    Some(base.join("instore"))
}

/// `$XDG_DATA_HOME/instore` (else `~/.local/share/instore`): the outbox, campaigns,
/// the list of recordings.
pub fn data_folder() -> Option<PathBuf> {
    folder("XDG_DATA_HOME", ".local/share")
}

/// `$XDG_CONFIG_HOME/instore` (else `~/.config/instore`): Kafka profiles, the pseudonym key.
pub fn config_folder() -> Option<PathBuf> {
    folder("XDG_CONFIG_HOME", ".config")
}

/// `$XDG_CACHE_HOME/instore` (else `~/.cache/instore`): map tiles.
pub fn cache_folder() -> Option<PathBuf> {
    folder("XDG_CACHE_HOME", ".cache")
}
