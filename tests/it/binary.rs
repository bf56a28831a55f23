//! The built executable itself: what `build.rs` promises of it (docs/performance.md, "Where the
//! memory goes"), read from its ELF headers.

/// On Linux with glibc the binary carries its relative relocations packed (`DT_RELR`): the
/// loader reads a few KiB of them at every start instead of hundreds of KiB of `RELA`.
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
#[test]
fn the_binary_is_linked_with_packed_relative_relocations() {
    let elf = std::fs::read(env!("CARGO_BIN_EXE_aepact")).unwrap();
    let dynamic = dynamic_entries(&elf);
    let value = |tag: u64| dynamic.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    const DT_RELASZ: u64 = 8;
    const DT_RELRSZ: u64 = 35;
    const DT_RELR: u64 = 36;
    assert!(value(DT_RELR).is_some(), "no DT_RELR: {dynamic:?}");
    let rela = value(DT_RELASZ).unwrap_or(0);
    let relr = value(DT_RELRSZ).unwrap_or(0);
    assert!(relr > 0, "an empty DT_RELR table");
    // What is left in RELA are the few relocations against symbols (libc's, the TLS ones).
    assert!(rela < 64 * 1024, "RELA still holds {rela} bytes");
}

/// The (tag, value) pairs of a 64-bit little-endian ELF file's dynamic section.
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
fn dynamic_entries(elf: &[u8]) -> Vec<(u64, u64)> {
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF file");
    assert_eq!(elf[5], 1, "not little-endian");
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    const PT_DYNAMIC: u32 = 2;
    let header = (0..phnum)
        .map(|i| phoff + i * phentsize)
        .find(|&h| u32_at(h) == PT_DYNAMIC)
        .expect("no dynamic segment");
    let (offset, size) = (u64_at(header + 8) as usize, u64_at(header + 32) as usize);
    (offset..offset + size)
        .step_by(16)
        .map(|at| (u64_at(at), u64_at(at + 8)))
        .take_while(|(tag, _)| *tag != 0)
        .collect()
}
