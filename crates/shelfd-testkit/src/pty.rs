//! PTY pairs for serial tests, and udev-like symlinks to them. A [`PtyPair`]'s master is the
//! test's end (a simulated device writes and reads there); its slave device path
//! (`/dev/pts/N`) is what the driver under test opens. Because the kernel reuses `/dev/pts`
//! numbers, a config names a stable symlink instead ([`by_id_link`]), re-pointed atomically
//! ([`point`]) as udev re-points `/dev/serial/by-id` links on a replug.

use std::io;
use std::path::{Path, PathBuf};
use tokio_serial::{SerialPort, SerialStream};

/// A fresh pseudo-terminal pair.
#[derive(Debug)]
pub struct PtyPair {
    /// The test's end.
    pub master: SerialStream,
    /// The device end, kept open so the device exists until the pair is dropped.
    pub slave: SerialStream,
    /// The slave's device path: what the code under test opens.
    pub path: PathBuf,
}

impl PtyPair {
    /// Opens a PTY pair. Must run inside a tokio runtime (the ends are async streams).
    pub fn open() -> io::Result<PtyPair> {
        let (master, slave) = SerialStream::pair().map_err(io::Error::from)?;
        let path = slave.name().map(PathBuf::from).ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "PTY slave has no device name")
        })?;
        Ok(PtyPair {
            master,
            slave,
            path,
        })
    }
}

/// The by-id symlink a test's reader `id` is configured as: `dir/by-id/usb-sim-{id}-port0`.
pub fn by_id_link(dir: &Path, id: &str) -> PathBuf {
    dir.join("by-id").join(format!("usb-sim-{id}-port0"))
}

/// Points `link` at `target`, replacing it atomically (as udev re-points a by-id link); creates
/// the link's directory when needed.
pub fn point(link: &Path, target: &Path) {
    if let Some(dir) = link.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    }
    let tmp = link.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)
        .unwrap_or_else(|e| panic!("symlink {} -> {}: {e}", tmp.display(), target.display()));
    std::fs::rename(&tmp, link).unwrap_or_else(|e| panic!("re-point {}: {e}", link.display()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn bytes_written_to_the_master_arrive_at_the_device_through_a_by_id_link() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut pair = PtyPair::open().expect("PTY pair");
            let dir = tempfile::tempdir().expect("temp dir");
            let link = by_id_link(dir.path(), "r1");
            point(&link, &pair.path);
            let resolved = std::fs::canonicalize(&link).expect("link resolves");
            assert_eq!(
                resolved,
                std::fs::canonicalize(&pair.path).expect("device path")
            );
            pair.master
                .write_all(b"hello\n")
                .await
                .expect("write master");
            let mut buf = [0u8; 6];
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                pair.slave.read_exact(&mut buf),
            )
            .await
            .expect("bytes within 10 s")
            .expect("read slave");
            assert_eq!(read, 6);
            assert_eq!(&buf, b"hello\n");
        });
    }
}
