//! The installation's pseudonymization key: 32 random bytes made on first use, kept in
//! `$XDG_CONFIG_HOME/instore/pseudonym.key` (else `~/.config/instore/`) readable by the user
//! alone (0600), and never written anywhere else — not in dumps, logs or exports. Losing it
//! only means later exports use new pseudonyms.

use std::fs::{self, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::engine::pseudonym::{Pseudonyms, KEY_BYTES};

const FILE_NAME: &str = "pseudonym.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no folder for the pseudonymization key: set XDG_CONFIG_HOME or HOME")]
    NoFolder,
    #[error("pseudonymization key {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("pseudonymization key {0} is not {KEY_BYTES} bytes: delete it to make a new one (later exports then use new pseudonyms)")]
    Corrupt(PathBuf),
}

/// The installation's pseudonyms, making the key on first use.
pub fn installation_pseudonyms() -> Result<Pseudonyms, KeyError> {
    load_or_create(&crate::io::folders::config_folder().ok_or(KeyError::NoFolder)?)
}

/// The key in `folder`, made (0600, in a 0700 folder) if there is none yet.
pub fn load_or_create(folder: &Path) -> Result<Pseudonyms, KeyError> {
    let path = folder.join(FILE_NAME);
    let io = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    if !folder.exists() {
        fs::create_dir_all(folder).map_err(io)?;
        fs::set_permissions(folder, fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            let mut key = [0u8; KEY_BYTES];
            fs::File::open("/dev/urandom")
                .and_then(|mut r| r.read_exact(&mut key))
                .map_err(io)?;
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            Ok(Pseudonyms::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let bytes = fs::read(&path).map_err(io)?;
            // Another program may have widened it; the key is as secret as the uids.
            let mode = fs::metadata(&path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io)?;
            }
            let key: [u8; KEY_BYTES] = bytes
                .try_into()
                .map_err(|_| KeyError::Corrupt(path.clone()))?;
            Ok(Pseudonyms::new(key))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_gives_the_same_pseudonyms_after() {
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = dir.path().join("instore");
        let first = load_or_create(&folder).expect("made");
        let mode = fs::metadata(folder.join(FILE_NAME))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_create(&folder).expect("read");
        assert_eq!(first.of("u-1"), again.of("u-1"));
        let other = load_or_create(&dir.path().join("elsewhere")).expect("another install");
        assert_ne!(first.of("u-1"), other.of("u-1"));
        fs::set_permissions(folder.join(FILE_NAME), fs::Permissions::from_mode(0o644))
            .expect("widen");
        load_or_create(&folder).expect("read");
        let mode = fs::metadata(folder.join(FILE_NAME))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "narrowed again");
        fs::write(folder.join(FILE_NAME), b"short").expect("corrupt");
        assert!(matches!(load_or_create(&folder), Err(KeyError::Corrupt(_))));
    }
}
