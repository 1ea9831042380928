//! File modes of the data directory: it holds the database (users, key hashes, the sealed
//! signing keys) and secrets written once (bootstrap credentials, the key-encryption key), so it
//! is private to the server's user — the directory 0700 and every file 0600, created so, and
//! tightened (with a warning) when found looser. No-ops where the platform has no Unix modes.

use std::io;
use std::path::Path;

/// Create `dir` (and its parents) private to the user, or tighten it when it is readable or
/// writable by others. Returns a warning when it had to be tightened.
pub fn secure_dir(dir: &Path) -> io::Result<Option<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            return Ok(None);
        }
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            return Ok(Some(format!(
                "data directory {} was mode {mode:03o}: tightened to 700",
                dir.display()
            )));
        }
        Ok(None)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)?;
        Ok(None)
    }
}

/// Tighten an existing file to 0600 when others may read or write it; missing files are fine.
pub fn secure_file(path: &Path) -> io::Result<Option<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(None);
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            return Ok(Some(format!(
                "{} was mode {mode:03o}: tightened to 600",
                path.display()
            )));
        }
        Ok(None)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Create `path` readable and writable by the user only (never briefly wider) and write
/// `bytes`; an existing file is an error (secrets are written once).
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Create an empty file private to the user if it does not exist (so a program that creates it
/// later, such as SQLite, finds it with the right mode).
pub fn create_private(path: &Path) -> io::Result<()> {
    match write_private(path, b"") {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_private_and_tightened_when_loose() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        assert_eq!(secure_dir(&dir).unwrap(), None);
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(secure_dir(&dir).unwrap().unwrap().contains("755"));
        assert_eq!(mode(&dir), 0o700);

        let f = dir.join("secret");
        write_private(&f, b"x").unwrap();
        assert_eq!(mode(&f), 0o600);
        assert!(write_private(&f, b"y").is_err(), "written once");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(secure_file(&f).unwrap().unwrap().contains("644"));
        assert_eq!(mode(&f), 0o600);
        assert_eq!(secure_file(&dir.join("missing")).unwrap(), None);
        let g = dir.join("db");
        create_private(&g).unwrap();
        create_private(&g).unwrap();
        assert_eq!(mode(&g), 0o600);
    }
}
