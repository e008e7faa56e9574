//! The daemon's protocol: one request and one response per connection, each a JSON document
//! preceded by its length (4 bytes, big-endian). Versioned, and bounded in size so that a
//! confused or hostile client cannot make the daemon allocate without limit.

use std::io::{Read, Write};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{
    source::git::receive::{Quarantine, RefUpdate},
    Finding,
};

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// The largest message either side accepts: a push of 40,000 refs is a request of ~4 MiB,
/// and a reject lists at most [`MAX_LISTED_FINDINGS`] findings.
pub const MAX_MESSAGE: usize = 32 << 20;

/// The most findings a response carries (the audit log has every fingerprint): thousands of
/// matches in one crafted file must not make the answer too large to send, which the hook
/// would read as a daemon that did not answer.
pub const MAX_LISTED_FINDINGS: usize = 1000;

/// What the hook asks: scan this push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// [`VERSION`].
    pub version: u32,
    /// The repository (absolute path of its git directory).
    pub repo: std::path::PathBuf,
    /// Where the pushed objects wait.
    pub quarantine: Quarantine,
    /// The ref updates.
    pub updates: Vec<RefUpdate>,
    /// `git push -o` options.
    #[serde(default)]
    pub push_options: Vec<String>,
    /// Who pushes, from the environment the git server sets (`GL_USERNAME`,
    /// `GITEA_PUSHER_NAME`, `REMOTE_USER`, `USER`...).
    #[serde(default)]
    pub pusher: Option<String>,
}

/// The daemon's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Let the push in.
    Accept,
    /// Refuse it.
    Reject,
}

/// What the daemon answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// [`VERSION`].
    pub version: u32,
    /// The verdict; `None` with `error` set when the request could not be served.
    pub verdict: Option<Verdict>,
    /// Lines for the pusher (shown as `remote:` lines).
    #[serde(default)]
    pub message: Vec<String>,
    /// The findings, secrets redacted: the first [`MAX_LISTED_FINDINGS`].
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Why the request could not be served.
    #[serde(default)]
    pub error: Option<String>,
}

impl Response {
    /// An answer saying the request could not be served.
    pub fn error(message: impl Into<String>) -> Self {
        Response {
            version: VERSION,
            verdict: None,
            message: Vec::new(),
            findings: Vec::new(),
            error: Some(message.into()),
        }
    }
}

/// A message that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The connection failed or timed out.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The message is larger than [`MAX_MESSAGE`].
    #[error("message of {0} bytes is larger than the limit of {MAX_MESSAGE}")]
    TooLarge(usize),
    /// The message is not the JSON expected.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The peer speaks another version.
    #[error("protocol version {0} is not supported (this build speaks {VERSION})")]
    Version(u32),
}

/// Writes one message.
pub fn write_message<T: Serialize>(out: &mut impl Write, message: &T) -> Result<(), ProtocolError> {
    let body = serde_json::to_vec(message).map_err(|err| ProtocolError::Malformed(err.to_string()))?;
    if body.len() > MAX_MESSAGE {
        return Err(ProtocolError::TooLarge(body.len()));
    }
    out.write_all(&(body.len() as u32).to_be_bytes())?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(())
}

/// Reads one message, refusing anything over [`MAX_MESSAGE`] before allocating for it.
pub fn read_message<T: DeserializeOwned>(input: &mut impl Read) -> Result<T, ProtocolError> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_MESSAGE {
        return Err(ProtocolError::TooLarge(len));
    }
    let mut body = vec![0u8; len];
    input.read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(|err| ProtocolError::Malformed(err.to_string()))
}

/// Reads a request and checks its version.
pub fn read_request(input: &mut impl Read) -> Result<Request, ProtocolError> {
    let request: Request = read_message(input)?;
    if request.version != VERSION {
        return Err(ProtocolError::Version(request.version));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request() -> Request {
        Request {
            version: VERSION,
            repo: "/srv/git/a.git".into(),
            quarantine: Quarantine::default(),
            updates: vec![RefUpdate {
                old: "0".repeat(40),
                new: "a".repeat(40),
                name: "refs/heads/main".into(),
            }],
            push_options: vec!["secretgate.bypass=test".into()],
            pusher: Some("ada".into()),
        }
    }

    #[test]
    fn round_trips() {
        let mut buffer = Vec::new();
        write_message(&mut buffer, &request()).unwrap();
        assert_eq!(read_request(&mut buffer.as_slice()).unwrap(), request());
    }

    #[test]
    fn oversized_wrong_version_and_truncated_messages_are_refused() {
        let huge = ((MAX_MESSAGE + 1) as u32).to_be_bytes();
        assert!(matches!(read_message::<Request>(&mut &huge[..]), Err(ProtocolError::TooLarge(_))));
        let mut old = request();
        old.version = 99;
        let mut buffer = Vec::new();
        write_message(&mut buffer, &old).unwrap();
        assert!(matches!(read_request(&mut buffer.as_slice()), Err(ProtocolError::Version(99))));
        assert!(matches!(read_request(&mut &buffer[..10]), Err(ProtocolError::Io(_))));
    }

    proptest! {
        /// Any bytes give a request or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_request(&mut bytes.as_slice());
            let mut framed = (bytes.len() as u32).to_be_bytes().to_vec();
            framed.extend(&bytes);
            prop_assert!(read_request(&mut framed.as_slice()).is_err() || !bytes.is_empty());
        }
    }
}
