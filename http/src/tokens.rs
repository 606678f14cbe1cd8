//! Bearer tokens and the database role each one acts as.
//!
//! The token file holds one line per token, `<sha256 of the token, hex> <role>`;
//! blank lines and lines starting with `#` are ignored. Only the hash is stored, so
//! the file does not let its reader call the API. A plain SHA-256 is enough here
//! (a password hash such as argon2 would only slow every request): tokens are 256
//! random bits made by `user-metrics-http token`, so there is nothing to guess
//! from a hash, unlike a password chosen by a person.
//!
//! A role's name says what its tokens may do: `<prefix>_writer` may only ingest,
//! `<prefix>_reader` may only read (SECURITY.md, "Roles"). The server checks it
//! before calling anything, and the database checks it again, since every call
//! runs as that role. A token of `metrics` instead of a role may only read
//! `GET /metrics` (a monitoring system's), which reads the database's figures
//! as the health role.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Write,
    Read,
    /// GET /metrics only.
    Metrics,
}

/// What a token file line names instead of a role for a token of `GET /metrics`.
pub const METRICS: &str = "metrics";

#[derive(Clone, Debug)]
pub struct Grant {
    pub role: String,
    pub access: Access,
}

/// What a token file grants, by the SHA-256 of each token.
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Grant>,
}

/// The token file and the tokens last read from it: at start, and again on
/// each SIGHUP. A request uses the tokens current when it arrives.
pub struct TokenFile {
    path: PathBuf,
    current: RwLock<Arc<Tokens>>,
}

impl TokenFile {
    pub fn load(path: PathBuf) -> Result<Self, String> {
        let tokens = load(&path)?;
        Ok(TokenFile {
            path,
            current: RwLock::new(Arc::new(tokens)),
        })
    }

    /// Reads the file again and returns the new tokens; on an error (which
    /// names the line) the tokens in use stay.
    pub fn reload(&self) -> Result<Arc<Tokens>, String> {
        let tokens = Arc::new(load(&self.path)?);
        *self.current.write().expect("tokens lock") = tokens.clone();
        Ok(tokens)
    }

    pub fn current(&self) -> Arc<Tokens> {
        self.current.read().expect("tokens lock").clone()
    }

    pub fn grant(&self, token: &str) -> Option<Grant> {
        self.current().grant(token).cloned()
    }
}

/// Reads a token file; errors name the line.
pub fn load(path: &Path) -> Result<Tokens, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("token file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("token file {}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<Tokens, String> {
    let mut by_hash = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [hash, role] = fields[..] else {
            return Err(format!(
                "line {}: expected \"<sha256 hex> <role>\", got {} fields",
                number + 1,
                fields.len()
            ));
        };
        let hash = decode_hash(hash).ok_or_else(|| {
            format!(
                "line {}: the hash must be 64 hexadecimal digits (SHA-256)",
                number + 1
            )
        })?;
        let grant = grant_of_role(role).map_err(|e| format!("line {}: {e}", number + 1))?;
        if by_hash.insert(hash, grant).is_some() {
            return Err(format!(
                "line {}: this token hash is listed twice",
                number + 1
            ));
        }
    }
    if by_hash.is_empty() {
        return Err("no tokens: every request would be refused".to_owned());
    }
    Ok(Tokens { by_hash })
}

impl Tokens {
    /// The grant of a token, if it is known. The map is keyed by the token's hash,
    /// so how long a look-up takes tells nothing about any stored token itself.
    pub fn grant(&self, token: &str) -> Option<&Grant> {
        self.by_hash.get(&sha256(token))
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// How many tokens grant `access`.
    pub fn count(&self, access: Access) -> usize {
        self.by_hash.values().filter(|g| g.access == access).count()
    }

    /// The database roles the tokens act as and the health role, each once.
    pub fn roles_with(&self, health_role: &str) -> Vec<String> {
        let mut roles = self.roles();
        roles.push(health_role.to_owned());
        roles.sort();
        roles.dedup();
        roles
    }

    /// The database roles the tokens act as, each once.
    pub fn roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = self
            .by_hash
            .values()
            .filter(|g| g.access != Access::Metrics)
            .map(|g| g.role.clone())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

/// A role name of the extension's kind: lower-case letters, digits and `_`,
/// ending in `_writer` or `_reader`; or `metrics`. Roles are named in connection
/// settings, so nothing else is let through.
pub fn grant_of_role(role: &str) -> Result<Grant, String> {
    if role == METRICS {
        return Ok(Grant {
            role: role.to_owned(),
            access: Access::Metrics,
        });
    }
    let plain = role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase())
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let access = if role.ends_with("_writer") {
        Some(Access::Write)
    } else if role.ends_with("_reader") {
        Some(Access::Read)
    } else {
        None
    };
    match (plain, access) {
        (true, Some(access)) => Ok(Grant {
            role: role.to_owned(),
            access,
        }),
        _ => Err(format!(
            "role {role:?}: expected a role such as user_metrics_writer or user_metrics_reader \
             (lower-case letters, digits and _, ending in _writer or _reader), or metrics"
        )),
    }
}

fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn decode_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(hash)
}

/// Makes a token for `role`, appends its hash to the token file (created with
/// mode 0600 if missing) and returns the token, which is shown once and kept
/// nowhere.
pub fn create(role: &str, path: &Path) -> Result<String, String> {
    grant_of_role(role)?;
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| format!("no random bytes: {e}"))?;
    let token = format!("umt_{}", hex(&random));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("token file {}: {e}", path.display()))?;
    writeln!(file, "{} {role}", hex(&sha256(&token)))
        .map_err(|e| format!("token file {}: {e}", path.display()))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_is_found_by_its_hash_only() {
        let dir = std::env::temp_dir().join(format!("umh-tokens-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let token = create("user_metrics_writer", &dir).unwrap();
        let text = std::fs::read_to_string(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert!(
            !text.contains(&token),
            "the file holds the hash, not the token"
        );
        let tokens = parse(&text).unwrap();
        let grant = tokens.grant(&token).unwrap();
        assert_eq!(
            (grant.role.as_str(), grant.access),
            ("user_metrics_writer", Access::Write)
        );
        assert!(tokens.grant(&token[1..]).is_none());
    }

    fn refusal(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_lines_are_named() {
        let hash = "ab".repeat(32);
        assert!(refusal(&format!("{hash} user_metrics_admin")).contains("line 1: role"));
        assert!(refusal("# c\nxyz user_metrics_reader").contains("line 2: the hash"));
        assert!(refusal(&hash).contains("got 1 fields"));
        assert!(refusal(&format!("{hash} a_reader\n{hash} a_writer")).contains("listed twice"));
        assert!(refusal("# nothing").contains("no tokens"));
        assert!(grant_of_role("User_Reader").is_err());
        assert!(grant_of_role("x;drop_reader").is_err());
    }
}
