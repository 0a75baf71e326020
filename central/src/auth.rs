//! Who may call the API: the tokens file, hashed secrets and roles.
//!
//! A token is `{name}.{secret}`; the file stores, per name, the role, the store scope (staff
//! only) and the Argon2id hash of the secret — never the secret. `shelfd-central token` makes
//! a fresh token and prints the entry to add. A verified token is remembered for the life of
//! the process (keyed by the presented token, in memory only) so that a request costs one map
//! look-up, not one Argon2 run.
//!
//! ```toml
//! [[token]]
//! name = "store-042-staff"
//! role = "staff"
//! stores = ["s042"]
//! hash = "$argon2id$v=19$m=8192,t=1,p=1$…"
//! ```

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

shelfd_core::string_enum! {
    /// What a token may do.
    pub enum Role ("role") {
        /// A shopper's app: availability only.
        Customer = "customer",
        /// Store staff, scoped to their stores.
        Staff = "staff",
        /// Order fulfilment: availability and reservations.
        Fulfilment = "fulfilment",
        /// Operators: everything.
        Admin = "admin",
    }
}

/// A caller the API recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The stores a staff token may see (empty for other roles: all stores).
    pub stores: Vec<String>,
}

impl Principal {
    /// True when this caller may see `store`.
    pub fn sees_store(&self, store: &str) -> bool {
        self.role != Role::Staff || self.stores.iter().any(|s| s == store)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    role: Role,
    hash: String,
    #[serde(default)]
    stores: Vec<String>,
}

/// The tokens file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TokensError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (the entry's name and field).
    pub reason: String,
}

/// The loaded tokens.
#[derive(Debug)]
pub struct Tokens {
    entries: HashMap<String, TokenEntry>,
    verified: Mutex<HashMap<String, Principal>>,
}

/// The Argon2id parameters of new hashes. The secrets are 256-bit random strings, not
/// passwords: no parameter choice makes guessing one feasible, so the cost is kept low (8 MiB,
/// one pass) — the hash protects the file, the cost need not slow guessing.
fn hasher() -> Argon2<'static> {
    let params = Params::new(8192, 1, 1, None).expect("invariant: valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC hash string of `secret`, with a fresh random salt.
pub fn hash_secret(secret: &str) -> std::io::Result<String> {
    let salt = random_bytes::<16>()?;
    Ok(hasher()
        .hash_password_with_salt(secret.as_bytes(), &salt)
        .expect("invariant: hashing a short secret with valid parameters succeeds")
        .to_string())
}

fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    use std::io::Read;
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// A fresh random secret (32 bytes from the kernel, hex).
pub fn new_secret() -> std::io::Result<String> {
    Ok(random_bytes::<32>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A new token for `name`: (the token to hand out, the `[[token]]` entry for the file).
pub fn new_token(name: &str, role: Role, stores: &[String]) -> std::io::Result<(String, String)> {
    let secret = new_secret()?;
    let entry = format!(
        "[[token]]\nname = {}\nrole = \"{role}\"\nstores = {}\nhash = {}\n",
        toml_str(name),
        toml::Value::Array(
            stores
                .iter()
                .map(|s| toml::Value::from(s.as_str()))
                .collect()
        ),
        toml_str(&hash_secret(&secret)?),
    );
    Ok((format!("{name}.{secret}"), entry))
}

fn toml_str(s: &str) -> String {
    toml::Value::from(s).to_string()
}

impl Tokens {
    /// Reads and checks the tokens file.
    pub fn load(path: &Path) -> Result<Tokens, TokensError> {
        let text = std::fs::read_to_string(path).map_err(|e| TokensError {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses tokens-file text.
    pub fn parse(text: &str, path: &Path) -> Result<Tokens, TokensError> {
        let bad = |reason: String| TokensError {
            path: path.to_owned(),
            reason,
        };
        let file: TokensFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut entries = HashMap::new();
        for entry in file.token {
            if entry.name.is_empty() || entry.name.contains('.') {
                return Err(bad(format!(
                    "token name {:?}: must be non-empty and without '.'",
                    entry.name
                )));
            }
            PasswordHash::new(&entry.hash).map_err(|e| {
                bad(format!(
                    "token {:?}: hash is not a PHC string: {e}",
                    entry.name
                ))
            })?;
            match (entry.role, entry.stores.is_empty()) {
                (Role::Staff, true) => {
                    return Err(bad(format!(
                        "token {:?}: a staff token needs its stores",
                        entry.name
                    )));
                }
                (role, false) if role != Role::Staff => {
                    return Err(bad(format!(
                        "token {:?}: only staff tokens are scoped to stores ({role} sees all)",
                        entry.name
                    )));
                }
                _ => {}
            }
            if entries.insert(entry.name.clone(), entry.clone()).is_some() {
                return Err(bad(format!("token {:?} is listed twice", entry.name)));
            }
        }
        Ok(Tokens {
            entries,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// The caller a presented token belongs to, or `None`.
    pub fn verify(&self, presented: &str) -> Option<Principal> {
        if let Some(p) = self.lock().get(presented) {
            return Some(p.clone());
        }
        let (name, secret) = presented.split_once('.')?;
        let entry = self.entries.get(name)?;
        let hash = PasswordHash::new(&entry.hash).ok()?;
        Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .ok()?;
        let principal = Principal {
            name: entry.name.clone(),
            role: entry.role,
            stores: entry.stores.clone(),
        };
        self.lock().insert(presented.to_owned(), principal.clone());
        Some(principal)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Principal>> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_verifies_and_nothing_else_does() {
        let (token, entry) = new_token("pos", Role::Staff, &["s1".to_string()]).expect("urandom");
        let tokens = Tokens::parse(&entry, Path::new("t.toml")).expect("valid entry");
        assert!(
            !entry.contains(token.split_once('.').expect("dot").1),
            "secret in clear"
        );
        let p = tokens.verify(&token).expect("verifies");
        assert_eq!(p.role, Role::Staff);
        assert!(p.sees_store("s1") && !p.sees_store("s2"));
        assert!(tokens.verify(&token).is_some(), "cached");
        assert!(tokens.verify(&format!("{token}0")).is_none());
        assert!(tokens.verify("pos.00").is_none());
        assert!(tokens.verify("nobody.00").is_none());
        assert!(tokens.verify("").is_none());
    }

    #[test]
    fn bad_files_name_the_entry() {
        let hash = hash_secret("x").expect("urandom");
        let cases = [
            (
                format!("[[token]]\nname = \"a\"\nrole = \"staff\"\nhash = \"{hash}\"\n"),
                "needs its stores",
            ),
            (
                format!(
                    "[[token]]\nname = \"a\"\nrole = \"admin\"\nstores = [\"s\"]\nhash = \"{hash}\"\n"
                ),
                "only staff",
            ),
            (
                "[[token]]\nname = \"a\"\nrole = \"root\"\nhash = \"x\"\n".to_string(),
                "unknown role \"root\"",
            ),
            (
                "[[token]]\nname = \"a\"\nrole = \"admin\"\nhash = \"plain\"\n".to_string(),
                "not a PHC string",
            ),
            (
                format!("[[token]]\nname = \"a.b\"\nrole = \"admin\"\nhash = \"{hash}\"\n"),
                "without '.'",
            ),
        ];
        for (text, needle) in cases {
            let err = Tokens::parse(&text, Path::new("t.toml"))
                .expect_err(needle)
                .to_string();
            assert!(err.contains(needle), "{err} should say {needle}");
            assert!(err.starts_with("t.toml: "), "{err}");
        }
    }
}
