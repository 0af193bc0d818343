//! One module per area of the app. Each exports plain functions
//! `fn(&App, &Ctx, Args) -> Result<Out, ApiError>` listed in `crate::commands::COMMANDS`.

pub mod audit;
pub mod auth;
pub mod demo;
pub mod import;
pub mod info;
pub mod letters;
pub mod profile;
pub mod reports;
pub mod residents;
mod scan;
pub mod settings;
pub mod signatories;
pub mod users;
