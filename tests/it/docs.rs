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

/// Every reason a plan can be refused for is in the table of docs/workflow.md.
#[test]
fn docs_list_every_refusal_reason() {
    let docs = std::fs::read_to_string(repo_root().join("docs/workflow.md")).unwrap();
    for code in aepact::planner::decide::codes::ALL {
        assert!(
            docs.contains(&format!("| `{code}` |")),
            "docs/workflow.md does not describe refusal `{code}`"
        );
    }
}
