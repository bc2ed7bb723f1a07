//! mmCIF: the CIF document reader, coordinates, and reflection blocks (structure factors).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = i2_formats::cif::parse(&text);
    let _ = i2_formats::coords::cif::read_structure(&text);
    let _ = i2_formats::sfcif::parse(&text);
});
