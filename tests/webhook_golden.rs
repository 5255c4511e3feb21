//! Golden files: webhook bodies in the shapes amoCRM sends
//! (`tests/fixtures/webhooks/*.form`) and the items the trigger emits for
//! them, normalised (`*.json`) and as sent (`*.raw.json`). Run with
//! `UPDATE_GOLDEN=1` to rewrite the expected files after a deliberate change,
//! then review the diff.

use std::fs;
use std::path::{Path, PathBuf};

use amocrm_core::webhook::{parse, Options};
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks");
    let mut forms: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("fixtures folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "form"))
        .collect();
    forms.sort();
    assert!(!forms.is_empty(), "no .form files in {}", dir.display());
    forms
}

fn check(form: &Path, normalize: bool, suffix: &str) {
    let body = fs::read(form).expect("readable fixture");
    let events = parse(&body, Options { normalize }).unwrap_or_else(|e| panic!("{}: {e}", form.display()));
    let got = serde_json::to_string_pretty(&Value::Array(events)).expect("serialisable") + "\n";
    let expected_path = form.with_extension(suffix);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&expected_path, &got).expect("writable golden file");
        return;
    }
    let expected = fs::read_to_string(&expected_path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1", expected_path.display()));
    assert_eq!(
        got,
        expected,
        "{} differs from {}",
        form.display(),
        expected_path.display()
    );
}

#[test]
fn normalised_items_match_the_golden_files() {
    for form in fixtures() {
        check(&form, true, "json");
    }
}

#[test]
fn raw_items_match_the_golden_files() {
    for form in fixtures() {
        check(&form, false, "raw.json");
    }
}
