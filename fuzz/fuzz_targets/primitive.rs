#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mts::fuzzing::primitive(data));
