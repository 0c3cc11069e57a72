//! SigV4 verification of control-plane requests against the known access keys.
