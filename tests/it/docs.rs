//! The documentation lists every diagnostic code.

use crate::common::repo_root;

#[test]
fn docs_list_every_diagnostic_code() {
    let docs = std::fs::read_to_string(repo_root().join("docs/validate.md")).unwrap();
    for code in aepact::plan::Code::ALL {
        assert!(
            docs.contains(&format!("| `{}` |", code.as_str())),
            "docs/validate.md does not describe `{code}`"
        );
    }
}
