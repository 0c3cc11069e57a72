//! Builds small real packages on the fly: a pure-Python wheel and an npm tarball.
