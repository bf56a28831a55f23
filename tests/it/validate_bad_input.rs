//! Placeholder so the test binary compiles on the `emulator` branch: `tests/it/main.rs`
//! declares this module, and main's version of this file replaces it when the branches merge.
