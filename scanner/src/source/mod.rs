//! Inputs: where the bytes to scan come from. Sources enumerate and read; they hand bytes
//! to a [`crate::scan::Scanner`] and collect what it finds.

pub mod files;
pub mod git;
pub mod walk;
