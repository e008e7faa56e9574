//! Embeds every `rules/*.toml` file into the crate, so the built-in rule set ships inside
//! the binary and adding a rule file needs no code change.

use std::{env, fs, path::Path};

fn main() {
    let rules_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    let mut files: Vec<_> = fs::read_dir(&rules_dir)
        .expect("patterns/rules must exist: it holds the built-in rule set")
        .map(|entry| entry.expect("patterns/rules is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut generated = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        generated.push_str(&format!("    (\"{name}\", include_str!({:?})),\n", path.display().to_string()));
    }
    generated.push(']');
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_files.rs");
    fs::write(out, generated).expect("OUT_DIR is writable");
}
