//! One module per area of the app. Each exports plain functions
//! `fn(&App, &Ctx, Args) -> Result<Out, ApiError>` listed in `crate::commands::COMMANDS`.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod conflicts;
pub mod contest;
pub mod demo;
pub mod import;
pub mod info;
pub mod letters;
pub mod print;
pub mod privacy;
pub mod profile;
pub mod reports;
pub mod requests;
pub mod residents;
mod scan;
pub mod security;
pub mod settings;
pub mod setup;
pub mod signatories;
pub mod sync;
pub mod users;

/// The arguments of a command that takes none (an empty object; anything else is refused).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}
