//! Field-level validation errors: a stable machine code for the UI and an Indonesian message
//! for people. The UI translates by `code`; `message` is the Indonesian default.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name as the API and the UI know it, e.g. `nip` or `kelurahan_code`.
    pub field: String,
    /// Stable machine code, e.g. `nip_length`. Never changes meaning once shipped.
    pub code: String,
    /// Human message in Bahasa Indonesia.
    pub message: String,
}

/// An accumulating list, so a form gets every problem at once instead of one per submit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), code: code.into(), message: message.into() });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok(())` when nothing was pushed.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

/// Checks a required free-text field: trimmed, non-empty, at most `max` characters.
pub fn required_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    let v = value.trim();
    if v.is_empty() {
        errors.push(field, "required", "Wajib diisi.");
    } else if v.chars().count() > max {
        errors.push(field, "too_long", format!("Paling banyak {max} karakter."));
    }
}

/// Checks an optional free-text field's length.
pub fn optional_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if value.trim().chars().count() > max {
        errors.push(field, "too_long", format!("Paling banyak {max} karakter."));
    }
}
