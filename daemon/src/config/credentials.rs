//! [`MqttCredentials`]: the broker user name and password, read from `mqtt.credentials_file`
//! (two lines: user name, then password). The password never appears in the main config, in
//! error messages or in `Debug` output. The file is read only if it is a regular file of at most
//! 64 KiB; one readable by group or others is warned about when the config is loaded.

use std::fmt;
use std::path::Path;

/// Broker credentials read from a credentials file.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttCredentials {
    /// The MQTT user name (first line).
    pub username: String,
    /// The MQTT password (second line). Redacted in `Debug`.
    pub password: String,
}

impl fmt::Debug for MqttCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why a credentials file is unusable. Messages name the file, never its contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// The file cannot be opened or read.
    #[error("cannot read credentials file {path:?}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The file is not two non-empty lines of UTF-8 text.
    #[error("credentials file {path:?}: {problem} (expected two lines: user name, then password)")]
    Shape {
        /// The file.
        path: String,
        /// What is wrong, without quoting the contents.
        problem: String,
    },
}

impl MqttCredentials {
    /// Reads and checks a credentials file: exactly two non-empty lines (a final newline and
    /// CRLF line ends are accepted); neither line may have leading or trailing whitespace.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let shown = path.display().to_string();
        let bytes = super::small_file::read_capped(path, super::small_file::MAX_CREDENTIALS_BYTES)
            .map_err(|reason| CredentialsError::Unreadable {
                path: shown.clone(),
                reason,
            })?;
        let shape = |problem: &str| CredentialsError::Shape {
            path: shown.clone(),
            problem: problem.to_owned(),
        };
        let text = String::from_utf8(bytes).map_err(|_| shape("not UTF-8 text"))?;
        let body = text.strip_suffix('\n').unwrap_or(&text);
        let lines: Vec<&str> = body
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let [username, password] = lines.as_slice() else {
            return Err(shape(&format!(
                "found {} line{}",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" }
            )));
        };
        if username.is_empty() {
            return Err(shape("the user name (line 1) is empty"));
        }
        if password.is_empty() {
            return Err(shape("the password (line 2) is empty"));
        }
        if username.trim() != *username {
            return Err(shape(
                "the user name (line 1) has leading or trailing whitespace",
            ));
        }
        if password.trim() != *password {
            return Err(shape(
                "the password (line 2) has leading or trailing whitespace",
            ));
        }
        Ok(MqttCredentials {
            username: (*username).to_owned(),
            password: (*password).to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(contents: &str) -> Result<MqttCredentials, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mqtt.credentials");
        std::fs::write(&path, contents).expect("write");
        MqttCredentials::load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn two_lines_are_user_and_password() {
        let creds = load("shelfd\nhunter2\n").expect("valid");
        assert_eq!(
            (creds.username.as_str(), creds.password.as_str()),
            ("shelfd", "hunter2")
        );
        assert_eq!(load("shelfd\r\nhunter2"), Ok(creds.clone()));
        assert!(!format!("{creds:?}").contains("hunter2"));
    }

    #[test]
    fn bad_shapes_never_show_the_password() {
        for bad in [
            "",
            "\n",
            "only-user\n",
            "u\np\nextra\n",
            "u\n\n",
            "\np\n",
            "u\n hunter2\n",
        ] {
            let err = load(bad).expect_err(bad);
            assert!(err.contains("expected two lines"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        let missing = MqttCredentials::load(Path::new("/nonexistent/shelfd.credentials"))
            .map_err(|e| e.to_string());
        assert!(missing.is_err_and(|e| {
            e.starts_with("cannot read credentials file \"/nonexistent/shelfd.credentials\"")
        }));
    }
}
