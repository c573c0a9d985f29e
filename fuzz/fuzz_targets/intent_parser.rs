//! Feeds arbitrary text to the ML intent parser: it must return an intent or an error,
//! never panic, loop or blow up (alias bombs, deep nesting).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ai4ict_intent::MlIntent::from_yaml(text);
    }
});
