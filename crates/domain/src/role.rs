//! The duties of an office, which decide what a user may do (UU PDP: access by duty).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Keeps the office's settings and user accounts.
    Admin,
    /// Head of the kelurahan: approves and signs letters, tracks the scorecards.
    Lurah,
    /// Secretary: verifies requests, may sign "a.n. Lurah".
    Sekretaris,
    /// Clerk at the counter (petugas pelayanan).
    Petugas,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Lurah, Role::Sekretaris, Role::Petugas];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lurah => "lurah",
            Role::Sekretaris => "sekretaris",
            Role::Petugas => "petugas",
        }
    }

    /// The Indonesian label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Lurah => "Lurah",
            Role::Sekretaris => "Sekretaris Kelurahan",
            Role::Petugas => "Petugas Pelayanan",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected admin, lurah, sekretaris or petugas)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(UnknownRole(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!(" Lurah ".parse::<Role>(), Ok(Role::Lurah));
        assert!("camat".parse::<Role>().is_err());
    }
}
