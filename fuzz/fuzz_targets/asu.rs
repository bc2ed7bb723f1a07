//! CCP4i2 ASU-contents XML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = i2_formats::asu::parse(&text);
});
