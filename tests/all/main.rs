//! The integration tests: one binary, with helpers in `util`.
mod util;

mod cli;
mod corpus;
mod malformed;
mod phi_injection;
mod pixels;
mod profile_rows;
mod synthetic;
