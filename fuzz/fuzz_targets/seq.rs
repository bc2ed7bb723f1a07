//! Sequence files (FASTA, PIR, plain) and alignments (clustal, fasta, phylip, stockholm).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = i2_formats::seq::parse(&text, false);
    let _ = i2_formats::seq::parse(&text, true);
    let _ = i2_formats::align::identify_bytes(data);
});
