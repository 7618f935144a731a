//! # dicom-deid
//!
//! De-identification of DICOM files under PS3.15 Annex E (2026c). The core knows no platform: bytes
//! in, bytes and a report out ([`Engine::process`]). Front ends: the `dicom-deid` CLI (feature `cli`)
//! and the WebAssembly module.
//!
//! Data flows one way: [`dicom::parse`] → [`Engine::decide`] for every element (the plan,
//! [`Engine::classify`]) → apply → [`dicom::write`] → bytes + [`report::FileReport`].

pub mod charset;
pub mod config;
pub mod dates;
pub mod deid;
pub mod dicom;
pub mod embedded;
pub mod error;
pub mod profile;
pub mod pseudonym;
pub mod report;
#[cfg(feature = "pixel")]
pub mod ocr;
pub mod pixel;
pub mod text;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use config::{Config, ConfigInput, SubjectMap};
pub use deid::{Action, Decision, Engine, Output, PlannedElement};
pub use error::DeidError;
pub use pseudonym::Key;
pub use report::{FileReport, Report, Status};
