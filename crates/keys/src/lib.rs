//! balai-keys: the key that encrypts an office database at rest.
//!
//! What it does: makes a database key (256 random bits); keeps it in the operating system's key
//! store — the Secret Service on Linux, the Credential Manager on Windows — under the
//! database's path, or, where no key store answers (a headless server), in a key file outside
//! the data folder that only its owner can read; writes the key out as a recovery key a person
//! can copy onto paper, and reads one back with typing mistakes detected.
//!
//! What it does not do: no SQL (balai-store hands the key to SQLCipher), no prompting, no
//! logging: a key never reaches a log, an error message or `Debug` output.

use keyring_core::{CredentialStore, Entry};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The name the key store files Balai's entries under.
const SERVICE: &str = "id.balai.desktop";
/// Crockford's base32: no I, L, O or U, so a handwritten key reads back unambiguously.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Key bytes plus three bytes of its SHA-256: 35 bytes, exactly 56 base32 characters.
const CHECK_BYTES: usize = 3;
const RECOVERY_CHARS: usize = 56;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key store answers (no Secret Service on the session bus, or no session bus).
    #[error("the operating system's key store cannot be reached: {0}")]
    Unavailable(String),
    #[error("the key store refused: {0}")]
    Store(String),
    #[error("a key file cannot be used ({path}): {source}")]
    File { path: PathBuf, source: std::io::Error },
    /// What the store holds for this database is not a key (damaged or written by something else).
    #[error("the stored key of this database is damaged")]
    Damaged,
    #[error("the recovery key is not valid: {0}")]
    BadRecoveryKey(&'static str),
    #[error("BALAI_KEY_STORE must be `os` or `file:DIR`, not `{0}`")]
    BadSetting(String),
}

pub type Result<T, E = KeyError> = std::result::Result<T, E>;

/// A database key. Wiped from memory when dropped; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(…)")
    }
}

impl DbKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> DbKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, bytes.as_mut());
        DbKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DbKey {
        DbKey(Zeroizing::new(bytes))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as a person copies it: 56 characters of Crockford base32 in groups of four,
    /// the last five carrying a check of the rest.
    pub fn recovery_text(&self) -> String {
        let mut data = Zeroizing::new(Vec::with_capacity(32 + CHECK_BYTES));
        data.extend_from_slice(self.bytes());
        data.extend_from_slice(&Sha256::digest(self.bytes())[..CHECK_BYTES]);
        let mut out = String::with_capacity(RECOVERY_CHARS + RECOVERY_CHARS / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for &b in data.iter() {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                push_grouped(&mut out, ALPHABET[((acc >> bits) & 31) as usize]);
            }
        }
        out
    }

    /// Reads a recovery key back: case, spaces and dashes do not matter, and O, I and L are
    /// read as 0, 1 and 1. A mistyped key is refused by its check, never taken as another key.
    pub fn from_recovery_text(text: &str) -> Result<DbKey> {
        let mut data = Zeroizing::new(Vec::with_capacity(32 + CHECK_BYTES));
        let (mut acc, mut bits, mut chars) = (0u32, 0u32, 0usize);
        for c in text.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let v = symbol_value(c)
                .ok_or(KeyError::BadRecoveryKey("a character that is not in a recovery key"))?;
            chars += 1;
            if chars > RECOVERY_CHARS {
                return Err(KeyError::BadRecoveryKey("too long: a recovery key has 56 characters"));
            }
            acc = ((acc << 5) | v) & 0xffff;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                data.push((acc >> bits) as u8);
            }
        }
        if chars < RECOVERY_CHARS {
            return Err(KeyError::BadRecoveryKey("too short: a recovery key has 56 characters"));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&data[..32]);
        let key = DbKey::from_bytes(key);
        if Sha256::digest(key.bytes())[..CHECK_BYTES] != data[32..] {
            return Err(KeyError::BadRecoveryKey(
                "its check does not match: a character is mistyped",
            ));
        }
        Ok(key)
    }
}

fn push_grouped(out: &mut String, symbol: u8) {
    let written = out.chars().filter(|c| *c != '-').count();
    if written > 0 && written % 4 == 0 {
        out.push('-');
    }
    out.push(symbol as char);
}

fn symbol_value(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u32)
}

/// Where database keys are kept.
pub struct KeyStore {
    os: Option<Arc<CredentialStore>>,
    /// Key files: the only place when no OS key store answers, and read as a second place
    /// otherwise, so a key written while the key store was away is still found.
    files: Option<PathBuf>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").field("kind", &self.kind()).finish()
    }
}

impl KeyStore {
    /// As `BALAI_KEY_STORE` says: `os` (the operating system's key store, or an error),
    /// `file:DIR` (key files in DIR), or unset: the operating system's key store when it
    /// answers, else key files in the user's configuration folder.
    pub fn from_env() -> Result<KeyStore> {
        match std::env::var("BALAI_KEY_STORE").ok().as_deref() {
            Some("os") => Ok(KeyStore { os: Some(os_store()?), files: None }),
            Some(s) if s.starts_with("file:") && s.len() > 5 => Ok(KeyStore::files(s[5..].into())),
            Some("") | None => {
                let files = default_key_dir();
                match os_store() {
                    Ok(os) => Ok(KeyStore { os: Some(os), files }),
                    Err(_) => match files {
                        Some(dir) => Ok(KeyStore::files(dir)),
                        None => Err(KeyError::Unavailable(
                            "no key store answers and HOME is not set for a key file".into(),
                        )),
                    },
                }
            }
            Some(other) => Err(KeyError::BadSetting(other.into())),
        }
    }

    /// The operating system's key store only.
    pub fn os() -> Result<KeyStore> {
        Ok(KeyStore { os: Some(os_store()?), files: None })
    }

    /// Key files in `dir` (created, readable by its owner only).
    pub fn files(dir: PathBuf) -> KeyStore {
        KeyStore { os: None, files: Some(dir) }
    }

    /// `os` or `file`: what new keys go into, for the office to see (a key file is weaker:
    /// whoever copies the user's folder has it).
    pub fn kind(&self) -> &'static str {
        if self.os.is_some() {
            "os"
        } else {
            "file"
        }
    }

    /// The key kept for the database at `db`, if any.
    pub fn load(&self, db: &Path) -> Result<Option<DbKey>> {
        let account = account(db);
        if let Some(os) = &self.os {
            let entry = Entry::new_in_store(os, SERVICE, &account).map_err(store_error)?;
            match entry.get_secret() {
                Ok(secret) => return key_from_secret(Zeroizing::new(secret)).map(Some),
                Err(keyring_core::Error::NoEntry) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        if let Some(dir) = &self.files {
            let path = key_file(dir, &account);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let text = Zeroizing::new(text);
                    let bytes =
                        Zeroizing::new(hex::decode(text.trim()).map_err(|_| KeyError::Damaged)?);
                    return key_from_secret(bytes).map(Some);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(KeyError::File { path, source }),
            }
        }
        Ok(None)
    }

    /// Keeps `key` for the database at `db`, replacing what was kept for it.
    pub fn save(&self, db: &Path, key: &DbKey) -> Result<()> {
        let account = account(db);
        if let Some(os) = &self.os {
            let entry = Entry::new_in_store(os, SERVICE, &account).map_err(store_error)?;
            return entry.set_secret(key.bytes()).map_err(store_error);
        }
        let dir =
            self.files.as_ref().ok_or_else(|| KeyError::Unavailable("no key store".into()))?;
        let path = key_file(dir, &account);
        write_private(dir, &path, &Zeroizing::new(hex::encode(key.bytes()) + "\n"))
            .map_err(|source| KeyError::File { path, source })
    }

    /// Removes what is kept for the database at `db` (nothing kept is not an error).
    pub fn forget(&self, db: &Path) -> Result<()> {
        let account = account(db);
        if let Some(os) = &self.os {
            let entry = Entry::new_in_store(os, SERVICE, &account).map_err(store_error)?;
            match entry.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        if let Some(dir) = &self.files {
            let path = key_file(dir, &account);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(KeyError::File { path, source }),
            }
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn os_store() -> Result<Arc<CredentialStore>> {
    let store = dbus_secret_service_keyring_store::Store::new()
        .map_err(|e| KeyError::Unavailable(e.to_string()))?;
    let store: Arc<CredentialStore> = store;
    // Connecting to the bus succeeds without a Secret Service on it: ask it for something.
    let probe = Entry::new_in_store(&store, SERVICE, "probe").map_err(store_error)?;
    match probe.get_secret() {
        Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(store),
        Err(e) => Err(KeyError::Unavailable(e.to_string())),
    }
}

#[cfg(windows)]
fn os_store() -> Result<Arc<CredentialStore>> {
    let store = windows_native_keyring_store::Store::new()
        .map_err(|e| KeyError::Unavailable(e.to_string()))?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", windows)))]
fn os_store() -> Result<Arc<CredentialStore>> {
    Err(KeyError::Unavailable("no key store is supported on this system".into()))
}

/// The store's message, never its data (some errors carry the bytes they could not read).
fn store_error(e: keyring_core::Error) -> KeyError {
    match e {
        keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(..) => {
            KeyError::Damaged
        }
        keyring_core::Error::NoStorageAccess(e) => KeyError::Unavailable(e.to_string()),
        e => KeyError::Store(e.to_string()),
    }
}

fn key_from_secret(secret: Zeroizing<Vec<u8>>) -> Result<DbKey> {
    let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| KeyError::Damaged)?;
    Ok(DbKey::from_bytes(bytes))
}

/// The name a database's key is kept under: its absolute path (of the folder when the file
/// does not exist yet), so two offices' databases on one PC have two keys.
fn account(db: &Path) -> String {
    let absolute = match (db.parent(), db.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            std::fs::canonicalize(dir).map(|d| d.join(name)).unwrap_or_else(|_| db.to_path_buf())
        }
        _ => db.to_path_buf(),
    };
    format!("database:{}", absolute.display())
}

fn key_file(dir: &Path, account: &str) -> PathBuf {
    let digest = Sha256::digest(account.as_bytes());
    dir.join(format!("{}.key", hex::encode(&digest[..16])))
}

fn default_key_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => match std::env::var_os("APPDATA") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
        },
    };
    Some(base.join("balai").join("keys"))
}

/// Writes `text` to `path` readable by its owner only: a new file renamed into place, so a
/// crash leaves the old key or the new one, never half of one.
fn write_private(dir: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("key.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    Ok(())
}
