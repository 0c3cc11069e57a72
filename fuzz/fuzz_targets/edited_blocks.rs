#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    artoken_fuzz::checks::run("edited_blocks", data);
});
