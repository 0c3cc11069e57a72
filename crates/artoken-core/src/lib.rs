//! artoken core.
