//! The fuzz targets' properties (see `checks`), compiled with cargo fuzz.

pub mod checks;
