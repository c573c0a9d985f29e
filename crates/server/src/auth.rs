//! The write token: a bearer secret that every write request must carry.

use std::io::Write as _;
use std::path::Path;

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::error::{Result, ServerError};

/// Environment variable holding the token, read by `ai4ict hub serve` and by the client.
pub const TOKEN_ENV: &str = "AI4ICT_HUB_TOKEN";

/// Shortest token accepted (characters).
const MIN_LEN: usize = 16;

/// A write token. Its [`Token::id`] (a fingerprint) names it in logs; the secret never is.
#[derive(Clone)]
pub struct Token {
    secret: String,
    id: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({})", self.id)
    }
}

impl Token {
    /// A token from its secret text (surrounding whitespace trimmed); at least 16 characters
    /// of visible ASCII.
    pub fn new(secret: &str) -> Result<Token> {
        let secret = secret.trim();
        if secret.len() < MIN_LEN || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ServerError::Token(format!(
                "a token must be at least {MIN_LEN} visible ASCII characters"
            )));
        }
        let digest = Sha256::digest(secret.as_bytes());
        let id: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Token {
            secret: secret.to_string(),
            id: format!("token:{id}"),
        })
    }

    /// A new random token (256 bits, hex).
    pub fn generate() -> Result<Token> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| ServerError::Token(format!("no randomness for a token: {e}")))?;
        Token::new(&bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }

    /// Reads a token from a file (its first line).
    pub fn from_file(path: &Path) -> Result<Token> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Token(format!("{}: {e}", path.display())))?;
        Token::new(text.lines().next().unwrap_or(""))
            .map_err(|e| ServerError::Token(format!("{}: {e}", path.display())))
    }

    /// Reads the token at `path`, or creates one there (owner read/write only) when the file
    /// does not exist; the flag is true when it was created.
    pub fn load_or_create(path: &Path) -> Result<(Token, bool)> {
        if path.exists() {
            return Ok((Token::from_file(path)?, false));
        }
        let token = Token::generate()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut file = opts.open(path)?;
        writeln!(file, "{}", token.secret)?;
        Ok((token, true))
    }

    /// The secret, to send or print once.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// A fingerprint that names the token without revealing it (`token:` and 12 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether `presented` is this token, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        // Hashing first makes the comparison independent of the lengths too.
        let a = Sha256::digest(self.secret.as_bytes());
        let b = Sha256::digest(presented.as_bytes());
        a.ct_eq(&b).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = Token::generate().unwrap();
        assert_eq!(t.secret().len(), 64);
        assert!(t.matches(t.secret()));
        assert!(!t.matches("x"));
        assert!(!format!("{t:?}").contains(t.secret()));
        assert!(Token::new("short").is_err());
    }

    #[test]
    fn created_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.token");
        let (t, created) = Token::load_or_create(&path).unwrap();
        assert!(created);
        let (again, created) = Token::load_or_create(&path).unwrap();
        assert!(!created);
        assert!(again.matches(t.secret()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
