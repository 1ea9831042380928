//! The Redis protocol as a pub/sub subscriber reads it (the legacy feed's transport): frames
//! parsed in place from the bytes read off the socket, so a message's payload is a range of the
//! read buffer and nothing is copied or allocated per message. Pure (no I/O); the server's Redis
//! source owns the socket.
//!
//! A subscriber receives pushes: `message` (`*3`: kind, channel, payload) and `pmessage`
//! (`*4`: kind, pattern, channel, payload) arrays of bulk strings, the `subscribe`/`psubscribe`
//! confirmations (an integer last), and replies to the commands it sent (`+OK`, `-ERR …`).
//! RESP3's `>` push is read like an array.

use std::ops::Range;

/// Largest bulk string accepted (a payload far beyond any tick; the decoder refuses anything
/// over 16 KiB, but the stream must be read past it).
pub const MAX_BULK: usize = 16 << 20;
/// Most elements in a frame a subscriber expects (pmessage has four).
const MAX_ELEMENTS: usize = 8;

/// Why the bytes are not the protocol a subscriber expects: the connection is to be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespError {
    #[error("Redis replied with an error: {0}")]
    Server(String),
    #[error("protocol error at byte {at}: {why}")]
    Protocol { at: usize, why: &'static str },
}

/// One parsed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A published message; the payload's bytes in the buffer.
    Message {
        channel: Range<usize>,
        payload: Range<usize>,
    },
    /// A subscription confirmation (`subscribe`/`psubscribe`) with the subscription count.
    Subscribed(i64),
    /// Anything else a subscriber may see (`+OK`, `pong`, unsubscribe confirmations).
    Other,
}

enum Elem {
    Bulk(Range<usize>),
    Int(i64),
    Nil,
}

/// The line starting at `at` (without its CRLF) and the position after it; None if incomplete.
fn line(buf: &[u8], at: usize) -> Result<Option<(Range<usize>, usize)>, RespError> {
    let Some(rest) = buf.get(at..) else {
        return Ok(None);
    };
    match rest.iter().position(|b| *b == b'\n') {
        None if rest.len() > 64 * 1024 => Err(RespError::Protocol {
            at,
            why: "line longer than 64 KiB",
        }),
        None => Ok(None),
        Some(i) if i == 0 || rest[i - 1] != b'\r' => Err(RespError::Protocol {
            at,
            why: "line not ended by CRLF",
        }),
        Some(i) => Ok(Some((at..at + i - 1, at + i + 1))),
    }
}

fn int(buf: &[u8], r: Range<usize>) -> Result<i64, RespError> {
    let at = r.start;
    let s = std::str::from_utf8(&buf[r]).map_err(|_| RespError::Protocol {
        at,
        why: "not a number",
    })?;
    s.parse::<i64>().map_err(|_| RespError::Protocol {
        at,
        why: "not a number",
    })
}

/// One element of an array at `at`: a bulk string, an integer or nil.
fn elem(buf: &[u8], at: usize) -> Result<Option<(Elem, usize)>, RespError> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let Some((head, next)) = line(buf, at + 1)? else {
        return Ok(None);
    };
    match kind {
        b'$' => {
            let n = int(buf, head)?;
            if n == -1 {
                return Ok(Some((Elem::Nil, next)));
            }
            let n =
                usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= MAX_BULK)
                    .ok_or(RespError::Protocol {
                        at,
                        why: "bulk string length out of range",
                    })?;
            let end = next + n;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(RespError::Protocol {
                    at: end,
                    why: "bulk string not ended by CRLF",
                });
            }
            Ok(Some((Elem::Bulk(next..end), end + 2)))
        }
        b':' => Ok(Some((Elem::Int(int(buf, head)?), next))),
        b'+' => Ok(Some((Elem::Bulk(head), next))),
        b'_' => Ok(Some((Elem::Nil, next))),
        _ => Err(RespError::Protocol {
            at,
            why: "unexpected type in a pub/sub frame",
        }),
    }
}

/// The frame starting at `at` and the position after it; None while it is incomplete (read
/// more and call again from the same position).
pub fn next_frame(buf: &[u8], at: usize) -> Result<Option<(Frame, usize)>, RespError> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    match kind {
        b'+' => Ok(line(buf, at + 1)?.map(|(_, next)| (Frame::Other, next))),
        b'-' => match line(buf, at + 1)? {
            None => Ok(None),
            Some((r, _)) => Err(RespError::Server(
                String::from_utf8_lossy(&buf[r]).chars().take(200).collect(),
            )),
        },
        b'*' | b'>' => {
            let Some((head, mut pos)) = line(buf, at + 1)? else {
                return Ok(None);
            };
            let n = usize::try_from(int(buf, head)?)
                .ok()
                .filter(|n| (1..=MAX_ELEMENTS).contains(n))
                .ok_or(RespError::Protocol {
                    at,
                    why: "array length out of range for pub/sub",
                })?;
            let mut elems = Vec::with_capacity(n);
            for _ in 0..n {
                let Some((e, next)) = elem(buf, pos)? else {
                    return Ok(None);
                };
                elems.push(e);
                pos = next;
            }
            let kind = match elems.first() {
                Some(Elem::Bulk(r)) => &buf[r.clone()],
                _ => b"".as_slice(),
            };
            let frame = match (kind, elems.as_slice()) {
                (b"message", [_, Elem::Bulk(c), Elem::Bulk(p)])
                | (b"pmessage", [_, _, Elem::Bulk(c), Elem::Bulk(p)]) => Frame::Message {
                    channel: c.clone(),
                    payload: p.clone(),
                },
                (b"subscribe" | b"psubscribe", [_, _, Elem::Int(count)]) => {
                    Frame::Subscribed(*count)
                }
                _ => Frame::Other,
            };
            Ok(Some((frame, pos)))
        }
        _ => Err(RespError::Protocol {
            at,
            why: "unexpected frame type",
        }),
    }
}

/// A command as RESP bulk strings (`PSUBSCRIBE pattern`, `AUTH user pass`).
pub fn command(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pmessage(pattern: &str, channel: &str, payload: &[u8]) -> Vec<u8> {
        let mut v = format!(
            "*4\r\n$8\r\npmessage\r\n${}\r\n{pattern}\r\n${}\r\n{channel}\r\n${}\r\n",
            pattern.len(),
            channel.len(),
            payload.len()
        )
        .into_bytes();
        v.extend_from_slice(payload);
        v.extend_from_slice(b"\r\n");
        v
    }

    fn all(buf: &[u8]) -> Result<(Vec<Frame>, usize), RespError> {
        let mut pos = 0;
        let mut out = Vec::new();
        while let Some((f, next)) = next_frame(buf, pos)? {
            out.push(f);
            pos = next;
        }
        Ok((out, pos))
    }

    #[test]
    fn a_subscription_then_messages() {
        let mut buf = b"+OK\r\n*3\r\n$10\r\npsubscribe\r\n$8\r\nticker:*\r\n:1\r\n".to_vec();
        buf.extend(pmessage("ticker:*", "ticker:nifty:options", b"{\"a\": 1}"));
        buf.extend(b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$0\r\n\r\n");
        let (frames, used) = all(&buf).unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(frames[0], Frame::Other);
        assert_eq!(frames[1], Frame::Subscribed(1));
        let Frame::Message { channel, payload } = &frames[2] else {
            panic!("{frames:?}")
        };
        assert_eq!(&buf[channel.clone()], b"ticker:nifty:options");
        assert_eq!(&buf[payload.clone()], b"{\"a\": 1}");
        let Frame::Message { payload, .. } = &frames[3] else {
            panic!("{frames:?}")
        };
        assert!(payload.is_empty());
    }

    /// Split anywhere, a stream parses to the same frames: incomplete frames wait for more.
    #[test]
    fn frames_split_at_every_byte() {
        let mut buf = Vec::new();
        for i in 0..5 {
            buf.extend(pmessage(
                "p:*",
                "p:x",
                format!("payload {i} with \r\n inside").as_bytes(),
            ));
        }
        let (whole, _) = all(&buf).unwrap();
        for cut in 0..buf.len() {
            let (first, used) = all(&buf[..cut]).unwrap();
            let (rest, _) = all(&buf[used..]).unwrap();
            let shifted: Vec<Frame> = rest
                .into_iter()
                .map(|f| match f {
                    Frame::Message { channel, payload } => Frame::Message {
                        channel: channel.start + used..channel.end + used,
                        payload: payload.start + used..payload.end + used,
                    },
                    other => other,
                })
                .collect();
            assert_eq!([first, shifted].concat(), whole, "cut at {cut}");
        }
    }

    #[test]
    fn errors_and_garbage_are_refused() {
        assert_eq!(
            next_frame(b"-WRONGPASS invalid username-password pair\r\n", 0),
            Err(RespError::Server(
                "WRONGPASS invalid username-password pair".into()
            ))
        );
        for bad in [
            &b"?x\r\n"[..],
            b"*0\r\n",
            b"*99\r\n",
            b"*1\r\n$-5\r\n",
            b"*1\r\n$99999999999\r\n",
            b"*1\r\n$3\r\nabcd\r\n",
            b"*x\r\n",
            b"+OK\n",
            b"*1\r\n*1\r\n",
        ] {
            assert!(
                matches!(next_frame(bad, 0), Err(RespError::Protocol { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            command(&[b"PSUBSCRIBE", b"t:*"]),
            b"*2\r\n$10\r\nPSUBSCRIBE\r\n$3\r\nt:*\r\n"
        );
    }

    proptest! {
        /// Arbitrary bytes never panic; a frame's ranges are always inside the buffer.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut pos = 0;
            while let Ok(Some((f, next))) = next_frame(&bytes, pos) {
                prop_assert!(next > pos && next <= bytes.len());
                if let Frame::Message { channel, payload } = f {
                    prop_assert!(channel.end <= bytes.len() && payload.end <= bytes.len());
                }
                pos = next;
            }
        }
    }
}
