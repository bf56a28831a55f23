//! Links the `aepact` binary with packed relative relocations (`DT_RELR`) on Linux with glibc.
//!
//! The binary is position-independent, and its 18,000-odd pointers in read-only data each had
//! a 24-byte `RELA` entry (420 KiB) that the loader reads at every start, `validate` of one
//! file included; `DT_RELR` packs them into about 5 KiB. Measured in docs/performance.md
//! ("Where the memory goes"): 0.2 to 0.4 MiB less resident memory at 10,000 plans.
//! glibc reads `DT_RELR` since 2.36, and the linker marks the binary as needing that (a
//! clear loader error on an older glibc, never a wrong start); GNU ld before 2.38 ignores the
//! flag with a warning, and the binary is then linked as before.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
