//! Fuzzes the LLRP stream decoder and message decoder: the input (split into chunk sizes and
//! a byte stream by `shelfd_fuzz::split_input`) is fed to a `MessageStream` with a 4 KiB
//! maximum in those chunks; a framing error skips one byte (as `shelfd decode` resynchronises).
//! Nothing may panic, the stream never holds more than the maximum plus one chunk, and every
//! message that decodes re-encodes to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_readers::llrp::codec::MessageStream;
use shelfd_readers::llrp::message::Message;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let (sizes, stream) = shelfd_fuzz::split_input(data);
    let mut s = MessageStream::new(MAX);
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let end = (at + sizes[i % sizes.len()]).min(stream.len());
        s.feed(&stream[at..end]);
        at = end;
        i += 1;
        while let Some(item) = s.next_message() {
            match item {
                Err(_) => s.skip(1),
                Ok((_, raw)) => {
                    if let Ok(m) = Message::decode(&raw) {
                        let bytes = m.encode(raw.version, raw.id);
                        let mut again = MessageStream::new(1 << 20);
                        again.feed(&bytes);
                        let (_, raw2) = again.next_message().expect("one message").expect("framed");
                        assert_eq!(Message::decode(&raw2).expect("re-decodes"), m);
                    }
                }
            }
        }
        assert!(s.buffered() <= MAX + 257);
    }
});
