//! The server side shared by `secretgated` and the `pre-receive` hook: the server
//! configuration, the request/response protocol over the daemon's socket, the verdict on a
//! push (with bypasses), and the audit log. The hook's in-process fallback uses the same
//! pieces, so a push gets the same verdict whichever of the two scanned it.

pub mod audit;
pub mod config;
pub mod protocol;
pub mod serve;
pub mod verdict;
