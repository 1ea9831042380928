//! Arbitrary bytes as a Redis pub/sub stream, fed in pieces: the frame parser never panics,
//! every range it returns is inside the buffer, and parsing in pieces gives the same frames as
//! parsing the whole.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stocksblitz_market::resp::{Frame, next_frame};

fn parse(buf: &[u8]) -> (Vec<Frame>, usize) {
    let mut pos = 0;
    let mut out = Vec::new();
    while let Ok(Some((f, next))) = next_frame(buf, pos) {
        assert!(next > pos && next <= buf.len());
        if let Frame::Message { channel, payload } = &f {
            assert!(channel.end <= buf.len() && payload.end <= buf.len());
        }
        out.push(f);
        pos = next;
    }
    (out, pos)
}

fuzz_target!(|data: &[u8]| {
    let (whole, used) = parse(data);
    if let Some(&cut) = data.first() {
        let cut = usize::from(cut) % (used + 1);
        let (a, ua) = parse(&data[..cut]);
        let (b, _) = parse(&data[ua..used]);
        assert_eq!(a.len() + b.len(), whole.len());
    }
});
