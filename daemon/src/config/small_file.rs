//! Reading the small files a person points shelfd at (the config file, the MQTT credentials,
//! TLS files): only a regular file, at most a stated size, opened so that a FIFO or a device
//! can never block or flood the reader (`check-config /dev/zero` must not read forever, a FIFO
//! must not wait for a writer).
//!
//! Owns only the opening and the bounded read; what the bytes mean is the caller's business.
//! Errors say what the file is, or how big, never its contents; callers put the path in front.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Largest config file: far above any store's (the shipped example is ~20 KiB).
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// Largest credentials file (two short lines).
pub const MAX_CREDENTIALS_BYTES: u64 = 64 << 10;
/// Largest TLS file (a CA bundle, a certificate or a key).
pub const MAX_TLS_FILE_BYTES: u64 = 4 << 20;

/// `O_NONBLOCK` on Linux: opening a FIFO without a writer returns at once instead of waiting.
/// It changes nothing for a regular file.
const O_NONBLOCK: i32 = 0o4000;

/// What a path is when it is not a regular file.
fn kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Opens `path` if it is a regular file of at most `max` bytes (following symlinks).
pub fn open_regular(path: &Path, max: u64) -> Result<File, String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if let Some(kind) = kind(&meta) {
        return Err(format!("it is {kind}, expected a regular file"));
    }
    if meta.len() > max {
        return Err(format!(
            "it is {} bytes, more than the {max} bytes allowed",
            meta.len()
        ));
    }
    Ok(file)
}

/// Reads a regular file of at most `max` bytes (a file that grows past `max` while it is read
/// is refused too).
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let file = open_regular(path, max)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("it is more than the {max} bytes allowed"));
    }
    Ok(bytes)
}

/// A warning when `path` is readable by its group or by others (credentials, private keys).
pub fn exposure_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "{:?} is readable by {} (mode {:o}); make it readable by shelfd only: chmod 600",
            path.display().to_string(),
            match (mode & 0o040 != 0, mode & 0o004 != 0) {
                (true, true) => "its group and others",
                (true, false) => "its group",
                _ => "others",
            },
            mode & 0o777
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        for (path, what) in [
            (Path::new("/dev/zero"), "it is a character device"),
            (fifo.as_path(), "it is a FIFO"),
            (dir.path(), "it is a directory"),
        ] {
            let err = read_capped(path, 1024).expect_err("refused");
            assert!(err.contains(what), "{err}");
        }
    }

    #[test]
    fn a_file_over_the_cap_is_refused_by_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'x'; 2000]).expect("write");
        let err = read_capped(&path, 1999).expect_err("too big");
        assert!(
            err.contains("it is 2000 bytes, more than the 1999 bytes"),
            "{err}"
        );
        assert_eq!(read_capped(&path, 2000).expect("fits").len(), 2000);
    }

    #[test]
    fn group_or_other_readable_files_are_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("creds");
        std::fs::write(&path, "u\np\n").expect("write");
        for (mode, warning) in [
            (0o600, None),
            (0o640, Some("its group (mode 640)")),
            (0o604, Some("others (mode 604)")),
            (0o644, Some("its group and others (mode 644)")),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let got = exposure_warning(&path);
            match warning {
                None => assert_eq!(got, None),
                Some(w) => assert!(got.as_deref().is_some_and(|g| g.contains(w)), "{got:?}"),
            }
        }
    }
}
