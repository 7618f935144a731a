//! One error type for the engine. Messages say what went wrong and where (byte offsets, tags), never a
//! value from the file. They become strings only at the platform boundary (CLI, wasm).

use crate::dicom::CodecError;

#[derive(Debug, thiserror::Error)]
pub enum DeidError {
    #[error("cannot read the file: {0}")]
    Parse(#[source] CodecError),
    #[error("cannot write the de-identified file: {0}")]
    Write(#[source] CodecError),
    #[error("character set problem: {0}")]
    Charset(String),
    #[error("the Patient ID of this file is not in the subject mapping table")]
    NotInSubjectMap,
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("the file cannot be de-identified safely: {0}")]
    Invalid(String),
    #[error("not processed: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Pixels(#[from] crate::pixel::PixelError),
}

impl DeidError {
    /// A short machine-readable kind, used by the report and the wasm boundary.
    pub fn kind(&self) -> &'static str {
        match self {
            DeidError::Parse(crate::dicom::CodecError::NotDicom) => "not_dicom",
            DeidError::Parse(_) => "parse",
            DeidError::Write(_) => "write",
            DeidError::Charset(_) => "charset",
            DeidError::NotInSubjectMap => "not_in_subject_map",
            DeidError::Config(_) => "config",
            DeidError::Invalid(_) => "invalid",
            DeidError::Unsupported(_) => "unsupported",
            DeidError::Pixels(crate::pixel::PixelError::Image(_)) => "pixels_undecodable",
            DeidError::Pixels(_) => "pixels",
        }
    }
}
