//! Turning what people type into keys that compare equal when they mean the
//! same thing: phone numbers, e-mail addresses, company names. Used to match
//! records exactly (Find or Create) and to keep a multi-value field free of
//! repeats (adding a phone a contact already has).

pub mod email;
pub mod name;
pub mod phone;

pub use phone::Country;
